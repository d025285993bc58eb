package enrich_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// BenchmarkEnrich measures a page view with a UTM-tagged URL and a search
// referrer: hit (user agent and address cached), hit-parallel (the same on
// all cores, sharing the caches), and miss (neither cached: every user
// agent parsed, every address decoded from the database).
func BenchmarkEnrich(b *testing.B) {
	path := filepath.Join(b.TempDir(), "city.mmdb")
	geotest.WriteCityDB(b, path, map[string]geotest.City{"81.0.0.0/8": {Country: "GB", Region: "ENG", City: "London"}})
	e := newEnricher(b, enrich.Config{GeoDB: path})
	const (
		url = "https://shop.example/pricing?utm_source=news&utm_medium=email&utm_campaign=nov"
		ref = "https://www.google.com/"
	)
	ip := netip.MustParseAddr("81.2.69.160")
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		tp := event.Touchpoint{Type: event.TypePageview, URL: url, Referrer: ref}
		for b.Loop() {
			tp.ClientIP, tp.UserAgent = ip, chrome
			if err := e.Enrich(&tp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			tp := event.Touchpoint{Type: event.TypePageview, URL: url, Referrer: ref}
			for pb.Next() {
				tp.ClientIP, tp.UserAgent = ip, chrome
				if err := e.Enrich(&tp); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		uas := make([]string, 2*enrich.DefaultUACacheSize) // cycling through more than the cache holds
		for i := range uas {
			uas[i] = fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.0 Safari/537.36", 100+i%50, i)
		}
		tp := event.Touchpoint{Type: event.TypePageview, URL: url, Referrer: ref}
		i := 0
		for b.Loop() {
			i++
			// 2^20 addresses: 16 times the cache.
			tp.ClientIP = netip.AddrFrom4([4]byte{81, byte(i >> 16 & 0xf), byte(i >> 8), byte(i)})
			tp.UserAgent = uas[i%len(uas)]
			if err := e.Enrich(&tp); err != nil {
				b.Fatal(err)
			}
		}
		if s := e.Stats(); s.GeoFailed != 0 {
			b.Fatalf("geo lookups failed: %+v", s)
		}
	})
}
