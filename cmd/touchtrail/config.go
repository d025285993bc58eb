package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// duration is the one duration type of the config: "30s" in the file, the
// environment and the flags alike.
type duration = collector.Duration

// serveConfig is everything `touchtrail serve` runs with. Defaults, then the
// -config file, then TOUCHTRAIL_* variables, then flags; every field can
// come from each of them (see serveFlags).
type serveConfig struct {
	Addr            string           `json:"addr"`             // listen address. Default: 127.0.0.1:8080
	PublicURL       string           `json:"public_url"`       // how browsers reach the collector, for the printed script tag. Default: http://<addr>
	DataDir         string           `json:"data_dir"`         // Badger directory and demo credentials. Default: ./data
	GeoDB           string           `json:"geo_db"`           // GeoIP2/GeoLite2 City .mmdb. Default: <data_dir>/geo/GeoLite2-City.mmdb if present
	Durability      string           `json:"durability"`       // sync or async. Default: sync
	Retention       duration         `json:"retention"`        // how long touchpoints are kept; older ones are refused. Default: 9600h (400 days)
	KeepBots        bool             `json:"keep_bots"`        // keep bot traffic, flagged, instead of dropping it
	IPPrefix        bool             `json:"ip_prefix"`        // keep the /24 (IPv4) or /48 (IPv6) of the client; never the IP
	Cookieless      bool             `json:"cookieless"`       // accept cookieless batches (daily salted visitor ids). Default: true
	LogLevel        string           `json:"log_level"`        // debug, info, warn, error. Default: info
	LogFormat       string           `json:"log_format"`       // text or json. Default: text
	Demo            bool             `json:"demo"`             // add the demo site and its tokens (kept in <data_dir>/demo.json)
	DemoData        bool             `json:"demo_data"`        // load a synthetic data set into the demo site at start-up
	ShutdownTimeout duration         `json:"shutdown_timeout"` // how long a graceful shutdown may take. Default: 30s
	MemoryLimit     byteSize         `json:"memory_limit"`     // the Go runtime's soft memory limit; off: none. Default: GOMEMLIMIT, else 512MiB (half the memory if less)
	Collector       collector.Config `json:"collector"`        // sites, tokens and ingest limits
	Journey         journeyConfig    `json:"journey"`          // the journey model's rules
	Cluster         clusterConfig    `json:"cluster"`          // a cluster node over NATS JetStream; none: the single node

	openFiles    string // what raiseOpenFileLimit did, for the log
	openFilesErr error
}

// journeyConfig is journey.Config as the config file writes it.
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
	c.SessionGap = time.Duration(j.SessionGap)
	c.StageRules = journey.StageRulesFor(j.StageRules, j.ReplaceRules)
	c.CheckoutLastStep = j.CheckoutLastStep
	c.LowFeedback = j.LowFeedback
	c.RepeatedSearches = j.RepeatedSearches
	c.LapsedAfter = time.Duration(j.LapsedAfter)
	c.SelfServiceWindow = time.Duration(j.SelfServiceWindow)
	c.RepeatTicketWindow = time.Duration(j.RepeatTicketWindow)
	return c
}

func defaultServeConfig() serveConfig {
	jd := journey.DefaultConfig()
	return serveConfig{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./data",
		Durability:      "sync",
		Retention:       duration(400 * 24 * time.Hour),
		LogLevel:        "info",
		LogFormat:       "text",
		Cookieless:      true,
		ShutdownTimeout: duration(30 * time.Second),
		MemoryLimit:     defaultMemoryLimit(),
		Collector:       collector.Config{}.WithDefaults(),
		Journey: journeyConfig{
			SessionGap:       duration(jd.SessionGap),
			CheckoutLastStep: jd.CheckoutLastStep,
			LowFeedback:      jd.LowFeedback,
			RepeatedSearches: jd.RepeatedSearches,
			LapsedAfter:      duration(jd.LapsedAfter),

			SelfServiceWindow:  duration(jd.SelfServiceWindow),
			RepeatTicketWindow: duration(jd.RepeatTicketWindow),
		},
		Cluster: defaultClusterConfig(),
	}
}

// serveFlags binds a flag to every setting of c; the flag's default is the
// setting's current value. The comment after each is its file key.
func serveFlags(fs *flag.FlagSet, c *serveConfig, file *string) {
	fs.StringVar(file, "config", *file, "JSON config `file` with any of the settings below (keys in README.md)")
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen `address`")                                                                    // addr
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "`URL` browsers use to reach the collector; when none, http://<addr>") // public_url
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data `directory` (Badger, demo credentials)")                                   // data_dir
	fs.StringVar(&c.GeoDB, "geo-db", c.GeoDB, "GeoIP2/GeoLite2 City database `file`; when none, <data>/geo/GeoLite2-City.mmdb if it exists")
	fs.StringVar(&c.Durability, "durability", c.Durability, "`mode`: sync (answer when durable) or async (answer at enqueue)")
	fs.Var(&c.Retention, "retention", "how long touchpoints are kept; older ones are refused at ingest")
	fs.BoolVar(&c.KeepBots, "keep-bots", c.KeepBots, "keep bot traffic, flagged, instead of dropping it")
	fs.BoolVar(&c.IPPrefix, "ip-prefix", c.IPPrefix, "keep the client's /24 or /48 network (never the IP)")
	fs.BoolVar(&c.Cookieless, "cookieless", c.Cookieless, "accept cookieless batches (daily salted visitor ids)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "`level`: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "`format`: text or json")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "add the demo site and tokens (saved in <data>/demo.json and demo.env)")
	fs.BoolVar(&c.DemoData, "demo-data", c.DemoData, "load a synthetic shop (2,000 visitors) into the demo site at start-up (with -demo)")
	fs.Var(&c.ShutdownTimeout, "shutdown-timeout", "how long a graceful shutdown may take")
	fs.Var(&c.MemoryLimit, "memory-limit", "soft memory `limit` of the process, e.g. 512MiB or 1GiB (the GC works harder near it); off: none") // memory_limit

	cc := &c.Collector
	fs.Var(jsonFlag{&cc.Sites}, "sites", "the tracked sites, e.g. '[{\"id\":\"shop\",\"origins\":[\"https://shop.example\"]}]'")
	fs.Var(jsonFlag{&cc.Tokens}, "tokens", "query API tokens, e.g. '[{\"name\":\"ops\",\"secret\":\"…16+ chars…\",\"scopes\":[\"admin\"]}]'")
	fs.IntVar(&cc.MaxBodyBytes, "max-body", cc.MaxBodyBytes, "largest ingest body in `bytes`")
	fs.IntVar(&cc.MaxEvents, "max-events", cc.MaxEvents, "most `events` in one ingest batch")
	fs.Float64Var(&cc.RatePerIP, "rate-per-ip", cc.RatePerIP, "ingest `requests` per second per client IP (-1: no limit)")
	fs.IntVar(&cc.RateBurst, "rate-burst", cc.RateBurst, "`requests` a client IP may send at once above its rate")
	fs.IntVar(&cc.RateLimitedIPs, "rate-limited-ips", cc.RateLimitedIPs, "most client `IPs` whose rate is tracked")
	fs.StringVar(&cc.ProxyHeader, "proxy-header", cc.ProxyHeader, "`header` with the client IP set by a trusted proxy, e.g. X-Forwarded-For")
	fs.BoolVar(&cc.RespectDNT, "respect-dnt", cc.RespectDNT, "drop browser events sent with DNT: 1 or Sec-GPC: 1")
	fs.BoolVar(&cc.PublicMetrics, "public-metrics", cc.PublicMetrics, "serve /metrics without a token")
	fs.Var(&cc.WriteTimeout, "write-timeout", "how long a sync ingest request waits for its commit")
	fs.Int64Var(&cc.MaxIngestBytes, "max-ingest-bytes", cc.MaxIngestBytes, "most ingest body `bytes` being read at once, over all requests (503 above)")
	fs.Float64Var(&cc.MaxRefusalRate, "max-refusal-rate", cc.MaxRefusalRate, "overload `refusals` answered a second; past it a refusal is held longer (up to 20s)")
	fs.Var(&cc.RefusalDelay, "refusal-delay", "how long an overload refusal (503) is held before it is answered; negative: at once")
	fs.Var(jsonFlag{&cc.TrustedProxies}, "trusted-proxies", "networks of the reverse proxies whose -proxy-header is believed, e.g. '[\"10.0.0.0/8\"]'")
	fs.StringVar(&cc.SnippetPath, "snippet-path", cc.SnippetPath, "one more `path` of the snippet on this origin, for first-party serving, e.g. /js/app.js")
	fs.StringVar(&cc.IngestPath, "ingest-path", cc.IngestPath, "one more `path` of POST /v1/events, for first-party serving, e.g. /api/e")
	fs.Var(jsonFlag{&cc.Compat}, "compat", "compatibility APIs to serve, e.g. '{\"segment\":true,\"plausible\":true}'")
	fs.BoolVar(&cc.DisableUI, "disable-ui", cc.DisableUI, "turn off the journey-map pages under /ui/")
	fs.Var(&cc.HeaderTimeout, "header-timeout", "how long a request's headers may take to arrive")
	fs.Var(&cc.BodyTimeout, "body-timeout", "how long a request's body may take to arrive after its headers")
	fs.Var(&cc.QueryTimeout, "query-timeout", "the deadline of one query API request (503 past it)")
	fs.IntVar(&cc.MaxScans, "max-scans", cc.MaxScans, "site-wide `scans` (funnel, paths, friction, …) running at once; one more answers 503")
	fs.Var(&cc.DefaultRange, "default-range", "the range a scan reads without from and to")
	fs.Var(&cc.MaxRange, "max-range", "the longest range a scan may read")
	fs.IntVar(&cc.MaxConns, "max-conns", cc.MaxConns, "most open client `connections` (default: the open-file limit less 1024, at least 256)")
	fs.IntVar(&cc.MaxConnsPerAddr, "max-conns-per-addr", cc.MaxConnsPerAddr, "most open `connections` of one client address (IPv6: one /64); -1: no cap")

	jc := &c.Journey
	fs.Var(&jc.SessionGap, "session-gap", "inactivity that ends a session")
	fs.Var(jsonFlag{&jc.StageRules}, "stage-rules", "the site's own URL rules for stages, tried before the defaults, e.g. '[{\"pattern\":\"/docs*\",\"stage\":\"use\"}]'")
	fs.BoolVar(&jc.ReplaceRules, "replace-stage-rules", jc.ReplaceRules, "use -stage-rules alone, without the default rules")
	fs.Func("checkout-last-step", "the checkout `step` that completes a purchase", func(s string) error {
		var n uint32
		if _, err := fmt.Sscan(s, &n); err != nil {
			return fmt.Errorf("want a whole number: %w", err)
		}
		jc.CheckoutLastStep = n
		return nil
	})
	fs.Lookup("checkout-last-step").DefValue = fmt.Sprint(jc.CheckoutLastStep)
	fs.Float64Var(&jc.LowFeedback, "low-feedback", jc.LowFeedback, "feedback `share` (score/scale) below which it is friction")
	fs.IntVar(&jc.RepeatedSearches, "repeated-searches", jc.RepeatedSearches, "`searches` in one session that count as friction")
	fs.Var(&jc.LapsedAfter, "lapsed-after", "absence after which a returning visitor is lapsed")
	fs.Var(&jc.SelfServiceWindow, "self-service-window", "a chat or ticket this long after a search or help page counts against self-service")
	fs.Var(&jc.RepeatTicketWindow, "repeat-ticket-window", "two tickets opened this close are repeat_ticket")

	clusterFlags(fs, &c.Cluster)
}

// loadServeConfig fills the config from defaults, the file, the environment
// and the flags, applies the derived defaults and validates it.
func loadServeConfig(args []string) (serveConfig, []string, error) {
	cfg := defaultServeConfig()
	file := configFileArg(args)
	if file != "" {
		if err := readConfigFile(file, &cfg); err != nil {
			return cfg, nil, err
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	serveFlags(fs, &cfg, &file)
	if err := parseFlags(fs, args); err != nil {
		return cfg, nil, usageError{err}
	}
	cfg.applyDerived()
	if err := cfg.Validate(); err != nil {
		return cfg, nil, usageError{err}
	}
	return cfg, fs.Args(), nil
}

// configFileArg finds -config in args or TOUCHTRAIL_CONFIG, before the
// other flags are read (they win over the file).
func configFileArg(args []string) string {
	scratch := defaultServeConfig()
	var file string
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	serveFlags(fs, &scratch, &file)
	_ = fs.Parse(args) // mistakes are reported by the real parse
	if file == "" {
		file = os.Getenv("TOUCHTRAIL_CONFIG")
	}
	return file
}

func readConfigFile(path string, cfg *serveConfig) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read config: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return usageError{fmt.Errorf("config %s: %w", path, err)}
	}
	return nil
}

// applyDerived fills the defaults that depend on other settings.
func (c *serveConfig) applyDerived() {
	if c.GeoDB == "" {
		if p := filepath.Join(c.DataDir, "geo", "GeoLite2-City.mmdb"); fileExists(p) {
			c.GeoDB = p
		}
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
}

// errNoSites explains how to add a site.
var errNoSites = errors.New(`no sites configured: add one in the config file ` +
	`({"collector":{"sites":[{"id":"shop","origins":["https://shop.example"]}]}}), ` +
	`or with -sites '[{"id":"shop"}]' (TOUCHTRAIL_SITES), or run with -demo for a demo site`)

// Validate reports the first problem of c, naming the setting as the config
// file writes it. The demo site counts as a site only when Demo is on.
func (c serveConfig) Validate() error {
	switch {
	case c.Addr == "":
		return fmt.Errorf("addr: empty")
	case c.DataDir == "":
		return fmt.Errorf("data_dir: empty")
	case c.Durability != "sync" && c.Durability != "async":
		return fmt.Errorf("durability %q: want sync or async", c.Durability)
	case c.Retention < duration(time.Hour):
		return fmt.Errorf("retention %s: want at least 1h", c.Retention)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("shutdown_timeout %s: must be positive", c.ShutdownTimeout)
	case c.MemoryLimit < 0 || (c.MemoryLimit > 0 && c.MemoryLimit < 64<<20):
		return fmt.Errorf("memory_limit %s: want at least 64MiB (Badger's memtables alone take 48 MB), or off", c.MemoryLimit)
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("log_format %q: want text or json", c.LogFormat)
	case c.DemoData && !c.Demo:
		return fmt.Errorf("demo_data: needs demo (-demo)")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		return fmt.Errorf("public_url %q: want http:// or https://", c.PublicURL)
	}
	if err := c.Journey.Validate(); err != nil {
		return fmt.Errorf("journey.%w", err)
	}
	if err := c.Cluster.validate(); err != nil {
		return fmt.Errorf("cluster.%w", err)
	}
	if len(c.Collector.Sites) == 0 && !c.Demo {
		return errNoSites
	}
	if c.Demo {
		return nil // the demo site and tokens are added before the collector validates
	}
	if err := c.Collector.WithDefaults().Validate(); err != nil {
		return fmt.Errorf("collector.%w", err)
	}
	return nil
}

// Validate reports the first problem of j, naming the field.
func (j journeyConfig) Validate() error {
	switch {
	case j.SessionGap <= 0:
		return fmt.Errorf("session_gap %s: must be positive", j.SessionGap)
	case j.CheckoutLastStep == 0:
		return fmt.Errorf("checkout_last_step: must be at least 1")
	case j.LowFeedback < 0 || j.LowFeedback > 1:
		return fmt.Errorf("low_feedback %g: want 0..1", j.LowFeedback)
	case j.RepeatedSearches < 2:
		return fmt.Errorf("repeated_searches %d: want at least 2", j.RepeatedSearches)
	case j.LapsedAfter <= 0:
		return fmt.Errorf("lapsed_after %s: must be positive", j.LapsedAfter)
	}
	for i, r := range j.StageRules {
		if r.Pattern == "" {
			return fmt.Errorf("stage_rules[%d].pattern: empty", i)
		}
	}
	if err := j.config().Validate(); err != nil {
		return fmt.Errorf("stage_rules: %w", err)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log_level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// masked is the config as printed at start-up: secrets masked.
func (c serveConfig) masked() serveConfig {
	r := c
	r.Collector.Sites = slices.Clone(c.Collector.Sites)
	for i := range r.Collector.Sites {
		r.Collector.Sites[i].WriteKeys = mask(r.Collector.Sites[i].WriteKeys)
		if r.Collector.Sites[i].IdentifySecret != "" {
			r.Collector.Sites[i].IdentifySecret = maskOne(r.Collector.Sites[i].IdentifySecret)
		}
		hooks := append([]collector.Hook(nil), r.Collector.Sites[i].Hooks...)
		for k := range hooks {
			hooks[k].Secret = "<redacted>"
		}
		r.Collector.Sites[i].Hooks = hooks
	}
	r.Cluster = c.Cluster.redacted()
	r.Collector.Tokens = slices.Clone(c.Collector.Tokens)
	for i := range r.Collector.Tokens {
		r.Collector.Tokens[i].Secret = maskOne(r.Collector.Tokens[i].Secret)
	}
	return r
}

func mask(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = maskOne(k)
	}
	return out
}

// maskOne keeps the first 4 characters of a secret (enough to tell which
// one is configured, as "ttr_…") and hides the rest.
func maskOne(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return s[:4] + "****"
}

// printConfig writes the effective configuration, readable, secrets masked.
func printConfig(w io.Writer, c serveConfig) {
	b, err := json.MarshalIndent(c.masked(), "", "  ")
	if err != nil {
		fmt.Fprintf(w, "effective configuration: %v\n", err)
		return
	}
	fmt.Fprintf(w, "effective configuration (secrets masked):\n%s\n", b)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
