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
// the touchpoint should be dropped (it is counted).
var ErrBot = errors.New("bot traffic dropped")

// Config configures an Enricher. Zero values mean the defaults.
type Config struct {
	// GeoDB is the path of a GeoIP2/GeoLite2 City or Country database.
	// Empty or missing: no geo fields (logged once, not an error).
	GeoDB string
	// KeepBots keeps bot traffic, flagged Bot with device class bot,
	// instead of dropping it. Default: false.
	KeepBots bool
	// IPPrefix keeps the client's network, truncated to /24 (IPv4) or /48
	// (IPv6), in Touchpoint.IPPrefix. Default: false: nothing of the IP is
	// kept.
	IPPrefix bool
	// UACacheSize bounds the parsed user agents kept. Default: 4096.
	UACacheSize int
	// GeoCacheSize bounds the addresses whose place is kept. Default: 65536.
	GeoCacheSize int
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	if c.UACacheSize < 0 || c.GeoCacheSize < 0 {
		return fmt.Errorf("enrich: cache sizes must not be negative")
	}
	return nil
}

// Stats are an Enricher's counters.
type Stats struct {
	BotsDropped, BotsKept      uint64
	UAHits, UAMisses           uint64
	GeoHits, GeoMisses, GeoErr uint64
}

// Enricher fills the enrichment fields of touchpoints. Safe for concurrent use.
type Enricher struct {
	cfg    Config
	device *deviceCache
	geo    *geoDB // nil without a database
	log    *slog.Logger

	botsDropped, botsKept atomic.Uint64
}

// New opens the geo database (if any) and returns an Enricher. A corrupt
// database is an error; a missing one is not.
func New(cfg Config, log *slog.Logger) (*Enricher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.UACacheSize == 0 {
		cfg.UACacheSize = 4096
	}
	if cfg.GeoCacheSize == 0 {
		cfg.GeoCacheSize = 65536
	}
	if log == nil {
		log = slog.Default()
	}
	e := &Enricher{cfg: cfg, device: newDeviceCache(cfg.UACacheSize), log: log.With("module", "enrich")}
	geo, err := openGeo(cfg.GeoDB, cfg.GeoCacheSize)
	switch {
	case err != nil:
		return nil, err
	case geo == nil:
		e.log.Warn("no geo database: country, region and city stay empty", "path", cfg.GeoDB)
	default:
		e.log.Info("geo database open", "path", cfg.GeoDB, "type", geo.dbType)
	}
	e.geo = geo
	return e, nil
}

// Enrich fills tp's device, geo, UTM and (for page views) channel fields from tp.UserAgent,
// tp.ClientIP, tp.URL and tp.Referrer, then clears ClientIP and UserAgent.
// It returns ErrBot for bot traffic unless KeepBots is set.
func (e *Enricher) Enrich(tp *event.Touchpoint) error {
	ip := tp.ClientIP
	tp.ClientIP = netip.Addr{}
	ua := tp.UserAgent
	tp.UserAgent = ""

	d := e.device.lookup(ua)
	if d.bot {
		if !e.cfg.KeepBots {
			e.botsDropped.Add(1)
			return ErrBot
		}
		e.botsKept.Add(1)
	}
	tp.Browser, tp.BrowserVersion, tp.OS, tp.OSVersion = d.browser, d.browserVersion, d.os, d.osVersion
	tp.Device, tp.Bot = d.class, d.bot

	if e.geo != nil && ip.IsValid() {
		p := e.geo.lookup(ip)
		tp.Country, tp.Region, tp.City = p.country, p.region, p.city
	}
	if e.cfg.IPPrefix && ip.IsValid() {
		tp.IPPrefix = Anonymize(ip).String()
	}
	// The channel says how a visit arrived: it belongs to page views (the
	// journey takes a session's from its first one); other touchpoints
	// keep only the campaign of the page they happened on.
	utm, ch := Channel(tp.URL, tp.Referrer)
	tp.UTM = utm
	if tp.Type == event.TypePageview {
		tp.Channel = ch
	}
	return nil
}

// Stats returns the counters.
func (e *Enricher) Stats() Stats {
	s := Stats{BotsDropped: e.botsDropped.Load(), BotsKept: e.botsKept.Load()}
	s.UAHits, s.UAMisses = e.device.hits.Load(), e.device.misses.Load()
	if e.geo != nil {
		s.GeoHits, s.GeoMisses, s.GeoErr = e.geo.hits.Load(), e.geo.misses.Load(), e.geo.errs.Load()
	}
	return s
}

// Close releases the geo database.
func (e *Enricher) Close() error {
	if e.geo != nil {
		return e.geo.close()
	}
	return nil
}
