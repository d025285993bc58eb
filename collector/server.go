package collector

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
	"golang.org/x/time/rate"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// submitter takes encoded records for durable storage (a store.Writer, or
// a cluster node's publisher).
type submitter interface {
	Submit(ctx context.Context, recs []store.Record) error
}

// ownedSubmitter is a submitter that waits at most timeout (in sync
// durability) without a context and calls owner.Release once it no longer
// needs the records' memory (a store.Writer): the ingest path then
// allocates nothing for it.
type ownedSubmitter interface {
	SubmitFor(recs []store.Record, timeout time.Duration, owner store.Releaser) error
}

// enricher fills a touchpoint's device, geo and channel fields and drops its
// client IP (an *enrich.Enricher); m memoises the lookups of one request.
type enricher interface {
	EnrichMemo(tp *event.Touchpoint, m *enrich.Memo) error
}

// Deps are the components a Server works with; cmd/touchtrail wires them.
type Deps struct {
	Store    store.Store // required: the query API reads it
	Writer   submitter   // required: ingest submits to it
	Enricher enricher    // optional: nil means no enrichment
	Salts    *Salts      // optional: cookieless visitor ids; nil refuses cookieless batches
	Log      *slog.Logger
	// Registry receives the collector's metrics and is served on /metrics.
	// Default: a new registry with the Go and process collectors.
	Registry *prometheus.Registry
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Journey holds the journey model's rules (session gap, stage URL
	// rules, checkout steps, thresholds). Default: journey.DefaultConfig().
	Journey *journey.Config
	// Ready, when set, is asked by /readyz: an error makes it answer 503
	// with the error (a cluster node's stream or consumer lag).
	Ready func() error
	// Scatter, when set, answers the site-wide questions (visitors,
	// funnel, paths, …) across a cluster's stores instead of Store: a
	// query node's cluster.Router.
	Scatter Scatterer
	// Eraser, when set, erases visitors and users instead of Store: a
	// cluster node's cluster.Router, through the stream to every store
	// holding the data. Default: Store, if it is an Eraser (a query node's
	// router), else Store's own EraseVisitor and EraseUser.
	Eraser Eraser
}

// Server is the collector's HTTP server. It is safe for concurrent use.
type Server struct {
	cfg       Config
	sites     map[string]*Site
	writeKeys writeKeys
	tokens    *tokenSet
	store     store.Store
	// reads answers the query API's reads of one visitor or user (trails,
	// journeys, users): the store, or on a cluster node its router, which
	// asks the stores owning the partition (this node's own store when it
	// owns it), so a store or all node answers for visitors it does not hold.
	reads    store.Store
	eraser   Eraser // nil: the store's own erase
	writer   submitter
	owned    ownedSubmitter // writer, when it is one; else nil
	enricher enricher
	salts    *Salts
	log      *slog.Logger
	now      func() time.Time
	limiter  *ipLimiter
	proxies  *proxies
	admitted inflight
	refusals *rate.Limiter // of held overload refusals
	// decodeSlots bound the ingest bodies being parsed at once.
	decodeSlots chan struct{}
	base        context.Context // of every query; cancelled at shutdown
	stopBase    context.CancelCauseFunc
	scans       chan struct{} // MaxScans slots
	wstats      writerStats   // nil when the writer tells nothing
	metrics     *metrics
	promH       fasthttp.RequestHandler
	journeyCfg  journey.Config
	http        *fasthttp.Server
	draining    atomic.Bool
	errLog      logThrottle // repeated 5xx log lines
	conns       *connLimits
	acceptWarn  time.Time // last accept-error log line; under acceptMu
	acceptMu    sync.Mutex
	lnMu        sync.Mutex                  // guards listeners and the draining switch against Serve
	listeners   []net.Listener              // what Serve was given, closed by Shutdown
	ui          fasthttp.RequestHandler     // nil: the UI is off
	ready       func() error                // nil: no extra readiness check
	scatter     Scatterer                   // nil: site-wide questions read store
	hooks       map[string]map[string]*hook // by site, then name
	// compat holds the switched-on compatibility APIs by path (compatapi.go).
	compat      map[string]fasthttp.RequestHandler
	compatSites compatSites

	routeIngest, routePixel, routePreflight, routeSnippet fasthttp.RequestHandler
	assets                                                map[string]*asset // the scripts served, by path
}

// New returns a server for cfg. It does not listen: call Serve.
func New(cfg Config, d Deps) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid collector config: %w", err)
	}
	if d.Store == nil || d.Writer == nil {
		return nil, fmt.Errorf("collector needs a store and a writer")
	}
	s := &Server{
		cfg:       cfg,
		sites:     make(map[string]*Site, len(cfg.Sites)),
		writeKeys: writeKeys{},
		tokens:    newTokenSet(cfg.Tokens),
		store:     d.Store,
		writer:    d.Writer,
		enricher:  d.Enricher,
		salts:     d.Salts,
		log:       d.Log,
		now:       d.Now,
		limiter:   newIPLimiter(cfg.RatePerIP, cfg.RateBurst, cfg.RateLimitedIPs),
		ready:     d.Ready,
		scatter:   d.Scatter,
		assets:    newAssets(cfg.SnippetPath, cfg.IngestPath),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("module", "collector")
	s.owned, _ = d.Writer.(ownedSubmitter)
	if s.eraser = d.Eraser; s.eraser == nil {
		s.eraser, _ = d.Store.(Eraser)
	}
	s.reads = d.Store
	if rt, ok := d.Scatter.(store.Store); ok { // a cluster node's router
		s.reads = rt
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.journeyCfg = journey.DefaultConfig()
	if d.Journey != nil {
		s.journeyCfg = *d.Journey
	}
	s.hooks = map[string]map[string]*hook{}
	for i := range cfg.Sites {
		site := &cfg.Sites[i]
		s.sites[site.ID] = site
		for _, k := range site.WriteKeys {
			s.writeKeys[site.ID] = append(s.writeKeys[site.ID], secret(sha256.Sum256([]byte(k))))
		}
		for _, hc := range site.Hooks {
			h, err := newHook(hc)
			if err != nil {
				return nil, fmt.Errorf("invalid collector config: site %q: %w", site.ID, err)
			}
			if s.hooks[site.ID] == nil {
				s.hooks[site.ID] = map[string]*hook{}
			}
			s.hooks[site.ID][h.name] = h
		}
	}
	var err error
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s.metrics = newMetrics(reg)
	s.admitted.max = cfg.MaxIngestBytes
	if cfg.RefusalDelay > 0 {
		s.refusals = rate.NewLimiter(rate.Limit(cfg.MaxRefusalRate), max(1, int(cfg.MaxRefusalRate)))
	}
	s.base, s.stopBase = context.WithCancelCause(context.Background())
	s.scans = make(chan struct{}, cfg.MaxScans)
	s.decodeSlots = make(chan struct{}, max(4, 2*runtime.GOMAXPROCS(0)))
	if ws, ok := d.Writer.(writerStats); ok {
		s.wstats = ws
		registerWriter(reg, ws)
	}
	if s.proxies, err = newProxies(cfg.ProxyHeader, cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("invalid collector config: %w", err)
	}
	if s.proxies != nil {
		s.proxies.malformed = s.metrics.proxyMalformed
	}
	s.conns = newConnLimits(cfg.MaxConns, cfg.MaxConnsPerAddr)
	s.conns.register(reg)
	if dc, ok := d.Store.(store.DiskChecker); ok {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "touchtrail_disk_full", Help: "1 while the store refuses writes for want of disk space (ingest answers 507).",
		}, func() float64 {
			if dc.DiskFull() != nil {
				return 1
			}
			return 0
		}))
	}
	s.promH = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.routeIngest = s.wrap("events", s.ingest)
	s.routePixel = s.wrap("pixel", s.pixel)
	s.routePreflight = s.wrap("preflight", s.preflight)
	s.routeSnippet = s.wrap("snippet", s.snippet)
	s.compat = s.newCompat()
	if s.ui, err = s.newUI(); err != nil {
		return nil, err
	}
	s.http = &fasthttp.Server{
		Handler:            s.serveHTTP,
		Name:               "touchtrail",
		MaxRequestBodySize: cfg.MaxBodyBytes,
		// Bodies are streamed: the ingest handler decides on the headers
		// (admission) before it reads a body; an unread one is discarded
		// or the connection closed.
		StreamRequestBody: true,
		// fasthttp reads up to 8 KiB of a streamed body before calling the
		// handler, capped by the request's body size limit: a limit of one
		// byte here lets the handler decide as soon as the body starts
		// (the handler enforces MaxBodyBytes itself).
		// The body then gets BodyTimeout from the end of its headers.
		HeaderReceived: func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
			return fasthttp.RequestConfig{MaxRequestBodySize: 1, ReadTimeout: time.Duration(cfg.BodyTimeout)}
		},
		DisablePreParseMultipartForm: true,
		// ReadTimeout bounds the headers from their first byte (a new
		// connection first gets firstByteTimeout, see headerClock): a
		// request fasthttp cannot finish parsing,
		// such as one with bare-LF line ends, is closed after it, and so is
		// a client trickling headers in (slowloris).
		ReadTimeout:           time.Duration(cfg.HeaderTimeout),
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		NoDefaultServerHeader: false,
		NoDefaultDate:         false,
		ErrorHandler:          s.transportError,
		Logger:                slogPrinter{s.log},
	}
	return s, nil
}

// Serve answers requests on ln until Shutdown, within the connection caps;
// temporary accept errors (too many open files) do not stop it.
//
// A Serve that begins after Shutdown returns at once, and Shutdown closes
// every listener Serve was given itself: fasthttp's own Shutdown closes
// only a listener its Serve had already taken, so a server stopped right
// after it started could go on accepting for ever.
func (s *Server) Serve(ln net.Listener) error {
	s.lnMu.Lock()
	if s.draining.Load() {
		s.lnMu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners = append(s.listeners, ln)
	s.lnMu.Unlock()
	if err := s.http.Serve(headerClockListener{&limitedListener{Listener: ln, limits: s.conns, warn: s.warnAccept}}); err != nil {
		return fmt.Errorf("collector serve: %w", err)
	}
	return nil
}

// warnAccept logs a temporary accept error at most once a minute.
func (s *Server) warnAccept(err error, backoff time.Duration) {
	s.acceptMu.Lock()
	defer s.acceptMu.Unlock()
	if time.Since(s.acceptWarn) < time.Minute {
		return
	}
	s.acceptWarn = time.Now()
	s.log.Warn("accept failed; backing off and serving on", "err", err, "backoff", backoff)
}

// Handler returns the request handler, for tests and embedding.
func (s *Server) Handler() fasthttp.RequestHandler { return s.serveHTTP }

// serveHTTP routes a request and counts it by route: requests by status
// class and a latency histogram.
func (s *Server) serveHTTP(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	s.handle(ctx)
	route := routeLabel(ctx.Path())
	if route == "other" {
		route = s.firstPartyRoute(ctx)
	}
	s.metrics.observe(route, ctx.Response.StatusCode(), start)
}

// firstPartyRoute names the route of the configured first-party paths (and
// of POST /), or "other".
func (s *Server) firstPartyRoute(ctx *fasthttp.RequestCtx) string {
	path := ctx.Path()
	if string(path) == s.cfg.IngestPath || string(path) == "/" && (ctx.IsPost() || ctx.IsOptions()) {
		return "events"
	}
	if _, ok := s.assets[string(path)]; ok {
		return "snippet"
	}
	return "other"
}

// Shutdown stops accepting requests and waits for the ones in flight (which
// may wait for their group commit) until ctx ends. Afterwards close the
// writer, then the store.
func (s *Server) Shutdown(ctx context.Context) error {
	s.lnMu.Lock()
	s.draining.Store(true)
	lns := s.listeners
	s.listeners = nil
	s.lnMu.Unlock()
	s.stopBase(errShuttingDown) // running queries answer 503
	err := s.http.ShutdownWithContext(ctx)
	for _, ln := range lns {
		ln.Close() // already closed when fasthttp's Serve had it: harmless
	}
	if err != nil {
		return fmt.Errorf("collector shutdown: %w", err)
	}
	return nil
}

// transportError answers what fasthttp itself rejects (body too large,
// unparsable request) with a JSON error like every other answer.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	status := fasthttp.StatusBadRequest
	msg := "malformed HTTP request"
	if _, ok := err.(*fasthttp.ErrSmallBuffer); ok {
		status, msg = fasthttp.StatusRequestHeaderFieldsTooLarge, "request headers too large"
	} else if err == fasthttp.ErrBodyTooLarge {
		status, msg = fasthttp.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", s.cfg.MaxBodyBytes)
	}
	s.metrics.errors.WithLabelValues("transport", fmt.Sprint(status)).Inc()
	s.metrics.observe("transport", status, time.Now())
	writeError(ctx, status, msg, 0)
}

// slogPrinter adapts fasthttp's Printf logger to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, args ...any) {
	p.log.Warn(fmt.Sprintf(format, args...), "source", "fasthttp")
}
