// Package enrich adds what the collector knows about a touchpoint that the
// client did not say, then forgets the client's address:
//
//   - device (device.go): browser and version (major.minor), OS and version,
//     class (desktop, mobile, tablet, bot) from the user agent, parsed with
//     github.com/mssola/useragent and corrected by a small table of our own
//     where it is wrong (Samsung Internet, Edge, Opera, Chrome and Firefox
//     on iOS, Silk, Android WebView). Bots are useragent's, anything that
//     does not start with "Mozilla/", our own crawler and HTTP-client
//     tokens, and the 1,500 patterns of the maintained crawler-user-agents
//     list (crawlers.go, vendored in lists/ with its MIT licence; it names
//     headless browsers too), matched at once by literals indexed by their
//     first three bytes.
//   - referrer spam (spam.go): a referrer whose host, or a parent domain,
//     is on Matomo's referrer-spam list (vendored in lists/, public domain)
//     or in Config.SpamReferrers / SiteSpamReferrers is refused with
//     ErrSpam and counted like bot traffic (kept, flagged Bot, with
//     KeepBots).
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
//	if err := en.Enrich(&tp); errors.Is(err, enrich.ErrBot) || errors.Is(err, enrich.ErrSpam) {
//		// drop it: counted in en.Stats().BotsDropped or SpamDropped
//	}
//	// tp.ClientIP and tp.UserAgent are now empty, whatever the outcome.
//
// Tests that need a real database build one with package
// github.com/touchtrail/touchtrail/pkg/enrich/geotest.
package enrich
