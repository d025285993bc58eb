package enrich

import (
	"strings"
	"sync/atomic"

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

// deviceCache maps user agent strings to their parsed device in a bounded
// LRU, sharded by the user agent's hash. Safe for concurrent use.
type deviceCache struct {
	c            *shardedLRU[string, device]
	hits, misses atomic.Uint64
}

func newDeviceCache(size int) *deviceCache {
	return &deviceCache{c: newShardedLRU[string, device](size, hashString)}
}

// maxUALen bounds the bytes of a user agent that are parsed and cached:
// real ones are under 512 bytes, and parsing is linear in the length.
const maxUALen = 1024

// lookup returns the device of ua, of which only the first maxUALen bytes
// count. A hit does not allocate.
func (dc *deviceCache) lookup(ua string) device {
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	if d, ok := dc.c.Get(ua); ok {
		dc.hits.Add(1)
		return d
	}
	dc.misses.Add(1)
	d := parseDevice(ua)
	dc.c.Add(strings.Clone(ua), d) // ua may point into a request buffer
	return d
}

// botTokens mark automated clients useragent does not flag itself; they are
// matched in the lower-cased user agent. "bot" is matched apart (see isBot).
var botTokens = []string{
	"crawl", "spider", "slurp", "scrape", "curl/", "wget/", "python-requests", "python-urllib", "python-httpx",
	"aiohttp", "go-http-client", "java/", "okhttp", "libwww", "httpclient", "scrapy", "facebookexternalhit",
	"lighthouse", "pingdom", "uptime", "phantomjs", "axios/", "node-fetch", "undici", "postman", "insomnia",
	"httpie", "guzzlehttp", "feedfetcher", "mediapartners",
}

// isBot reports whether the user agent s (lower-cased in lower) is a bot,
// crawler, monitor or plain HTTP client. Every browser of the last fifteen
// years starts its user agent with "Mozilla/" (old Operas with "Opera/"):
// anything else is a program, not a visitor. Then our own tokens, then the
// maintained list (crawler-user-agents), which also names headless
// browsers (HeadlessChrome, WebPageTest's PTST): automation, not visitors.
func isBot(ua *useragent.UserAgent, s, lower string) bool {
	if ua.Bot() || !strings.HasPrefix(s, "Mozilla/") && !strings.HasPrefix(s, "Opera/") {
		return true
	}
	for _, t := range botTokens {
		if strings.Contains(lower, t) {
			return true
		}
	}
	// "bot" ends many crawler names (Googlebot, bingbot, AhrefsBot,
	// GPTBot) but is also a phone brand: "CUBOT P30" is a visitor.
	for rest := lower; ; {
		i := strings.Index(rest, "bot")
		if i < 0 {
			break
		}
		if i < 2 || rest[i-2:i] != "cu" {
			return true
		}
		rest = rest[i+3:]
	}
	return crawlers().match(s)
}

// parseDevice parses a user agent with mssola/useragent and corrects what it
// gets wrong. It costs a few microseconds and a few dozen allocations: call
// it through deviceCache.
func parseDevice(s string) device {
	if s == "" {
		// No user agent: a server-side touchpoint that speaks for no
		// browser. Unknown, not a bot.
		return device{}
	}
	ua := useragent.New(s)
	d := device{bot: isBot(ua, s, strings.ToLower(s))}
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
		strings.Contains(s, "Silk/") || strings.Contains(s, "Android") && !strings.Contains(s, "Mobile"):
		d.class = event.DeviceTablet
	case ua.Mobile() || strings.Contains(s, "Mobile") || strings.Contains(s, "iPhone") || strings.Contains(s, "iPod"):
		d.class = event.DeviceMobile
	default:
		d.class = event.DeviceDesktop
	}
	return d
}

// browserFixes name the browsers useragent names wrongly, by the token that
// carries their version ("version" empty: the token's own). The first match
// wins, so more specific tokens come first. Known mistakes of useragent
// v1.0.0: Samsung Internet is "Android 25.0", Silk is "Android", Edge and
// Chrome on iOS are "Safari", a WebView is "Android 4.0", HeadlessChrome is
// "Headless Chrome" (we call it Chrome: it is one, and our own browser tests
// run it; they send an ordinary browser's user agent, or are flagged bots).
var browserFixes = []struct{ token, name, version string }{
	{"SamsungBrowser/", "Samsung Internet", ""},
	{"EdgiOS/", "Edge", ""},
	{"EdgA/", "Edge", ""},
	{"Edg/", "Edge", ""},
	{"OPR/", "Opera", ""},
	{"OPT/", "Opera", ""}, // Opera Touch on iOS
	{"FxiOS/", "Firefox", ""},
	{"CriOS/", "Chrome", ""},
	{"YaBrowser/", "Yandex Browser", ""},
	{"Vivaldi/", "Vivaldi", ""},
	{"DuckDuckGo/", "DuckDuckGo", ""},
	{"Silk/", "Amazon Silk", ""},
	{"HeadlessChrome/", "Chrome", ""},
	{"; wv)", "Android WebView", "Chrome/"},
}

func fixBrowser(d *device, s string) {
	for _, f := range browserFixes {
		i := strings.Index(s, f.token)
		if i < 0 {
			continue
		}
		d.browser = f.name
		v := s[i+len(f.token):]
		if f.version != "" {
			v = ""
			if j := strings.Index(s, f.version); j >= 0 {
				v = s[j+len(f.version):]
			}
		}
		if j := strings.IndexAny(v, " ;)"); j >= 0 {
			v = v[:j]
		}
		d.browserVersion = majorMinor(v)
		return
	}
}

// fixOS names operating systems the way people do ("iOS", "macOS") where
// OSInfo gives "iPhone OS", "OS" or "Mac OS X", and reads the iOS and
// Android versions from the user agent itself.
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
		d.osVersion = ""
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
		d.os, d.osVersion = "ChromeOS", "" // its version is a platform build, not the release
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
