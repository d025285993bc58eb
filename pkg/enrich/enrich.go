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
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	if c.UACacheSize < 0 {
		return fmt.Errorf("enrich: UACacheSize %d: must not be negative", c.UACacheSize)
	}
	if c.GeoCacheSize < 0 {
		return fmt.Errorf("enrich: GeoCacheSize %d: must not be negative", c.GeoCacheSize)
	}
	return nil
}

// Stats are an Enricher's counters since New.
type Stats struct {
	BotsDropped uint64 // bot touchpoints refused with ErrBot
	BotsKept    uint64 // bot touchpoints kept (KeepBots)
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
	places   *places // nil: neither a geo database nor IPPrefix

	botsDropped, botsKept atomic.Uint64
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
	e := &Enricher{keepBots: cfg.KeepBots, device: newDeviceCache(cfg.UACacheSize)}
	if db != nil || cfg.IPPrefix {
		e.places = newPlaces(db, cfg.IPPrefix, cfg.GeoCacheSize, log)
	}
	return e, nil
}

// Enrich fills tp's device fields from tp.UserAgent, its place (and, when
// configured, IPPrefix) from tp.ClientIP, its UTM campaign from tp.URL and,
// for page views, its channel from tp.URL and tp.Referrer (see Channel).
// Whatever it returns, it clears ClientIP and UserAgent first: no raw IP is
// ever kept. It returns ErrBot for bot traffic, unless Config.KeepBots is
// on, and nil otherwise.
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

// Stats returns the counters. Safe for concurrent use.
func (e *Enricher) Stats() Stats {
	s := Stats{
		BotsDropped: e.botsDropped.Load(), BotsKept: e.botsKept.Load(),
		UAHits: e.device.hits.Load(), UAMisses: e.device.misses.Load(),
	}
	if e.places != nil {
		s.GeoHits, s.GeoMisses, s.GeoFailed = e.places.hits.Load(), e.places.misses.Load(), e.places.failed.Load()
	}
	return s
}

// Close releases the geo database. Enrich must not be called after it.
func (e *Enricher) Close() error { return e.places.close() }
