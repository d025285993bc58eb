package enrich

import (
	"testing"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Real user agents, as browsers and crawlers send them.
func TestParseDeviceRealUserAgents(t *testing.T) {
	const (
		desktop = event.DeviceDesktop
		mobile  = event.DeviceMobile
		tablet  = event.DeviceTablet
		bot     = event.DeviceBot
		unknown = event.DeviceUnknown
	)
	tests := []struct {
		name, ua                        string
		browser, version, os, osVersion string
		class                           event.DeviceClass
	}{
		// Desktop.
		{"chrome windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			"Chrome", "124.0", "Windows", "10", desktop},
		{"chrome windows 7", "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
			"Chrome", "109.0", "Windows", "7", desktop},
		{"chrome macos", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			"Chrome", "124.0", "macOS", "10.15", desktop},
		{"chrome linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			"Chrome", "124.0", "Linux", "", desktop},
		{"chrome chromeos", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			"Chrome", "124.0", "ChromeOS", "", desktop},
		{"firefox windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
			"Firefox", "125.0", "Windows", "10", desktop},
		{"firefox macos", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
			"Firefox", "125.0", "macOS", "14.4", desktop},
		{"firefox linux", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
			"Firefox", "125.0", "Linux", "", desktop},
		{"firefox ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
			"Firefox", "125.0", "Linux", "", desktop},
		{"safari macos", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
			"Safari", "17.4", "macOS", "10.15", desktop},
		{"edge windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
			"Edge", "124.0", "Windows", "10", desktop},
		{"edge macos", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
			"Edge", "124.0", "macOS", "10.15", desktop},
		{"opera windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0",
			"Opera", "109.0", "Windows", "10", desktop},
		// Headless Chromium is automation: the maintained list names it.
		{"headless chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
			"", "", "", "", bot},

		// Phones.
		{"safari iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			"Safari", "17.5", "iOS", "17.5", mobile},
		{"chrome ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
			"Chrome", "124.0", "iOS", "17.4", mobile},
		{"firefox ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
			"Firefox", "125.0", "iOS", "17.4", mobile},
		{"edge ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.2478.71 Mobile/15E148 Safari/605.1.15",
			"Edge", "124.2478", "iOS", "17.4", mobile},
		{"chrome android", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
			"Chrome", "124.0", "Android", "14", mobile},
		{"chrome android reduced", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
			"Chrome", "124.0", "Android", "10", mobile},
		{"samsung internet", "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
			"Samsung Internet", "25.0", "Android", "14", mobile},
		{"edge android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64",
			"Edge", "124.0", "Android", "10", mobile},
		{"opera android", "Mozilla/5.0 (Linux; Android 10; SM-G981B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.162 Mobile Safari/537.36 OPR/61.2.3076.56532",
			"Opera", "61.2", "Android", "10", mobile},
		{"firefox android", "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
			"Firefox", "125.0", "Android", "14", mobile},
		{"android webview", "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A.240405.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36",
			"Android WebView", "124.0", "Android", "14", mobile},
		// "bot" in a phone's name: a visitor.
		{"cubot phone", "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.210 Mobile Safari/537.36",
			"Chrome", "120.0", "Android", "9", mobile},

		// Tablets.
		{"safari ipad", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			"Safari", "17.5", "iOS", "17.5", tablet},
		{"chrome android tablet", "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			"Chrome", "124.0", "Android", "13", tablet},
		{"kindle silk", "Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.3.1 like Chrome/124.0.6367.82 Safari/537.36",
			"Amazon Silk", "124.3", "Android", "11", tablet},

		// Bots and HTTP clients: only the class is checked.
		{"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", "", "", "", bot},
		{"googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			"", "", "", "", bot},
		{"bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "", "", "", "", bot},
		{"gptbot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)", "", "", "", "", bot},
		{"ahrefs", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "", "", "", "", bot},
		{"facebook preview", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "", "", "", "", bot},
		{"lighthouse", "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse", "", "", "", "", bot},
		{"curl", "curl/8.5.0", "", "", "", "", bot},
		{"wget", "Wget/1.21.4", "", "", "", "", bot},
		{"python requests", "python-requests/2.31.0", "", "", "", "", bot},
		{"go http client", "Go-http-client/1.1", "", "", "", "", bot},
		{"android app http", "Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)", "", "", "", "", bot},

		// No user agent at all (a backend event): unknown device, not a bot.
		{"none", "", "", "", "", "", unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := parseDevice(tt.ua)
			if d.class != tt.class || d.bot != (tt.class == bot) {
				t.Fatalf("%s\n  class %v bot %v, want %v", tt.ua, d.class, d.bot, tt.class)
			}
			if tt.class == bot {
				return
			}
			if d.browser != tt.browser || d.browserVersion != tt.version || d.os != tt.os || d.osVersion != tt.osVersion {
				t.Errorf("%s\n  got  %q %q on %q %q\n  want %q %q on %q %q", tt.ua,
					d.browser, d.browserVersion, d.os, d.osVersion, tt.browser, tt.version, tt.os, tt.osVersion)
			}
		})
	}
}

func TestMajorMinor(t *testing.T) {
	for in, want := range map[string]string{"": "", "124": "124", "17.5": "17.5", "124.0.6367.91": "124.0", "10.15.7": "10.15"} {
		if got := majorMinor(in); got != want {
			t.Errorf("majorMinor(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseDevice: any user agent parses without panicking, and a bot is
// always of class bot.
func FuzzParseDevice(f *testing.F) {
	f.Add("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36")
	f.Add("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Version/17.5 Mobile/15E148 Safari/604.1")
	f.Add("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	f.Add("Mozilla/5.0 (; wv)")
	f.Fuzz(func(t *testing.T, ua string) {
		d := parseDevice(ua)
		if d.bot != (d.class == event.DeviceBot) {
			t.Fatalf("%q: bot %v class %v", ua, d.bot, d.class)
		}
	})
}
