package enrich_test

import (
	"errors"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
	"github.com/touchtrail/touchtrail/pkg/event"
)

const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"

func cityDB(t *testing.T) string {
	t.Helper()
	return cityDBAt(t, filepath.Join(t.TempDir(), "city.mmdb"))
}

func cityDBAt(tb testing.TB, path string) string {
	geotest.WriteCityDB(tb, path, map[string]geotest.City{
		"81.2.69.0/24":  {Country: "GB", Region: "ENG", City: "London"},
		"2001:db8::/32": {Country: "DE", Region: "BE", City: "Berlin"},
	})
	return path
}

func newEnricher(t *testing.T, cfg enrich.Config) *enrich.Enricher {
	t.Helper()
	e, err := enrich.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestGeoFromRealDatabase(t *testing.T) {
	e := newEnricher(t, enrich.Config{GeoDB: cityDB(t)})
	f := func(ip, country, region, city string) {
		t.Helper()
		tp := event.Touchpoint{Type: event.TypePageview, ClientIP: netip.MustParseAddr(ip), UserAgent: chrome}
		if err := e.Enrich(&tp); err != nil {
			t.Fatal(err)
		}
		if tp.Country != country || tp.Region != region || tp.City != city {
			t.Errorf("%s: %q %q %q, want %q %q %q", ip, tp.Country, tp.Region, tp.City, country, region, city)
		}
		if tp.ClientIP.IsValid() || tp.UserAgent != "" || tp.IPPrefix != "" {
			t.Errorf("%s: IP or UA kept: %v %q %q", ip, tp.ClientIP, tp.UserAgent, tp.IPPrefix)
		}
	}
	f("81.2.69.160", "GB", "ENG", "London")
	f("2001:db8::1", "DE", "BE", "Berlin")
	f("192.0.2.1", "", "", "")
	f("81.2.69.161", "GB", "ENG", "London")
	f("81.2.69.160", "GB", "ENG", "London") // a cache hit
	if s := e.Stats(); s.GeoHits != 1 || s.GeoMisses != 4 {
		t.Errorf("geo cache hits %d misses %d, want 1 and 4", s.GeoHits, s.GeoMisses)
	}
}

func TestMissingGeoDatabaseIsNotAnError(t *testing.T) {
	e := newEnricher(t, enrich.Config{GeoDB: filepath.Join(t.TempDir(), "absent.mmdb")})
	tp := event.Touchpoint{Type: event.TypePageview, ClientIP: netip.MustParseAddr("81.2.69.160"), UserAgent: chrome}
	if err := e.Enrich(&tp); err != nil || tp.Country != "" || tp.Browser != "Chrome" {
		t.Fatalf("err %v country %q browser %q", err, tp.Country, tp.Browser)
	}
}

func TestCorruptGeoDatabaseIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.mmdb")
	if err := writeFile(path, "not a database"); err != nil {
		t.Fatal(err)
	}
	if _, err := enrich.New(enrich.Config{GeoDB: path}, nil); err == nil {
		t.Fatal("a corrupt database opened without error")
	}
}

func TestBots(t *testing.T) {
	const googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	drop := newEnricher(t, enrich.Config{})
	tp := event.Touchpoint{Type: event.TypePageview, UserAgent: googlebot}
	if err := drop.Enrich(&tp); !errors.Is(err, enrich.ErrBot) {
		t.Fatalf("bot by default: %v, want ErrBot", err)
	}
	if drop.Stats().BotsDropped != 1 {
		t.Errorf("dropped bots not counted: %+v", drop.Stats())
	}
	keep := newEnricher(t, enrich.Config{KeepBots: true})
	tp = event.Touchpoint{Type: event.TypePageview, UserAgent: googlebot}
	if err := keep.Enrich(&tp); err != nil || !tp.Bot || tp.Device != event.DeviceBot {
		t.Fatalf("KeepBots: err %v bot %v device %v", err, tp.Bot, tp.Device)
	}
}

func TestIPPrefix(t *testing.T) {
	e := newEnricher(t, enrich.Config{IPPrefix: true})
	f := func(ip, want string) {
		t.Helper()
		tp := event.Touchpoint{Type: event.TypePageview, ClientIP: netip.MustParseAddr(ip), UserAgent: chrome}
		if err := e.Enrich(&tp); err != nil {
			t.Fatal(err)
		}
		if tp.IPPrefix != want || tp.ClientIP.IsValid() {
			t.Errorf("%s: prefix %q (ip kept: %v), want %q", ip, tp.IPPrefix, tp.ClientIP.IsValid(), want)
		}
	}
	f("203.0.113.77", "203.0.113.0/24")
	f("2001:db8:1234:5678::1", "2001:db8:1234::/48")
	f("::ffff:198.51.100.9", "198.51.100.0/24")
}

func TestChannel(t *testing.T) {
	f := func(url, ref string, want event.Channel, wantCampaign string) {
		t.Helper()
		utm, ch := enrich.Channel(url, ref)
		if ch != want || utm.Campaign != wantCampaign {
			t.Errorf("Channel(%q, %q) = %v campaign %q, want %v %q", url, ref, ch, utm.Campaign, want, wantCampaign)
		}
	}
	const page = "https://shop.example/pricing"
	f(page, "", event.ChannelDirect, "")
	f(page, "https://www.google.com/", event.ChannelSearch, "")
	f(page, "https://www.google.co.uk/search?q=x", event.ChannelSearch, "")
	f(page, "https://duckduckgo.com/", event.ChannelSearch, "")
	f(page, "https://www.bing.com/search?q=shoes", event.ChannelSearch, "")
	f(page, "https://t.co/abc", event.ChannelSocial, "")
	f(page, "https://www.facebook.com/", event.ChannelSocial, "")
	f(page, "https://l.instagram.com/", event.ChannelSocial, "")
	f(page, "https://www.linkedin.com/feed/", event.ChannelSocial, "")
	f(page, "https://news.ycombinator.com/item?id=1", event.ChannelSocial, "")
	f(page, "https://mail.google.com/mail/u/0/", event.ChannelEmail, "")
	f(page, "https://blog.example.org/post", event.ChannelReferral, "")
	f(page, "https://shop.example/", event.ChannelInternal, "")
	f(page, "https://www.shop.example/", event.ChannelInternal, "")
	f(page, "https://SHOP.example:443/cart", event.ChannelInternal, "")
	f(page+"?utm_source=google&utm_medium=cpc&utm_campaign=spring", "https://www.google.com/", event.ChannelPaid, "spring")
	f(page+"?gclid=abc123", "https://www.google.com/", event.ChannelPaid, "")
	f(page+"?fbclid=xyz", "", event.ChannelPaid, "")
	f(page+"?utm_source=newsletter&utm_medium=email&utm_campaign=nov%20sale", "", event.ChannelEmail, "nov sale")
	f(page+"?utm_source=facebook&utm_campaign=launch", "", event.ChannelSocial, "launch")
	f(page+"?utm_medium=social&utm_campaign=a+b", "", event.ChannelSocial, "a b")
	f(page+"?utm_source=partner&utm_campaign=x#top", "", event.ChannelReferral, "x")
	f(page+"?utm_medium=organic", "", event.ChannelSearch, "")
	f(page+"?utm_campaign=%ff%fe", "", event.ChannelDirect, "") // invalid UTF-8 is dropped: no campaign left
}

func TestUACacheAndNoAllocOnHit(t *testing.T) {
	e := newEnricher(t, enrich.Config{GeoDB: cityDB(t)})
	tp := event.Touchpoint{Type: event.TypeSearch, URL: "https://shop.example/?q=x", ClientIP: netip.MustParseAddr("81.2.69.160"), UserAgent: chrome}
	if err := e.Enrich(&tp); err != nil {
		t.Fatal(err)
	}
	if tp.Channel != event.ChannelUnknown {
		t.Errorf("a search got channel %v: channels belong to page views", tp.Channel)
	}
	for range 3 {
		tp.ClientIP, tp.UserAgent = netip.MustParseAddr("81.2.69.160"), chrome
		_ = e.Enrich(&tp)
	}
	if s := e.Stats(); s.UAHits != 3 || s.UAMisses != 1 {
		t.Errorf("UA cache hits %d misses %d, want 3 and 1", s.UAHits, s.UAMisses)
	}
}
