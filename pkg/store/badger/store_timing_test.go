package badger_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// typical is a page view as the collector stores it: enriched, with a
// 32-hex id.
func typical(v event.VisitorID, i int) event.Touchpoint {
	tp := eventAt(v, fmt.Sprintf("%032x", i), time.Duration(i)*time.Second, uint32(i))
	tp.URL = fmt.Sprintf("https://shop.example/products/%d?ref=home", i%50)
	tp.Title = "Product page"
	tp.Referrer = "https://www.google.com/"
	tp.Browser, tp.BrowserVersion, tp.OS, tp.OSVersion = "Chrome", "131.0", "Windows", "10"
	tp.Device, tp.Channel = event.DeviceDesktop, event.ChannelSearch
	tp.Country, tp.Region, tp.City = "DE", "BE", "Berlin"
	tp.Session = "s1"
	return tp
}

// BenchmarkWrite writes groups of 1, 100 and 1000 new touchpoints (100
// visitors) with Store.Write, as the Writer hands them over, without and
// with an fsync per commit, in format 3 and (to compare in the same run)
// format 2. ns/op is one group.
func BenchmarkWrite(b *testing.B) {
	for _, sync := range []bool{false, true} {
		for _, size := range []int{1, 100, 1000} {
			for _, format := range []int{3, 2} {
				b.Run(fmt.Sprintf("sync=%t/group=%d/format=%d", sync, size, format), func(b *testing.B) {
					benchWrite(b, sync, size, format)
				})
			}
		}
	}
}

func benchWrite(b *testing.B, sync bool, size, format int) {
	s, err := badger.Open(badger.Config{Dir: b.TempDir(), SyncWrites: sync}, quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if format == 2 {
		badger.WriteFormat2(s)
	}
	recs := make([]store.Record, size)
	var slab []byte
	n, bytes := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		slab = slab[:0:0] // the records keep their values: a fresh slab
		for i := range recs {
			tp := typical(event.VisitorID{0: 1, 15: byte(n % 100)}, n)
			recs[i] = store.NewRecord(&tp, &slab)
			n++
		}
		bytes = len(slab)
		b.StartTimer()
		if _, err := s.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(bytes))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
}

// BenchmarkTrail reads whole trails of 10, 100 and 1000 touchpoints in
// one page (the store is flushed to tables first, so reads decompress
// blocks as they would after a while; the block cache is warm), written in
// format 3 and, to compare in the same run, in format 2.
func BenchmarkTrail(b *testing.B) {
	for _, c := range []struct {
		format int
		size   int
	}{{3, 10}, {2, 10}, {3, 100}, {2, 100}, {3, 1000}, {2, 1000}} {
		size := c.size
		b.Run(fmt.Sprintf("touchpoints=%d/format=%d", size, c.format), func(b *testing.B) {
			dir := b.TempDir()
			s, err := badger.Open(badger.Config{Dir: dir}, quiet)
			if err != nil {
				b.Fatal(err)
			}
			if c.format == 2 {
				badger.WriteFormat2(s)
			}
			// 50 visitors, so a trail's blocks hold others' keys too.
			var slab []byte
			for v := range 50 {
				recs := make([]store.Record, 0, size)
				slab = slab[:0:0]
				for i := range size {
					tp := typical(event.VisitorID{0: 1, 15: byte(v)}, i)
					recs = append(recs, store.NewRecord(&tp, &slab))
				}
				if _, err := s.Write(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
			s, err = badger.Open(badger.Config{Dir: dir}, quiet) // memtables are now tables
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			v := event.VisitorID{0: 1, 15: 25}
			q := store.TrailQuery{Limit: store.MaxLimit}
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.Trail(ctx, "s1", v, q)
				if err != nil || len(page.Touchpoints) != size {
					b.Fatalf("%d touchpoints, %v", len(page.Touchpoints), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/touchpoint")
		})
	}
}
