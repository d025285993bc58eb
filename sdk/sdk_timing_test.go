package sdk_test

import (
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/sdk"
)

// BenchmarkEndToEnd measures events/s from Track to stored (sync
// durability) on a local collector.
func BenchmarkEndToEnd(b *testing.B) {
	col := collectortest.Start(b, collectortest.Options{})
	c, err := sdk.New(sdk.Config{Endpoint: col.URL, Site: collectortest.Site, WriteKey: collectortest.WriteKey,
		QueueSize: 1 << 20, MaxInFlight: 4, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	v, _ := event.ParseVisitor("0123456789abcdef0123456789abcdef")
	e := sdk.Event{Type: event.TypePageview, Visitor: v, URL: "https://shop.example/", Results: -1}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		for c.Track(e) != nil {
			time.Sleep(time.Millisecond)
		}
	}
	if err := c.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
