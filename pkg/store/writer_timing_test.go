package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// BenchmarkWriter submits one-record requests from parallel goroutines
// through the group-commit writer into a real Badger store.
func BenchmarkWriter(b *testing.B) {
	for _, mode := range []struct {
		name string
		d    store.Durability
		sync bool
	}{{"sync", store.Sync, true}, {"async", store.Async, false}} {
		b.Run(mode.name, func(b *testing.B) {
			s, err := badger.Open(badger.Config{Dir: b.TempDir(), SyncWrites: mode.sync}, quiet)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			w := store.NewWriter(s, store.WriterConfig{Mode: mode.d}, quiet)
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					r := record(byte(i%200), fmt.Sprint(i), uint32(i))
					for w.Submit(ctx, []store.Record{r}) == store.ErrOverloaded {
					}
				}
			})
			if err := w.Close(ctx); err != nil {
				b.Fatal(err)
			}
			st := w.Stats()
			b.ReportMetric(float64(st.Records)/float64(max(st.Groups, 1)), "records/group")
		})
	}
}
