package enrich

import (
	"strings"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/mssola/useragent"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// device is what a user agent says, parsed once and cached.
type device struct {
	browser, browserVersion string
	os, osVersion           string
	class                   event.DeviceClass
	bot                     bool
}

type deviceCache struct {
	c            *lru.Cache[string, device]
	hits, misses atomic.Uint64
}

func newDeviceCache(size int) *deviceCache {
	c, err := lru.New[string, device](size)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return &deviceCache{c: c}
}

func (dc *deviceCache) lookup(ua string) device {
	if d, ok := dc.c.Get(ua); ok {
		dc.hits.Add(1)
		return d
	}
	dc.misses.Add(1)
	d := parseDevice(ua)
	dc.c.Add(strings.Clone(ua), d) // ua may point into a request buffer
	return d
}

// botTokens mark automated clients useragent does not flag itself.
var botTokens = []string{
	"bot", "crawl", "spider", "slurp", "curl/", "wget/", "python-requests", "python-urllib", "go-http-client",
	"java/", "okhttp", "libwww", "httpclient", "scrapy", "facebookexternalhit", "lighthouse", "pingdom",
	"uptime", "headlesschrome/0", "phantomjs", "axios/", "node-fetch", "postman",
}

// parseDevice parses a user agent with mssola/useragent and corrects what
// it gets wrong.
func parseDevice(s string) device {
	if s == "" {
		// No user agent: a server-side touchpoint that speaks for no
		// browser. Unknown, not a bot.
		return device{}
	}
	ua := useragent.New(s)
	lower := strings.ToLower(s)
	d := device{}
	d.bot = ua.Bot() || !strings.HasPrefix(s, "Mozilla/") && !strings.HasPrefix(s, "Opera/")
	for _, t := range botTokens {
		if strings.Contains(lower, t) {
			d.bot = true
			break
		}
	}
	name, version := ua.Browser()
	d.browser, d.browserVersion = name, majorMinor(version)
	os := ua.OSInfo()
	d.os, d.osVersion = os.Name, majorMinor(strings.ReplaceAll(os.Version, "_", "."))
	fixBrowser(&d, s)
	fixOS(&d, s)
	switch {
	case d.bot:
		d.class = event.DeviceBot
	case strings.Contains(s, "iPad") || strings.Contains(s, "Tablet") || strings.Contains(s, "Kindle") ||
		strings.Contains(s, "Silk/") || (strings.Contains(s, "Android") && !strings.Contains(s, "Mobile")):
		d.class = event.DeviceTablet
	case ua.Mobile() || strings.Contains(s, "Mobile") || strings.Contains(s, "iPhone"):
		d.class = event.DeviceMobile
	default:
		d.class = event.DeviceDesktop
	}
	return d
}

// browserFixes are tokens whose browser useragent names wrongly; the first
// match wins, so more specific tokens come first.
var browserFixes = []struct{ token, name string }{
	{"SamsungBrowser/", "Samsung Internet"},
	{"EdgiOS/", "Edge"},
	{"EdgA/", "Edge"},
	{"Edg/", "Edge"},
	{"OPR/", "Opera"},
	{"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"},
	{"DuckDuckGo/", "DuckDuckGo"},
	{"HeadlessChrome/", "Chrome"},
	{"Silk/", "Amazon Silk"},
}

func fixBrowser(d *device, s string) {
	for _, f := range browserFixes {
		if i := strings.Index(s, f.token); i >= 0 {
			d.browser = f.name
			v := s[i+len(f.token):]
			if j := strings.IndexAny(v, " ;)"); j >= 0 {
				v = v[:j]
			}
			d.browserVersion = majorMinor(v)
			return
		}
	}
}

func fixOS(d *device, s string) {
	switch {
	case strings.Contains(s, "iPhone") || strings.Contains(s, "iPad") || strings.Contains(s, "iPod"):
		d.os = "iOS"
		if i := strings.Index(s, "OS "); i >= 0 {
			v := s[i+3:]
			if j := strings.IndexByte(v, ' '); j >= 0 {
				v = v[:j]
			}
			d.osVersion = majorMinor(strings.ReplaceAll(v, "_", "."))
		}
	case strings.Contains(s, "Android"):
		d.os = "Android"
		if i := strings.Index(s, "Android "); i >= 0 {
			v := s[i+8:]
			if j := strings.IndexAny(v, ";)"); j >= 0 {
				v = v[:j]
			}
			d.osVersion = majorMinor(v)
		}
	case strings.Contains(s, "Mac OS X") || strings.Contains(s, "Macintosh"):
		d.os = "macOS"
	case strings.Contains(s, "Windows"):
		d.os = "Windows"
	case strings.Contains(s, "CrOS"):
		d.os = "ChromeOS"
	case strings.Contains(s, "Linux") || strings.Contains(s, "X11"):
		d.os, d.osVersion = "Linux", ""
	}
}

// majorMinor keeps "124.0" of "124.0.6367.91".
func majorMinor(v string) string {
	dot := strings.IndexByte(v, '.')
	if dot < 0 {
		return v
	}
	if j := strings.IndexByte(v[dot+1:], '.'); j >= 0 {
		return v[:dot+1+j]
	}
	return v
}
