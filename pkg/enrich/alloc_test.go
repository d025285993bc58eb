//go:build !race

package enrich_test

import (
	"net/netip"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// Enrich on a cache hit must not allocate: it runs for every event. That
// holds with the IP prefix kept too (the cache keeps its string).
func TestEnrichCacheHitAllocatesNothing(t *testing.T) {
	for _, cfg := range []enrich.Config{{}, {GeoDB: geotest.CityDB(t)}, {GeoDB: geotest.CityDB(t), IPPrefix: true}} {
		e := newEnricher(t, cfg)
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
			t.Errorf("%+v: Enrich on a cache hit: %.1f allocs, want 0", cfg, n)
		}
		if cfg.GeoDB != "" && tp.City != "London" || cfg.IPPrefix && tp.IPPrefix != "81.2.69.0/24" {
			t.Errorf("%+v: city %q prefix %q", cfg, tp.City, tp.IPPrefix)
		}
	}
}

// Channel does not allocate for URLs and referrers that need no
// percent-decoding, whatever their case.
func TestChannelAllocatesNothing(t *testing.T) {
	for _, c := range [][2]string{
		{"https://shop.example/p?utm_source=Facebook&utm_medium=Social&utm_campaign=nov", ""},
		{"https://shop.example/p", "https://WWW.Google.CO.UK/search?q=x"},
		{"https://shop.example/p?gclid=abc", "android-app://com.google.android.gm/"},
		{"https://shop.example/p", "https://blog.example.org/post"},
	} {
		if n := testing.AllocsPerRun(100, func() { enrich.Channel(c[0], c[1]) }); n != 0 {
			t.Errorf("Channel(%q, %q): %.1f allocs, want 0", c[0], c[1], n)
		}
	}
}

// The ingest hot path, decode + validate + enrich, on a cache hit: one
// allocation per batch (the decoder's single string of all the batch's
// fields), none per event — 0.01 an event for a batch of 100.
func TestDecodeValidateEnrichPerEvent(t *testing.T) {
	e := newEnricher(t, enrich.Config{GeoDB: geotest.CityDB(t)})
	var body []byte
	body = append(body, `{"site":"shop","events":[`...)
	for i := range 100 {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"id":"0123456789abcdef0123456789abcde`...)
		body = append(body, "0123456789"[i%10])
		body = append(body, `","type":"pageview","visitor":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","url":"https://shop.example/p?utm_source=news","referrer":"https://www.google.com/"}`...)
	}
	body = append(body, "]}"...)
	var d event.Decoder
	var b event.Batch
	ip := netip.MustParseAddr("81.2.69.160")
	now := int64(1764000000000000)
	run := func() {
		if err := d.Decode(body, &b); err != nil {
			t.Fatal(err)
		}
		for i := range b.Events {
			tp := &b.Events[i]
			tp.DeriveTime(now)
			if err := tp.Validate(event.Limits{}, now); err != nil {
				t.Fatal(err)
			}
			tp.ClientIP, tp.UserAgent = ip, chrome
			if err := e.Enrich(tp); err != nil {
				t.Fatal(err)
			}
		}
	}
	run()
	n := testing.AllocsPerRun(100, run)
	t.Logf("%.2f allocations per event", n/100)
	if n > 1 {
		t.Errorf("decode + validate + enrich of 100 events: %.1f allocs, want at most 1 (per batch)", n)
	}
}
