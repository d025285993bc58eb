package badger_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// BenchmarkJourneyScan runs a funnel and the friction signals over 140,000
// generated visitors (about 1.2 million touchpoints) in a real Badger store,
// as GET …/funnel and …/friction do: one ScanTrails pass feeding the
// accumulators. Loading the store is not timed.
func BenchmarkJourneyScan(b *testing.B) {
	for _, cache := range []int64{32 << 20, 256 << 20} {
		b.Run(fmt.Sprintf("blockcache=%dMB", cache>>20), func(b *testing.B) { benchmarkJourneyScan(b, cache) })
	}
}

func benchmarkJourneyScan(b *testing.B, blockCache int64) {
	s, err := badger.Open(badger.Config{Dir: b.TempDir(), BlockCacheSize: blockCache}, quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	opts := journeytest.Options{Site: "s1"}
	visitors, touchpoints := 0, 0
	for chunk := int64(0); chunk < 14; chunk++ {
		vs, truth := journeytest.Generate(100+chunk, 10_000, opts)
		if err := journeytest.Load(context.Background(), s, "s1", vs); err != nil {
			b.Fatal(err)
		}
		visitors += truth.Visitors
		touchpoints += truth.Touchpoints
	}
	steps, _ := journey.ParseSteps(journeytest.FunnelSteps)
	cfg := journey.DefaultConfig()
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), opts.End()
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	var scanned int
	for b.Loop() {
		f := journey.NewFunnel(steps, 24*time.Hour)
		fr := journey.NewFriction(cfg)
		scanned = 0
		err := s.ScanTrails(context.Background(), "s1", from, to, func(v event.VisitorID, trail []event.Touchpoint) error {
			scanned++
			w := journey.Window(trail, from, to)
			f.Add(w)
			fr.Add(v, w)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		_ = f.Result()
		_ = fr.Result(5)
	}
	if scanned != visitors {
		b.Fatalf("scanned %d visitors, loaded %d", scanned, visitors)
	}
	b.ReportMetric(float64(touchpoints), "touchpoints")
	b.ReportMetric(float64(visitors), "visitors")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/scan")
}
