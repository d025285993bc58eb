package enrich

import (
	"testing"

	"github.com/touchtrail/touchtrail/pkg/event"
)

func TestParseDeviceRealUserAgents(t *testing.T) {
	f := func(ua, browser, version, os string, class event.DeviceClass, bot bool) {
		t.Helper()
		d := parseDevice(ua)
		if d.bot != bot || d.class != class {
			t.Errorf("%s\n  class %v bot %v, want %v %v", ua, d.class, d.bot, class, bot)
		}
		if bot {
			return
		}
		if d.browser != browser || d.browserVersion != version || d.os != os {
			t.Errorf("%s\n  got %q %q on %q, want %q %q on %q", ua, d.browser, d.browserVersion, d.os, browser, version, os)
		}
	}
	// Desktop.
	f("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Chrome", "124.0", "Windows", event.DeviceDesktop, false)
	f("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
		"Safari", "17.4", "macOS", event.DeviceDesktop, false)
	f("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		"Firefox", "125.0", "Linux", event.DeviceDesktop, false)
	f("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
		"Edge", "124.0", "Windows", event.DeviceDesktop, false)
	f("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0",
		"Opera", "109.0", "Windows", event.DeviceDesktop, false)
	f("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Chrome", "124.0", "ChromeOS", event.DeviceDesktop, false)
	// Our own browser tests run headless Chromium: a desktop Chrome, not a bot.
	f("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
		"Chrome", "156.0", "Linux", event.DeviceDesktop, false)
	// Mobile.
	f("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Safari", "17.5", "iOS", event.DeviceMobile, false)
	f("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
		"Chrome", "124.0", "Android", event.DeviceMobile, false)
	f("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
		"Samsung Internet", "25.0", "Android", event.DeviceMobile, false)
	f("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
		"Chrome", "124.0", "iOS", event.DeviceMobile, false)
	f("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
		"Firefox", "125.0", "iOS", event.DeviceMobile, false)
	// Tablets.
	f("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Safari", "17.5", "iOS", event.DeviceTablet, false)
	f("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Chrome", "124.0", "Android", event.DeviceTablet, false)
	f("Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.3.1 like Chrome/124.0.6367.82 Safari/537.36",
		"Amazon Silk", "124.3", "Android", event.DeviceTablet, false)
	// Bots and HTTP clients.
	f("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", "", "", event.DeviceBot, true)
	f("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "", "", "", event.DeviceBot, true)
	f("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)", "", "", "", event.DeviceBot, true)
	f("curl/8.5.0", "", "", "", event.DeviceBot, true)
	f("python-requests/2.31.0", "", "", "", event.DeviceBot, true)
	// No user agent at all (a backend event): unknown device, not a bot.
	f("", "", "", "", event.DeviceUnknown, false)
}
