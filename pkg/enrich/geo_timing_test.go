package enrich

import (
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// geoBenchDB is the GeoLite2 City database `make geo` fetches, when it is
// there (real record sizes), else a small fixture.
func geoBenchDB(b *testing.B) (path, name string) {
	if p := filepath.Join("..", "..", "data", "geo", "GeoLite2-City.mmdb"); fileExists(p) {
		return p, "geolite2"
	}
	p := filepath.Join(b.TempDir(), "city.mmdb")
	geotest.WriteCityDB(b, p, geotest.Fixture())
	return p, "fixture"
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// BenchmarkGeo is the cost of the geo database behind the LRU: "miss" is
// one address looked up and decoded (the cache never hits), "event-miss"
// a whole Enrich of a page view whose user agent is cached and whose
// address is not, "event-hit" the same with the address cached.
func BenchmarkGeo(b *testing.B) {
	path, name := geoBenchDB(b)
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	addrs := make([]netip.Addr, 1<<16)
	for i := range addrs { // public IPv4 space, spread out
		addrs[i] = netip.AddrFrom4([4]byte{byte(2 + i%220), byte(i >> 8), byte(i * 7), byte(i)})
	}
	b.Run(name+"/miss", func(b *testing.B) {
		db, err := openGeoDB(path)
		if err != nil || db == nil {
			b.Fatal(err)
		}
		defer db.Close()
		p := newPlaces(db, false, 16, quiet) // 16 entries: every lookup misses
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p.lookup(addrs[i&(len(addrs)-1)])
			i++
		}
		if p.failed.Load() != 0 {
			b.Fatalf("%d lookups failed", p.failed.Load())
		}
	})
	for _, c := range []struct {
		name  string
		cache int
	}{{"event-miss", 16}, {"event-hit", 1 << 17}} {
		b.Run(name+"/"+c.name, func(b *testing.B) {
			e, err := New(Config{GeoDB: path, GeoCacheSize: c.cache}, quiet)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
			tp := event.Touchpoint{Type: event.TypePageview, URL: "https://shop.example/pricing", Referrer: "https://www.google.com/"}
			for _, a := range addrs { // warm the caches that should hit
				tp.ClientIP, tp.UserAgent = a, ua
				e.Enrich(&tp)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tp.ClientIP, tp.UserAgent = addrs[i&(len(addrs)-1)], ua
				if err := e.Enrich(&tp); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
