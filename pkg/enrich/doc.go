// Package enrich adds what the collector knows about a touchpoint that the
// client did not say: the device (browser, OS, class, bot) from the user
// agent, the place (country, region, city) from a GeoIP2/GeoLite2 database,
// and the marketing channel and UTM campaign from the URL and referrer. It
// then drops the client IP: no raw IP leaves this package.
//
// # Usage
//
//	en, err := enrich.New(enrich.Config{GeoDB: "data/geo/GeoLite2-City.mmdb"}, log)
//	defer en.Close()
//	tp.ClientIP, tp.UserAgent = ip, ua
//	if err := en.Enrich(&tp); errors.Is(err, enrich.ErrBot) {
//		// dropped and counted
//	}
//
// Both lookups are cached in bounded LRUs (the same user agents and the same
// addresses repeat), so a cache hit costs no allocation.
package enrich
