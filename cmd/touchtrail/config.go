package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// serveConfig is everything `touchtrail serve` runs with. Defaults, then the
// -config file, then TOUCHTRAIL_* variables, then flags.
type serveConfig struct {
	Addr       string           `json:"addr"`        // listen address. Default: 127.0.0.1:8080
	PublicURL  string           `json:"public_url"`  // how browsers reach the collector, for the printed script tag
	DataDir    string           `json:"data_dir"`    // Badger directory and demo credentials. Default: ./data
	GeoDB      string           `json:"geo_db"`      // GeoIP2/GeoLite2 City .mmdb. Default: <data_dir>/geo/GeoLite2-City.mmdb if present
	Durability string           `json:"durability"`  // sync or async. Default: sync
	Retention  duration         `json:"retention"`   // how long touchpoints are kept. Default: 9600h (400 days)
	KeepBots   bool             `json:"keep_bots"`   // keep bot traffic, flagged, instead of dropping it
	IPPrefix   bool             `json:"ip_prefix"`   // keep the /24 (IPv4) or /48 (IPv6) of the client; never the IP
	LogLevel   string           `json:"log_level"`   // debug, info, warn, error. Default: info
	LogFormat  string           `json:"log_format"`  // text or json. Default: text
	Collector  collector.Config `json:"collector"`   // sites, tokens and ingest limits
	DemoData   bool             `json:"demo_data"`   // load a synthetic demo data set at start-up
	Cookieless bool             `json:"cookieless"`  // accept cookieless batches (daily salted visitor ids). Default: true
	ShutdownIn duration         `json:"shutdown_in"` // how long a graceful shutdown may take. Default: 30s
	Journey    journeyConfig    `json:"journey"`     // the journey model's rules
	Cluster    clusterConfig    `json:"cluster"`     // a cluster node over NATS JetStream; none: the single node
}

// journeyConfig is journey.Config as the config file writes it; zero
// fields keep journey.DefaultConfig's values.
type journeyConfig struct {
	SessionGap       duration            `json:"session_gap"`         // Default: 30m
	StageRules       []journey.StageRule `json:"stage_rules"`         // e.g. {"pattern": "/docs*", "stage": "use"}; before the defaults
	ReplaceRules     bool                `json:"replace_stage_rules"` // stage_rules alone, without the defaults
	CheckoutLastStep uint32              `json:"checkout_last_step"`  // Default: 3
	LowFeedback      float64             `json:"low_feedback"`        // score/scale below this is friction. Default: 0.6
	RepeatedSearches int                 `json:"repeated_searches"`   // Default: 3
	LapsedAfter      duration            `json:"lapsed_after"`        // Default: 720h
	// A chat or ticket this long after a search or help page counts
	// against self-service. Default: 24h.
	SelfServiceWindow duration `json:"self_service_window"`
	// Two tickets opened this close are repeat_ticket. Default: 168h.
	RepeatTicketWindow duration `json:"repeat_ticket_window"`
}

func (j journeyConfig) config() journey.Config {
	c := journey.DefaultConfig()
	if j.SessionGap > 0 {
		c.SessionGap = time.Duration(j.SessionGap)
	}
	if j.StageRules != nil || j.ReplaceRules {
		c.StageRules = journey.StageRulesFor(j.StageRules, j.ReplaceRules)
	}
	if j.CheckoutLastStep > 0 {
		c.CheckoutLastStep = j.CheckoutLastStep
	}
	if j.LowFeedback > 0 {
		c.LowFeedback = j.LowFeedback
	}
	if j.RepeatedSearches > 0 {
		c.RepeatedSearches = j.RepeatedSearches
	}
	if j.LapsedAfter > 0 {
		c.LapsedAfter = time.Duration(j.LapsedAfter)
	}
	if j.SelfServiceWindow > 0 {
		c.SelfServiceWindow = time.Duration(j.SelfServiceWindow)
	}
	if j.RepeatTicketWindow > 0 {
		c.RepeatTicketWindow = time.Duration(j.RepeatTicketWindow)
	}
	return c
}

// duration is a time.Duration written as "30s" in JSON.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	*d = duration(v)
	return err
}

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func defaultServeConfig() serveConfig {
	return serveConfig{
		Addr:       "127.0.0.1:8080",
		DataDir:    "./data",
		Durability: "sync",
		Retention:  duration(400 * 24 * time.Hour),
		LogLevel:   "info",
		LogFormat:  "text",
		Cookieless: true,
		ShutdownIn: duration(30 * time.Second),
		Cluster:    defaultClusterConfig(),
	}
}

// loadServeConfig fills the config from defaults, the file, the environment
// and the flags.
func loadServeConfig(args []string) (serveConfig, error) {
	cfg := defaultServeConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	file := fs.String("config", "", "JSON config file (sites, tokens, limits)")
	addr := fs.String("addr", cfg.Addr, "listen address")
	publicURL := fs.String("public-url", "", "URL browsers use to reach the collector (default: http://<addr>)")
	dataDir := fs.String("data", cfg.DataDir, "data directory (Badger, demo credentials)")
	geoDB := fs.String("geo-db", "", "GeoIP2/GeoLite2 City database (default: <data>/geo/GeoLite2-City.mmdb if present)")
	durability := fs.String("durability", cfg.Durability, "sync (answer when durable) or async (answer at enqueue)")
	retention := fs.Duration("retention", time.Duration(cfg.Retention), "how long touchpoints are kept")
	keepBots := fs.Bool("keep-bots", false, "keep bot traffic, flagged, instead of dropping it")
	ipPrefix := fs.Bool("ip-prefix", false, "keep the client's /24 or /48 network (never the IP)")
	respectDNT := fs.Bool("respect-dnt", false, "drop browser events sent with DNT: 1 or Sec-GPC: 1")
	ratePerIP := fs.Float64("rate-per-ip", 0, "ingest requests per second per client IP (default 20; -1: no limit)")
	maxBody := fs.Int("max-body", 0, "largest ingest body in bytes (default 262144)")
	proxyHeader := fs.String("proxy-header", "", "header with the client IP set by a trusted proxy, e.g. X-Forwarded-For")
	logLevel := fs.String("log-level", cfg.LogLevel, "debug, info, warn or error")
	logFormat := fs.String("log-format", cfg.LogFormat, "text or json")
	demoData := fs.Bool("demo-data", false, "load a synthetic demo data set into the demo site at start-up")
	scratch := defaultClusterConfig()
	clusterFlags(fs, &scratch)
	if err := parseFlags(fs, args); err != nil {
		return cfg, err
	}
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return cfg, fmt.Errorf("cannot read config: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", *file, err)
		}
	}
	over := func(name string, apply func()) {
		if explicit(fs, name) {
			apply()
		}
	}
	over("addr", func() { cfg.Addr = *addr })
	over("public-url", func() { cfg.PublicURL = *publicURL })
	over("data", func() { cfg.DataDir = *dataDir })
	over("geo-db", func() { cfg.GeoDB = *geoDB })
	over("durability", func() { cfg.Durability = *durability })
	over("retention", func() { cfg.Retention = duration(*retention) })
	over("keep-bots", func() { cfg.KeepBots = *keepBots })
	over("ip-prefix", func() { cfg.IPPrefix = *ipPrefix })
	over("respect-dnt", func() { cfg.Collector.RespectDNT = *respectDNT })
	over("rate-per-ip", func() { cfg.Collector.RatePerIP = *ratePerIP })
	over("max-body", func() { cfg.Collector.MaxBodyBytes = *maxBody })
	over("proxy-header", func() { cfg.Collector.ProxyHeader = *proxyHeader })
	over("log-level", func() { cfg.LogLevel = *logLevel })
	over("log-format", func() { cfg.LogFormat = *logFormat })
	over("demo-data", func() { cfg.DemoData = *demoData })
	if err := overCluster(fs, &cfg.Cluster); err != nil {
		return cfg, err
	}
	if cfg.GeoDB == "" {
		if p := filepath.Join(cfg.DataDir, "geo", "GeoLite2-City.mmdb"); fileExists(p) {
			cfg.GeoDB = p
		}
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.Addr
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	return cfg, cfg.validate()
}

func (c serveConfig) validate() error {
	if c.Durability != "sync" && c.Durability != "async" {
		return fmt.Errorf("durability %q: want sync or async", c.Durability)
	}
	if c.Retention <= 0 {
		return fmt.Errorf("retention must be positive")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	if err := c.Journey.config().Validate(); err != nil {
		return fmt.Errorf("journey.stage_rules: %w", err)
	}
	if err := c.Cluster.validate(); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// redacted is the config as printed at start-up: no secrets.
func (c serveConfig) redacted() serveConfig {
	r := c
	r.Cluster = c.Cluster.redacted()
	r.Collector.Sites = append([]collector.Site(nil), c.Collector.Sites...)
	for i := range r.Collector.Sites {
		r.Collector.Sites[i].WriteKeys = redact(r.Collector.Sites[i].WriteKeys)
		if r.Collector.Sites[i].IdentifySecret != "" {
			r.Collector.Sites[i].IdentifySecret = "<redacted>"
		}
		hooks := append([]collector.Hook(nil), r.Collector.Sites[i].Hooks...)
		for k := range hooks {
			hooks[k].Secret = "<redacted>"
		}
		r.Collector.Sites[i].Hooks = hooks
	}
	r.Collector.Tokens = append([]collector.Token(nil), c.Collector.Tokens...)
	for i := range r.Collector.Tokens {
		r.Collector.Tokens[i].Secret = "<redacted>"
	}
	return r
}

func redact(keys []string) []string {
	out := make([]string, len(keys))
	for i := range out {
		out[i] = "<redacted>"
	}
	return out
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
