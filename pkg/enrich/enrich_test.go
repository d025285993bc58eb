package enrich_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
	"github.com/touchtrail/touchtrail/pkg/event"
)

const (
	chrome    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

func newEnricher(tb testing.TB, cfg enrich.Config) *enrich.Enricher {
	tb.Helper()
	e, err := enrich.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := e.Close(); err != nil {
			tb.Error(err)
		}
	})
	return e
}

// enrich runs Enrich on a page view from ip with the Chrome user agent.
func enrichFrom(t *testing.T, e *enrich.Enricher, ip string) event.Touchpoint {
	t.Helper()
	tp := event.Touchpoint{Type: event.TypePageview, ClientIP: netip.MustParseAddr(ip), UserAgent: chrome}
	if err := e.Enrich(&tp); err != nil {
		t.Fatalf("%s: %v", ip, err)
	}
	if tp.ClientIP.IsValid() || tp.UserAgent != "" {
		t.Fatalf("%s: IP or user agent kept: %v %q", ip, tp.ClientIP, tp.UserAgent)
	}
	return tp
}

func TestGeoFromRealDatabase(t *testing.T) {
	e := newEnricher(t, enrich.Config{GeoDB: geotest.CityDB(t)})
	tests := []struct{ ip, country, region, city string }{
		{"81.2.69.160", "GB", "ENG", "London"},
		{"81.2.69.161", "GB", "ENG", "London"},
		{"89.160.20.112", "SE", "E", "Linköping"},
		{"216.160.83.56", "US", "WA", "Milton"},
		{"203.0.113.9", "FR", "IDF", "Paris"},
		{"198.51.100.7", "NZ", "", ""},                // a country-only record
		{"10.1.2.3", "DE", "BE", "Berlin"},            // private: whatever the database says
		{"2001:db8::1", "JP", "13", "Tokyo"},          // reserved IPv6
		{"2a02:ec80:1::2", "NL", "NH", "Amsterdam"},   // public IPv6
		{"::ffff:81.2.69.160", "GB", "ENG", "London"}, // IPv4-mapped: the IPv4 record
		{"fe80::1%eth0", "", "", ""},                  // zone ignored, not found
		{"192.0.2.1", "", "", ""},                     // not in the database
		{"127.0.0.1", "", "", ""},                     // loopback: not in it either
		{"2001:db8:ffff::1", "JP", "13", "Tokyo"},     //
		{"81.2.70.1", "", "", ""},                     // next network
		{"2001:db9::1", "", "", ""},                   //
	}
	for _, tt := range tests {
		tp := enrichFrom(t, e, tt.ip)
		if tp.Country != tt.country || tp.Region != tt.region || tp.City != tt.city {
			t.Errorf("%s: %q %q %q, want %q %q %q", tt.ip, tp.Country, tp.Region, tp.City, tt.country, tt.region, tt.city)
		}
		if tp.IPPrefix != "" {
			t.Errorf("%s: IPPrefix %q without Config.IPPrefix", tt.ip, tp.IPPrefix)
		}
	}
	s := e.Stats()
	// ::ffff:81.2.69.160 is 81.2.69.160: one hit.
	if s.GeoHits != 1 || s.GeoMisses != uint64(len(tests)-1) || s.GeoFailed != 0 {
		t.Errorf("geo hits %d misses %d failed %d, want 1, %d, 0", s.GeoHits, s.GeoMisses, s.GeoFailed, len(tests)-1)
	}
	enrichFrom(t, e, "81.2.69.160")
	if s := e.Stats(); s.GeoHits != 2 {
		t.Errorf("a repeated address is not a cache hit: %+v", s)
	}
}

func TestGeoCacheIsBounded(t *testing.T) {
	e := newEnricher(t, enrich.Config{GeoDB: geotest.CityDB(t), GeoCacheSize: 2})
	for _, ip := range []string{"81.2.69.1", "81.2.69.2", "81.2.69.3", "81.2.69.1"} {
		if tp := enrichFrom(t, e, ip); tp.City != "London" {
			t.Fatalf("%s: city %q", ip, tp.City)
		}
	}
	if s := e.Stats(); s.GeoHits != 0 || s.GeoMisses != 4 {
		t.Errorf("with 2 entries, the first of 3 addresses was evicted: hits %d misses %d, want 0 and 4", s.GeoHits, s.GeoMisses)
	}
}

func TestNoGeoDatabaseIsNotAnError(t *testing.T) {
	for _, path := range []string{"", filepath.Join(t.TempDir(), "absent.mmdb")} {
		var logs bytes.Buffer
		e, err := enrich.New(enrich.Config{GeoDB: path}, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("GeoDB %q: %v", path, err)
		}
		for range 3 {
			tp := enrichFrom(t, e, "81.2.69.160")
			if tp.Country != "" || tp.Region != "" || tp.City != "" || tp.Browser != "Chrome" {
				t.Errorf("GeoDB %q: %q %q %q, browser %q", path, tp.Country, tp.Region, tp.City, tp.Browser)
			}
		}
		if n := strings.Count(logs.String(), "no geo database"); n != 1 {
			t.Errorf("GeoDB %q: logged %d times, want once at New:\n%s", path, n, logs.String())
		}
		if s := e.Stats(); s.GeoHits+s.GeoMisses+s.GeoFailed != 0 {
			t.Errorf("GeoDB %q: geo counters without a database: %+v", path, s)
		}
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	}
}

func TestCorruptGeoDatabaseIsAnError(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(geotest.CityDB(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"text":      []byte("not a database"),
		"empty":     nil,
		"truncated": good[:len(good)/2],
	} {
		path := filepath.Join(dir, name+".mmdb")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := enrich.New(enrich.Config{GeoDB: path}, nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: New gave %v, want an error naming the file", name, err)
		}
	}
	if _, err := enrich.New(enrich.Config{GeoDB: dir}, nil); err == nil {
		t.Error("a directory opened as a database")
	}
}

func TestBotsDroppedByDefault(t *testing.T) {
	e := newEnricher(t, enrich.Config{})
	for range 2 {
		tp := event.Touchpoint{Type: event.TypePageview, ClientIP: netip.MustParseAddr("81.2.69.160"), UserAgent: googlebot}
		if err := e.Enrich(&tp); !errors.Is(err, enrich.ErrBot) {
			t.Fatalf("bot by default: %v, want ErrBot", err)
		}
		if tp.ClientIP.IsValid() || tp.UserAgent != "" {
			t.Errorf("a dropped bot's IP or user agent kept: %v %q", tp.ClientIP, tp.UserAgent)
		}
	}
	if s := e.Stats(); s.BotsDropped != 2 || s.BotsKept != 0 {
		t.Errorf("bots dropped %d kept %d, want 2 and 0", s.BotsDropped, s.BotsKept)
	}
}

func TestBotsKeptWhenConfigured(t *testing.T) {
	e := newEnricher(t, enrich.Config{KeepBots: true, GeoDB: geotest.CityDB(t)})
	tp := event.Touchpoint{Type: event.TypePageview, ClientIP: netip.MustParseAddr("81.2.69.160"), UserAgent: googlebot}
	if err := e.Enrich(&tp); err != nil {
		t.Fatal(err)
	}
	if !tp.Bot || tp.Device != event.DeviceBot || tp.Country != "GB" || tp.ClientIP.IsValid() || tp.UserAgent != "" {
		t.Errorf("KeepBots: bot %v device %v country %q ip %v ua %q", tp.Bot, tp.Device, tp.Country, tp.ClientIP, tp.UserAgent)
	}
	if s := e.Stats(); s.BotsDropped != 0 || s.BotsKept != 1 {
		t.Errorf("bots dropped %d kept %d, want 0 and 1", s.BotsDropped, s.BotsKept)
	}
}

func TestIPPrefix(t *testing.T) {
	for _, db := range []string{"", geotest.CityDB(t)} {
		e := newEnricher(t, enrich.Config{IPPrefix: true, GeoDB: db})
		for _, tt := range []struct{ ip, want string }{
			{"203.0.113.77", "203.0.113.0/24"},
			{"203.0.113.77", "203.0.113.0/24"}, // cached
			{"81.2.69.1", "81.2.69.0/24"},
			{"2001:db8:1234:5678::1", "2001:db8:1234::/48"},
			{"::ffff:198.51.100.9", "198.51.100.0/24"},
			{"fe80::1%eth0", "fe80::/48"},
		} {
			if tp := enrichFrom(t, e, tt.ip); tp.IPPrefix != tt.want {
				t.Errorf("GeoDB %q, %s: prefix %q, want %q", db, tt.ip, tp.IPPrefix, tt.want)
			}
		}
	}
	// No client IP: no prefix (a backend event).
	e := newEnricher(t, enrich.Config{IPPrefix: true})
	tp := event.Touchpoint{Type: event.TypePageview, UserAgent: chrome}
	if err := e.Enrich(&tp); err != nil || tp.IPPrefix != "" {
		t.Errorf("no IP: prefix %q, err %v", tp.IPPrefix, err)
	}
}

func TestDeviceAndCacheCounters(t *testing.T) {
	e := newEnricher(t, enrich.Config{})
	for range 4 {
		tp := event.Touchpoint{Type: event.TypePageview, UserAgent: chrome}
		if err := e.Enrich(&tp); err != nil {
			t.Fatal(err)
		}
		if tp.Browser != "Chrome" || tp.BrowserVersion != "124.0" || tp.OS != "Windows" || tp.OSVersion != "10" ||
			tp.Device != event.DeviceDesktop || tp.Bot {
			t.Fatalf("%q %q %q %q %v %v", tp.Browser, tp.BrowserVersion, tp.OS, tp.OSVersion, tp.Device, tp.Bot)
		}
	}
	if s := e.Stats(); s.UAHits != 3 || s.UAMisses != 1 {
		t.Errorf("UA cache hits %d misses %d, want 3 and 1", s.UAHits, s.UAMisses)
	}
	// A cached user agent must not alias the caller's buffer.
	buf := []byte(chrome)
	e2 := newEnricher(t, enrich.Config{})
	tp := event.Touchpoint{Type: event.TypePageview, UserAgent: string(buf)}
	_ = e2.Enrich(&tp)
	copy(buf, "curl/8.5.0 (overwritten)")
	tp = event.Touchpoint{Type: event.TypePageview, UserAgent: chrome}
	if err := e2.Enrich(&tp); err != nil || tp.Browser != "Chrome" || e2.Stats().UAHits != 1 {
		t.Errorf("after reuse of the first buffer: %v %q %+v", err, tp.Browser, e2.Stats())
	}
}

func TestChannelOnlyOnPageViews(t *testing.T) {
	e := newEnricher(t, enrich.Config{})
	const url = "https://shop.example/?utm_source=news&utm_medium=email&utm_campaign=nov"
	for _, typ := range []event.Type{event.TypePageview, event.TypeSearch, event.TypeCheckoutStep} {
		tp := event.Touchpoint{Type: typ, URL: url, Channel: event.ChannelSocial, UserAgent: chrome}
		if err := e.Enrich(&tp); err != nil {
			t.Fatal(err)
		}
		want := event.ChannelUnknown
		if typ == event.TypePageview {
			want = event.ChannelEmail
		}
		if tp.Channel != want || tp.UTM.Campaign != "nov" {
			t.Errorf("%v: channel %v campaign %q, want %v nov", typ, tp.Channel, tp.UTM.Campaign, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (enrich.Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	for _, c := range []enrich.Config{{UACacheSize: -1}, {GeoCacheSize: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: valid", c)
		}
		if _, err := enrich.New(c, nil); err == nil {
			t.Errorf("%+v: New succeeded", c)
		}
	}
}

// Many goroutines on one Enricher, with caches small enough to evict: run
// with -race.
func TestConcurrentEnrich(t *testing.T) {
	e := newEnricher(t, enrich.Config{GeoDB: geotest.CityDB(t), IPPrefix: true, KeepBots: true, UACacheSize: 8, GeoCacheSize: 8})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				ip := netip.AddrFrom4([4]byte{81, 2, 69, byte(i % 32)})
				ua := fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", 100+i%16, 100+i%16)
				tp := event.Touchpoint{Type: event.TypePageview, ClientIP: ip, UserAgent: ua, URL: "https://a.example/?utm_source=x"}
				if err := e.Enrich(&tp); err != nil {
					t.Error(err)
					return
				}
				if tp.City != "London" || tp.Browser != "Firefox" || tp.BrowserVersion != fmt.Sprintf("%d.0", 100+i%16) ||
					tp.IPPrefix != "81.2.69.0/24" {
					t.Errorf("goroutine %d, %d: %q %q %q %q", g, i, tp.City, tp.Browser, tp.BrowserVersion, tp.IPPrefix)
					return
				}
			}
		})
	}
	wg.Wait()
	if s := e.Stats(); s.UAHits+s.UAMisses != 8*500 || s.GeoHits+s.GeoMisses != 8*500 {
		t.Errorf("counters do not add up: %+v", s)
	}
}
