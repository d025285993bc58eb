package collector

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Scope is what a query token may do.
type Scope string

// Scopes of query tokens: admin implies read.
const (
	ScopeRead  Scope = "read"
	ScopeAdmin Scope = "admin"
)

// Site is one tracked web site.
type Site struct {
	// ID names the site in the snippet's data-site and in the API:
	// [A-Za-z0-9_.-]{1,64}.
	ID string `json:"id"`
	// Origins are the browser origins (scheme://host[:port]) allowed to send
	// events for this site. Empty means any origin: fine for a demo, not for
	// production.
	Origins []string `json:"origins,omitempty"`
	// WriteKeys are secrets for server-side senders (the SDK). A request
	// with one may set trusted fields: the client IP and user agent it acts
	// for, and the user id on any event. It is not rate limited per IP.
	WriteKeys []string `json:"write_keys,omitempty"`
	// IdentifySecret, when set, makes a browser's identify event need
	// user_hash = hex(HMAC-SHA256(IdentifySecret, user)), computed by the
	// site's backend (sdk.UserHash); without a valid one the event is
	// rejected. Write-key holders need no hash. Default: "" (any browser
	// may identify as any user: fine only where user ids are not secret
	// and merging journeys by mistake does no harm).
	IdentifySecret string `json:"identify_secret,omitempty"`
	// Hooks are the site's help-desk webhooks:
	// POST /v1/sites/{site}/hooks/{name}. Default: none.
	Hooks []Hook `json:"hooks,omitempty"`
	// SpamReferrers are referrer-spam domains of this site, besides the
	// built-in list (Matomo's) and the enricher's spam_referrers: events
	// whose referrer host is one of them, or a subdomain, are dropped and
	// counted like bot traffic (kept, flagged, with keep-bots).
	// Default: none.
	SpamReferrers []string `json:"spam_referrers,omitempty"`
	// Domains are the site's domains as Plausible's script names them
	// (data-domain, the d field): a Plausible event for one of them is
	// this site's. Default: none.
	Domains []string `json:"domains,omitempty"`
	// UmamiWebsites are the website ids Umami's script sends
	// (data-website-id): an Umami event for one of them is this site's.
	// Default: none.
	UmamiWebsites []string `json:"umami_websites,omitempty"`
	// PostHogKeys are PostHog project API keys (phc_…) whose events are
	// this site's, taken as a browser's (origins, rate limit, DNT, no
	// trusted fields), as posthog-js sends them. A PostHog client whose
	// key is one of the site's WriteKeys is a trusted backend instead.
	// Default: none.
	PostHogKeys []string `json:"posthog_keys,omitempty"`
}

// CompatConfig switches the compatibility APIs on (see collector/compat).
// Each is off by default: a collector answers only what it was asked to.
type CompatConfig struct {
	// Segment serves Segment's HTTP tracking API (also RudderStack's):
	// POST /v1/batch, /v1/track, /v1/page, /v1/screen, /v1/identify,
	// /v1/group, /v1/alias, with a write key as the Basic auth user name.
	Segment bool `json:"segment"`
	// PostHog serves PostHog's capture API: /capture/, /batch/, /i/v0/e/
	// and /e/, the site found by the project key.
	PostHog bool `json:"posthog"`
	// Plausible serves Plausible's POST /api/event, the site found by
	// domain (Site.Domains).
	Plausible bool `json:"plausible"`
	// Umami serves Umami's POST /api/send, the site found by website id
	// (Site.UmamiWebsites).
	Umami bool `json:"umami"`
}

// Token is a query API credential.
type Token struct {
	Name   string  `json:"name"`
	Secret string  `json:"secret"`
	Scopes []Scope `json:"scopes"`
	// Sites limits the token to these site ids; empty means every site.
	Sites []string `json:"sites,omitempty"`
}

// Config is what New needs besides its dependencies. Zero values mean the
// documented defaults; see WithDefaults.
type Config struct {
	Sites  []Site  `json:"sites"`
	Tokens []Token `json:"tokens"`

	// MaxBodyBytes bounds a request body, compressed or not. Default: 256 KiB.
	MaxBodyBytes int `json:"max_body_bytes"`
	// MaxEvents bounds the events of one batch. Default: 500.
	MaxEvents int `json:"max_events"`
	// MaxIngestBytes bounds the ingest body bytes admitted and not yet
	// answered (read, gunzipped, being decoded or waiting for their
	// commit), whatever the number of connections: past it a request is
	// refused with 503 and Retry-After before its body is read. It must be
	// at least MaxBodyBytes. Default: 8 MiB (32 batches of 500 events at
	// once: more only adds latency on a machine of a few cores).
	MaxIngestBytes int64 `json:"max_ingest_bytes"`
	// RefusalDelay holds the answer to a request refused for overload
	// (503) this long: a client that ignores Retry-After cannot retry
	// faster than the collector can refuse cheaply. Negative: answer at
	// once. Default: 1s (the Retry-After it gets).
	RefusalDelay Duration `json:"refusal_delay"`
	// MaxRefusalRate bounds the overload refusals answered a second: past
	// it a refusal is held longer (up to 20s), so that refusing a flood
	// costs about the same at any number of connections (each refusal
	// reads and drops its body). Default: 200.
	MaxRefusalRate float64 `json:"max_refusal_rate"`
	// RatePerIP is the sustained requests per second one client IP may send
	// to the ingest path. Default: 20. Negative disables the limit.
	RatePerIP float64 `json:"rate_per_ip"`
	// RateBurst is the bucket size of RatePerIP. Default: 40.
	RateBurst int `json:"rate_burst"`
	// RateLimitedIPs bounds how many client IPs are tracked. Default: 100000.
	RateLimitedIPs int `json:"rate_limited_ips"`
	// ProxyHeader names the header trusted reverse proxies append the
	// client address to: "X-Forwarded-For" (also X-Real-IP and the like:
	// comma-separated addresses) or "Forwarded" (RFC 7239, its for=
	// parameters). The client is the rightmost address that is not a
	// trusted proxy; the header of a request from any other peer is
	// ignored. Default: "" (the connection's address is the client).
	ProxyHeader string `json:"proxy_header"`
	// TrustedProxies are the networks (CIDRs, or single addresses) of the
	// reverse proxies in front of the collector. Default, when ProxyHeader
	// is set: 127.0.0.0/8 and ::1 (a proxy on the same host).
	TrustedProxies []string `json:"trusted_proxies,omitempty"`
	// SnippetPath is one more path of the snippet, for a reverse proxy in
	// front of the site to pass on from the site's own origin, where
	// filter lists do not look ("/assets/app.js"); the add-ons are served
	// beside it ("/assets/t-engage.js"). Default: "" (/t.js, /t-chat.js,
	// /t-checkout.js and /t-engage.js only; they are always served).
	SnippetPath string `json:"snippet_path,omitempty"`
	// IngestPath is one more path of POST /v1/events ("/api/e"); the
	// scripts served then send to it, on the origin they were loaded from
	// unless data-api says otherwise. Default: "" (/v1/events only).
	IngestPath string `json:"ingest_path,omitempty"`
	// RespectDNT drops browser events sent with "DNT: 1" or "Sec-GPC: 1".
	RespectDNT bool `json:"respect_dnt"`
	// PublicMetrics serves /metrics without a token. Default: false.
	PublicMetrics bool `json:"public_metrics"`
	// DisableUI turns off the journey-map pages under /ui/. Default: false.
	DisableUI bool `json:"disable_ui"`
	// WriteTimeout bounds how long a sync request waits for its group to be
	// durable, written "10s". Default: 10s.
	WriteTimeout Duration `json:"write_timeout"`
	// MaxConns bounds the open client connections. Default: the process's
	// open-file limit less 1024 for the store's files, at least 256.
	MaxConns int `json:"max_conns"`
	// MaxConnsPerAddr bounds the open connections of one client address
	// (IPv6: of one /64). Default: 1024. Negative: no cap (a reverse proxy
	// that is the only client).
	MaxConnsPerAddr int `json:"max_conns_per_addr"`
	// HeaderTimeout bounds the reading of a request's headers from its
	// first byte (a new connection may first stay silent 10s): a request
	// whose headers never end (bare-LF line ends, a slow trickle) is
	// closed after it. Default: 800ms.
	HeaderTimeout Duration `json:"header_timeout"`
	// BodyTimeout bounds the reading of a request's body after its
	// headers. Default: 30s.
	BodyTimeout Duration `json:"body_timeout"`
	// QueryTimeout is the deadline of one query API request: past it the
	// query stops and answers 503. Default: 30s.
	QueryTimeout Duration `json:"query_timeout"`
	// MaxScans bounds the site-wide scans (funnel, paths, friction,
	// attribution) and whole journeys running at once; one more is
	// refused with 503 and Retry-After. Default: 4.
	MaxScans int `json:"max_scans"`
	// DefaultRange is the range a scan reads without from and to: the last
	// 30 days. Default: 720h.
	DefaultRange Duration `json:"default_range"`
	// MaxRange is the longest range a scan may read. Default: 8784h (366 days).
	MaxRange Duration `json:"max_range"`
	// Compat switches the compatibility APIs for other analytics
	// clients on. Default: all off.
	Compat CompatConfig `json:"compat"`
	// Limits bound each event.
	Limits event.Limits `json:"-"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 256 << 10
	}
	if c.MaxEvents <= 0 {
		c.MaxEvents = 500
	}
	if c.MaxIngestBytes <= 0 {
		c.MaxIngestBytes = 8 << 20
	}
	if c.RefusalDelay == 0 {
		c.RefusalDelay = Duration(time.Second)
	}
	if c.MaxRefusalRate <= 0 {
		c.MaxRefusalRate = 200
	}
	if c.RatePerIP == 0 {
		c.RatePerIP = 20
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 40
	}
	if c.RateLimitedIPs <= 0 {
		c.RateLimitedIPs = 100_000
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = Duration(10 * time.Second)
	}
	if c.MaxConns <= 0 {
		c.MaxConns = defaultMaxConns()
	}
	if c.MaxConnsPerAddr == 0 {
		c.MaxConnsPerAddr = 1024
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = Duration(800 * time.Millisecond)
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = Duration(30 * time.Second)
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = Duration(30 * time.Second)
	}
	if c.MaxScans <= 0 {
		c.MaxScans = 4
	}
	if c.DefaultRange <= 0 {
		c.DefaultRange = Duration(30 * 24 * time.Hour)
	}
	if c.MaxRange <= 0 {
		c.MaxRange = Duration(366 * 24 * time.Hour)
	}
	c.Limits = c.Limits.WithDefaults()
	return c
}

// ErrNoSites is returned by Validate for a config without sites.
var ErrNoSites = errors.New("no sites configured")

// Validate reports the first problem of c, naming the field as the config
// file writes it. Zero values are its defaults (see WithDefaults).
func (c Config) Validate() error {
	c = c.WithDefaults()
	seen := map[string]bool{}
	for i, s := range c.Sites {
		if !store.ValidSite(s.ID) {
			return fmt.Errorf("sites[%d].id %q: want 1 to 64 of A-Z a-z 0-9 _ . -", i, s.ID)
		}
		if seen[s.ID] {
			return fmt.Errorf("sites[%d].id: site %q configured twice", i, s.ID)
		}
		seen[s.ID] = true
		for _, o := range s.Origins {
			if o != "*" && !strings.Contains(o, "://") {
				return fmt.Errorf("sites[%d].origins: %q is not an origin (want scheme://host[:port] or *)", i, o)
			}
		}
		for _, k := range s.WriteKeys {
			if len(k) < 16 {
				return fmt.Errorf("sites[%d].write_keys: site %q: write keys must be at least 16 characters", i, s.ID)
			}
		}
		if s.IdentifySecret != "" && len(s.IdentifySecret) < 16 {
			return fmt.Errorf("site %q: the identify secret must be at least 16 characters", s.ID)
		}
		names := map[string]bool{}
		for _, h := range s.Hooks {
			if _, err := newHook(h); err != nil {
				return fmt.Errorf("site %q: %w", s.ID, err)
			}
			if names[h.Name] {
				return fmt.Errorf("site %q: hook %q configured twice", s.ID, h.Name)
			}
			names[h.Name] = true
		}
	}
	if len(c.Sites) == 0 {
		return ErrNoSites
	}
	if err := c.validateCompat(); err != nil {
		return err
	}
	if _, err := newProxies(c.ProxyHeader, c.TrustedProxies); err != nil {
		return err
	}
	if err := checkPath("snippet_path", c.SnippetPath); err != nil {
		return err
	}
	if err := checkPath("ingest_path", c.IngestPath); err != nil {
		return err
	}
	if c.SnippetPath != "" && c.SnippetPath == c.IngestPath {
		return fmt.Errorf("snippet_path and ingest_path are both %q", c.SnippetPath)
	}
	if c.MaxRange > 0 && c.DefaultRange > c.MaxRange {
		return fmt.Errorf("default_range (%s) is longer than max_range (%s)", c.DefaultRange, c.MaxRange)
	}
	if c.MaxIngestBytes > 0 && c.MaxIngestBytes < int64(c.MaxBodyBytes) {
		return fmt.Errorf("max_ingest_bytes (%d) is below max_body_bytes (%d): no body could ever be admitted", c.MaxIngestBytes, c.MaxBodyBytes)
	}
	for i, t := range c.Tokens {
		if len(t.Secret) < 16 {
			return fmt.Errorf("tokens[%d].secret: token %q: must be at least 16 characters", i, t.Name)
		}
		if len(t.Scopes) == 0 {
			return fmt.Errorf("tokens[%d].scopes: token %q has none (want read or admin)", i, t.Name)
		}
		for _, sc := range t.Scopes {
			if sc != ScopeRead && sc != ScopeAdmin {
				return fmt.Errorf("tokens[%d].scopes: token %q: unknown scope %q (want read or admin)", i, t.Name, sc)
			}
		}
		for _, s := range t.Sites {
			if !seen[s] {
				return fmt.Errorf("tokens[%d].sites: token %q: unknown site %q", i, t.Name, s)
			}
		}
	}
	switch {
	case c.MaxBodyBytes <= 0:
		return fmt.Errorf("max_body_bytes %d: must be positive", c.MaxBodyBytes)
	case c.MaxEvents <= 0:
		return fmt.Errorf("max_events %d: must be positive", c.MaxEvents)
	case c.RatePerIP == 0:
		return fmt.Errorf("rate_per_ip: 0 would refuse every request (negative: no limit)")
	case c.RateBurst <= 0:
		return fmt.Errorf("rate_burst %d: must be positive", c.RateBurst)
	case c.RateLimitedIPs <= 0:
		return fmt.Errorf("rate_limited_ips %d: must be positive", c.RateLimitedIPs)
	case c.WriteTimeout <= 0:
		return fmt.Errorf("write_timeout %s: must be positive", c.WriteTimeout)
	case c.MaxConns <= 0:
		return fmt.Errorf("max_conns %d: must be positive", c.MaxConns)
	case c.MaxConnsPerAddr == 0:
		return fmt.Errorf("max_conns_per_addr: 0 would refuse every connection (negative: no cap)")
	}
	return nil
}

// defaultMaxConns leaves 1024 descriptors of the open-file limit to the
// store, the logs and the geo database.
func defaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<20 {
		return 1 << 20
	}
	return max(int(rl.Cur)-1024, 256)
}

func (s *Site) allowsOrigin(origin []byte) bool {
	if len(s.Origins) == 0 {
		return true
	}
	return slices.ContainsFunc(s.Origins, func(o string) bool { return o == string(origin) || o == "*" })
}

// SiteSpamReferrers returns each site's SpamReferrers by site id, for
// enrich.Config.SiteSpamReferrers; nil when no site has any.
func (c Config) SiteSpamReferrers() map[string][]string {
	var m map[string][]string
	for _, s := range c.Sites {
		if len(s.SpamReferrers) > 0 {
			if m == nil {
				m = map[string][]string{}
			}
			m[s.ID] = s.SpamReferrers
		}
	}
	return m
}
