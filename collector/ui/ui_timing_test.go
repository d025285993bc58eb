package ui_test

import (
	"net/http"
	"testing"

	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// BenchmarkPages renders each page on the demo data set (2,000 visitors,
// about 17,000 touchpoints) through the real collector on loopback, gzip
// as browsers ask. The goal: each under 100 ms.
func BenchmarkPages(b *testing.B) {
	col, visitors, truth := shop(b, 2000, collectortest.Options{})
	br := newBrowser(b, col.URL)
	br.signIn(collectortest.ReadToken)
	var user string
	for u := range truth.Users {
		user = u
		break
	}
	for _, p := range []struct{ name, path string }{
		{"map", "/ui/s/test/"},
		{"funnel", "/ui/s/test/funnel"},
		{"paths", "/ui/s/test/paths"},
		{"friction", "/ui/s/test/friction"},
		{"visitors", "/ui/s/test/visitors"},
		{"timeline", "/ui/s/test/visitors/" + visitors[0].ID.String()},
		{"user", "/ui/s/test/user?id=" + user},
		{"map-ar", "/ui/s/test/?lang=ar"},
	} {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			wire := 0
			for b.Loop() {
				r := br.do(http.MethodGet, p.path, nil, map[string]string{"Accept-Encoding": "gzip"})
				if r.status != http.StatusOK {
					b.Fatalf("%s: %d", p.path, r.status)
				}
				wire = r.wire
			}
			b.ReportMetric(float64(wire), "wire-bytes")
		})
	}
}
