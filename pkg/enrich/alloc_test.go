//go:build !race

package enrich_test

import (
	"net/netip"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// Enrich on a cache hit must not allocate: it runs for every event.
func TestEnrichCacheHitAllocatesNothing(t *testing.T) {
	e := newEnricher(t, enrich.Config{GeoDB: cityDB(t)})
	ip := netip.MustParseAddr("81.2.69.160")
	tp := event.Touchpoint{Type: event.TypePageview, URL: "https://shop.example/p?utm_source=news&utm_campaign=nov", Referrer: "https://www.google.com/"}
	run := func() {
		tp.ClientIP, tp.UserAgent = ip, chrome
		if err := e.Enrich(&tp); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Fatalf("Enrich on a cache hit: %.1f allocs, want 0", n)
	}
}
