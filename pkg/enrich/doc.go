// Package enrich adds what the collector knows about a touchpoint that the
// client did not say, then forgets the client's address:
//
//   - device (device.go): browser and version (major.minor), OS and version,
//     class (desktop, mobile, tablet, bot) from the user agent, parsed with
//     github.com/mssola/useragent and corrected by a small table of our own
//     where it is wrong (Samsung Internet, Edge, Opera, Chrome and Firefox
//     on iOS, Silk, Android WebView). Bots are useragent's plus known
//     crawler and HTTP-client tokens and anything that does not start with
//     "Mozilla/". HeadlessChrome is not a bot: it is reported as desktop
//     "Chrome" (our own browser tests run it).
//   - place (geo.go): country ISO code, first subdivision's ISO code and
//     English city name from a GeoIP2/GeoLite2 City or Country database,
//     decoding only those fields.
//   - channel and UTM (channel.go): the utm_* parameters of the page URL and
//     the marketing channel from them, click ids and the referrer.
//   - IP (ip.go): after the lookup the client IP and the user agent are
//     cleared; only with Config.IPPrefix is the truncated network kept
//     (/24 for IPv4, /48 for IPv6).
//
// Parsed user agents and the places of addresses are kept in bounded LRUs
// (github.com/hashicorp/golang-lru/v2): on a hit of both, Enrich does not
// allocate.
//
// # Usage
//
//	en, err := enrich.New(enrich.Config{GeoDB: "data/geo/GeoLite2-City.mmdb"}, log)
//	if err != nil {
//		return err // a corrupt database; a missing one is only logged
//	}
//	defer en.Close()
//
//	tp.ClientIP, tp.UserAgent = ip, ua
//	if err := en.Enrich(&tp); errors.Is(err, enrich.ErrBot) {
//		// drop it: counted in en.Stats().BotsDropped
//	}
//	// tp.ClientIP and tp.UserAgent are now empty, whatever the outcome.
//
// Tests that need a real database build one with package
// github.com/touchtrail/touchtrail/pkg/enrich/geotest.
package enrich
