package sdk

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// idleClient is a client whose worker is not started: the benchmarks of
// Track measure what the caller pays (id, seq, time, queue), with no worker
// competing for the CPU. The queue is emptied outside the timer.
func idleClient(b *testing.B) *Client {
	cfg := Config{Endpoint: "http://127.0.0.1:1", Site: "s", WriteKey: "k", QueueSize: 1 << 16}.withDefaults()
	if err := cfg.validate(); err != nil {
		b.Fatal(err)
	}
	return newClient(cfg)
}

func BenchmarkTrack(b *testing.B) {
	c := idleClient(b)
	v, _ := event.ParseVisitor("0123456789abcdef0123456789abcdef")
	e := Event{Type: event.TypePageview, Visitor: v, URL: "https://shop.example/", Results: -1}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Track(e); err != nil {
			b.StopTimer()
			for len(c.q) > 0 {
				<-c.q
				c.inbox.Add(-1)
			}
			b.StartTimer()
		}
	}
}

// BenchmarkTrackParallel is Track from every P, one visitor each, into a
// queue a draining goroutine keeps from filling.
func BenchmarkTrackParallel(b *testing.B) {
	c := idleClient(b)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-c.q:
			case <-stop:
				return
			}
		}
	}()
	b.ReportAllocs()
	var drops, calls int64
	b.RunParallel(func(pb *testing.PB) {
		v := event.VisitorID{15: 1}
		v[0] = byte(time.Now().UnixNano())
		e := Event{Type: event.TypePageview, Visitor: v, URL: "https://shop.example/", Results: -1}
		var d, n int64
		for pb.Next() {
			n++
			if c.Track(e) != nil {
				d++
			}
		}
		c.seqMu.Lock()
		drops, calls = drops+d, calls+n
		c.seqMu.Unlock()
	})
	b.ReportMetric(100*float64(drops)/float64(max(calls, 1)), "drop%")
}

// BenchmarkEndToEnd measures events/s from Track to stored (sync
// durability, the collector's default) on a local collector.
func BenchmarkEndToEnd(b *testing.B) {
	col := collectortest.Start(b, collectortest.Options{})
	c, err := New(Config{Endpoint: col.URL, Site: collectortest.Site, WriteKey: collectortest.WriteKey,
		QueueSize: 1 << 17, MaxInFlight: 4, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	b.ReportAllocs()
	v := event.VisitorID{15: 1} // never the zero id
	start := time.Now()
	i := 0
	for b.Loop() {
		v[0], v[1] = byte(i), byte(i>>8) // 65536 visitors, round robin
		i++
		e := Event{Type: event.TypePageview, Visitor: v, URL: "https://shop.example/products/blue-shoes", Results: -1}
		for {
			err := c.Track(e)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrQueueFull) {
				b.Fatal(err)
			}
			time.Sleep(100 * time.Microsecond) // let the worker catch up
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if st := c.Stats(); st.Failed != 0 {
		b.Fatalf("stats %+v", st)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
