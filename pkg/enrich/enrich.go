package enrich

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// ErrBot is returned by Enrich for bot traffic when Config.KeepBots is off:
// the touchpoint should be dropped (it is counted in Stats.BotsDropped).
var ErrBot = errors.New("bot traffic dropped")

// ErrSpam is returned by Enrich for a touchpoint whose referrer is on a
// referrer-spam list, when Config.KeepBots is off: the touchpoint should be
// dropped (it is counted in Stats.SpamDropped).
var ErrSpam = errors.New("referrer spam dropped")

// Defaults of Config's zero values.
const (
	DefaultUACacheSize  = 4096
	DefaultGeoCacheSize = 65536
)

// Config configures an Enricher. Its zero value is usable: no geo database,
// bots dropped, nothing of the IP kept.
type Config struct {
	// GeoDB is the path of a GeoIP2/GeoLite2 City or Country database
	// (.mmdb). Empty or missing: country, region and city stay empty,
	// which New logs once; not an error. A file that is not such a
	// database is an error from New. Default: "".
	GeoDB string
	// KeepBots keeps bot traffic, flagged Bot with device class
	// event.DeviceBot, instead of refusing it with ErrBot. Default: false.
	KeepBots bool
	// IPPrefix keeps the client's network, truncated to /24 (IPv4) or /48
	// (IPv6), in Touchpoint.IPPrefix. Default: false: nothing of the IP is
	// kept.
	IPPrefix bool
	// UACacheSize bounds the number of parsed user agents kept.
	// Default: 4096.
	UACacheSize int
	// GeoCacheSize bounds the number of client addresses whose place (and
	// prefix) is kept. Default: 65536.
	GeoCacheSize int
	// SpamReferrers are referrer-spam domains of every site, checked with
	// the built-in list (Matomo's): a referrer whose host is one of them,
	// or a subdomain of one, is spam — dropped and counted like bot
	// traffic, or kept flagged Bot with KeepBots. Default: none.
	SpamReferrers []string `json:"spam_referrers,omitempty"`
	// SiteSpamReferrers are more such domains for one site each, by site
	// id. Default: none.
	SiteSpamReferrers map[string][]string `json:"site_spam_referrers,omitempty"`
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	if c.UACacheSize < 0 {
		return fmt.Errorf("enrich: UACacheSize %d: must not be negative", c.UACacheSize)
	}
	if c.GeoCacheSize < 0 {
		return fmt.Errorf("enrich: GeoCacheSize %d: must not be negative", c.GeoCacheSize)
	}
	if _, err := newSpamDomains(c.SpamReferrers); err != nil {
		return fmt.Errorf("enrich: spam_referrers: %w", err)
	}
	for site, ds := range c.SiteSpamReferrers {
		if _, err := newSpamDomains(ds); err != nil {
			return fmt.Errorf("enrich: site %q: spam_referrers: %w", site, err)
		}
	}
	return nil
}

// Stats are an Enricher's counters since New.
type Stats struct {
	BotsDropped uint64 // bot touchpoints refused with ErrBot
	BotsKept    uint64 // bot touchpoints kept (KeepBots)
	SpamDropped uint64 // referrer-spam touchpoints refused with ErrSpam
	SpamKept    uint64 // referrer-spam touchpoints kept, flagged Bot (KeepBots)
	UAHits      uint64 // user agent cache hits
	UAMisses    uint64 // user agents parsed
	GeoHits     uint64 // address cache hits
	GeoMisses   uint64 // addresses looked up in the database (or only truncated, without one)
	GeoFailed   uint64 // database lookups that failed (the place stays empty)
}

// Enricher fills the enrichment fields of touchpoints. Safe for concurrent
// use.
type Enricher struct {
	keepBots bool
	device   *deviceCache
	places   *places                // nil: neither a geo database nor IPPrefix
	spam     spamDomains            // the built-in list and Config.SpamReferrers
	siteSpam map[string]spamDomains // Config.SiteSpamReferrers

	botsDropped, botsKept, spamDropped, spamKept atomic.Uint64
}

// New opens the geo database (if any) and returns an Enricher for cfg. A
// nil log means slog.Default().
func New(cfg Config, log *slog.Logger) (*Enricher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.UACacheSize == 0 {
		cfg.UACacheSize = DefaultUACacheSize
	}
	if cfg.GeoCacheSize == 0 {
		cfg.GeoCacheSize = DefaultGeoCacheSize
	}
	if log == nil {
		log = slog.Default()
	}
	log = log.With("module", "enrich")
	db, err := openGeoDB(cfg.GeoDB)
	if err != nil {
		return nil, err
	}
	if db == nil {
		log.Warn("no geo database: country, region and city stay empty", "path", cfg.GeoDB)
	} else {
		log.Info("geo database open", "path", cfg.GeoDB, "type", db.Metadata.DatabaseType,
			"built", db.Metadata.BuildTime().UTC().Format("2006-01-02"))
	}
	e := &Enricher{keepBots: cfg.KeepBots, device: newDeviceCache(cfg.UACacheSize), spam: builtinSpam()}
	if len(cfg.SpamReferrers) > 0 {
		extra, _ := newSpamDomains(cfg.SpamReferrers) // validated above
		e.spam = make(spamDomains, len(e.spam)+len(extra))
		for d := range builtinSpam() {
			e.spam[d] = struct{}{}
		}
		for d := range extra {
			e.spam[d] = struct{}{}
		}
	}
	for site, ds := range cfg.SiteSpamReferrers {
		if e.siteSpam == nil {
			e.siteSpam = map[string]spamDomains{}
		}
		e.siteSpam[site], _ = newSpamDomains(ds)
	}
	if db != nil || cfg.IPPrefix {
		e.places = newPlaces(db, cfg.IPPrefix, cfg.GeoCacheSize, log)
	}
	return e, nil
}

// Enrich fills tp's device fields from tp.UserAgent, its place (and, when
// configured, IPPrefix) from tp.ClientIP, its UTM campaign from tp.URL and,
// for page views, its channel from tp.URL and tp.Referrer (see Channel).
// Whatever it returns, it clears ClientIP and UserAgent first: no raw IP is
// ever kept. It returns ErrBot for bot traffic and ErrSpam for a referrer
// on a referrer-spam list, unless Config.KeepBots is on (then the
// touchpoint is kept with Bot set), and nil otherwise.
//
// The strings it sets are shared with its caches and with other
// touchpoints (and substrings of tp.URL for the UTM fields): they are
// immutable and stay valid for ever. On a cache hit of both caches it does
// not allocate unless a UTM value needs percent-decoding. Safe for concurrent
// use (on different touchpoints), not after Close.
func (e *Enricher) Enrich(tp *event.Touchpoint) error { return e.EnrichMemo(tp, nil) }

// Memo remembers the device and place of the last user agent and address
// an Enricher looked up for it, so that the events of one request (which
// mostly share both) take the caches' locks once. The zero value is ready;
// Reset it (or use a new one) per request. Not safe for concurrent use.
type Memo struct {
	ua           string
	dev          device
	ip           netip.Addr
	pl           place
	hasUA, hasIP bool
}

// Reset forgets what m remembers.
func (m *Memo) Reset() { *m = Memo{} }

// EnrichMemo is Enrich, looking up the device and place through m (nil:
// straight from the caches).
func (e *Enricher) EnrichMemo(tp *event.Touchpoint, m *Memo) error {
	ip, ua := tp.ClientIP, tp.UserAgent
	tp.ClientIP, tp.UserAgent = netip.Addr{}, ""

	var d device
	switch {
	case m == nil:
		d = e.device.lookup(ua)
	case m.hasUA && m.ua == ua:
		d = m.dev
	default:
		d = e.device.lookup(ua)
		m.ua, m.dev, m.hasUA = ua, d, true
	}
	if d.bot {
		if !e.keepBots {
			e.botsDropped.Add(1)
			return ErrBot
		}
		e.botsKept.Add(1)
	}
	tp.Browser, tp.BrowserVersion, tp.OS, tp.OSVersion = d.browser, d.browserVersion, d.os, d.osVersion
	tp.Device, tp.Bot = d.class, d.bot
	if !d.bot && tp.Referrer != "" && e.isSpam(tp.Site, tp.Referrer) {
		if !e.keepBots {
			e.spamDropped.Add(1)
			return ErrSpam
		}
		e.spamKept.Add(1)
		tp.Bot = true
	}

	var pl place
	if e.places != nil && ip.IsValid() {
		ip = ip.Unmap().WithZone("")
		switch {
		case m == nil:
			pl = e.places.lookup(ip)
		case m.hasIP && m.ip == ip:
			pl = m.pl
		default:
			pl = e.places.lookup(ip)
			m.ip, m.pl, m.hasIP = ip, pl, true
		}
	}
	tp.Country, tp.Region, tp.City, tp.IPPrefix = pl.country, pl.region, pl.city, pl.prefix

	// The channel says how a visit arrived: it belongs to page views (the
	// journey takes a session's from its first one); other touchpoints
	// keep only the campaign of the page they happened on.
	utm, ch := Channel(tp.URL, tp.Referrer)
	tp.UTM, tp.Channel = utm, event.ChannelUnknown
	if tp.Type == event.TypePageview {
		tp.Channel = ch
	}
	return nil
}

// isSpam reports whether the host of the referrer ref, or a parent domain,
// is referrer spam for site.
func (e *Enricher) isSpam(site, ref string) bool {
	h := referrerHost(ref)
	if h == "" {
		return false
	}
	if e.spam.has(h) {
		return true
	}
	s, ok := e.siteSpam[site]
	return ok && s.has(h)
}

// Stats returns the counters. Safe for concurrent use.
func (e *Enricher) Stats() Stats {
	s := Stats{
		BotsDropped: e.botsDropped.Load(), BotsKept: e.botsKept.Load(),
		SpamDropped: e.spamDropped.Load(), SpamKept: e.spamKept.Load(),
		UAHits: e.device.hits.Load(), UAMisses: e.device.misses.Load(),
	}
	if e.places != nil {
		s.GeoHits, s.GeoMisses, s.GeoFailed = e.places.hits.Load(), e.places.misses.Load(), e.places.failed.Load()
	}
	return s
}

// Close releases the geo database. Enrich must not be called after it.
func (e *Enricher) Close() error { return e.places.close() }
