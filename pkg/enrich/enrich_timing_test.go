package enrich_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/event"
)

func BenchmarkEnrich(b *testing.B) {
	path := b.TempDir() + "/city.mmdb"
	e, err := enrich.New(enrich.Config{GeoDB: cityDBAt(b, path)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ip := netip.MustParseAddr("81.2.69.160")
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		tp := event.Touchpoint{Type: event.TypePageview, URL: "https://shop.example/?utm_source=news", Referrer: "https://www.google.com/"}
		for b.Loop() {
			tp.ClientIP, tp.UserAgent = ip, chrome
			_ = e.Enrich(&tp)
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		uas := make([]string, 8192) // more than the UA cache holds
		for i := range uas {
			uas[i] = fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", i)
		}
		tp := event.Touchpoint{Type: event.TypePageview}
		i := 0
		for b.Loop() {
			i++
			tp.ClientIP = netip.AddrFrom4([4]byte{81, 2, byte(i >> 8), byte(i)})
			tp.UserAgent = uas[i%len(uas)]
			_ = e.Enrich(&tp)
		}
	})
}
