package collector

import (
	"bytes"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/touchtrail/touchtrail/pkg/store"
)

// Reasons a request or an event is refused: the reason label of
// touchtrail_ingest_refused_total and the outcomes of touchtrail_events_total
// besides accepted.
const (
	reasonRate     = "rate"     // over the per-IP rate limit (429)
	reasonOverload = "overload" // writer queue or ingest bytes in flight full, storage too slow (503)
	reasonDisk     = "disk"     // the disk is full (507)
	reasonInvalid  = "invalid"  // malformed, too large, wrong content type, invalid event
	reasonOrigin   = "origin"   // a browser origin the site does not allow (403)
	reasonDNT      = "dnt"      // Do Not Track / Global Privacy Control honoured (answered 202, nothing kept)
	reasonBot      = "bot"      // a bot's event, dropped
	reasonSpam     = "spam"     // an event with a referrer-spam referrer, dropped
	reasonError    = "error"    // an internal error (500)
)

// metrics are the collector's Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec   // by route and status class
	latency  *prometheus.HistogramVec // by route
	errors   *prometheus.CounterVec   // by route and status
	// events counts ingested events by outcome: accepted means stored
	// (sync) or queued (async); the others are refusal reasons.
	events    *prometheus.CounterVec
	accepted  prometheus.Counter     // events{outcome="accepted"}, resolved once
	refused   *prometheus.CounterVec // ingest requests refused whole, by reason
	rejected  *prometheus.CounterVec // rejected events by the field that was wrong
	batchSize prometheus.Histogram
	// pixelRefused counts pixel hits answered with the GIF but not stored.
	pixelRefused *prometheus.CounterVec
	inflight     prometheus.Gauge // ingest body bytes admitted and not yet answered
	queries      *prometheus.CounterVec

	proxyMalformed prometheus.Counter
	// hooks counts help-desk webhook deliveries by hook and outcome.
	hooks *prometheus.CounterVec

	routes map[string]*routeMetrics
}

// routeMetrics are one route's series, resolved once (no label lookup per
// request on the hot path).
type routeMetrics struct {
	latency prometheus.Observer
	class   [6]prometheus.Counter // 1xx..5xx by status/100
}

// routeNames are the routes whose series exist from the start.
var routeNames = []string{"events", "pixel", "snippet", "health", "metrics", "transport", "other",
	"query_visitors", "query_trail", "query_journey", "query_funnel", "query_paths", "query_friction",
	"query_attribution", "query_ask", "query", "ui", "hooks", routeSegment, routePostHog, routePlausible, routeUmami}

// routeLabel names the route of path for the metrics without allocating.
func routeLabel(path []byte) string {
	switch string(path) {
	case "/v1/events":
		return "events"
	case "/v1/p.gif":
		return "pixel"
	case "/t.js", "/t-chat.js", "/t-checkout.js", "/t-engage.js", "/t-feedback.js":
		return "snippet"
	case "/healthz", "/readyz":
		return "health"
	case "/metrics":
		return "metrics"
	}
	const sites = "/v1/sites/"
	switch {
	case hookRoute(path):
		return "hooks"
	case bytes.HasPrefix(path, []byte(sites)):
		last := path[bytes.LastIndexByte(path, '/')+1:]
		switch string(last) {
		case "visitors":
			return "query_visitors"
		case "trail":
			return "query_trail"
		case "journey":
			return "query_journey"
		case "funnel":
			return "query_funnel"
		case "paths":
			return "query_paths"
		case "friction":
			return "query_friction"
		case "attribution":
			return "query_attribution"
		case "selfservice", "satisfaction":
			return "query_ask"
		case "engagement":
			return "query_engagement"
		}
		return "query"
	case bytes.HasPrefix(path, []byte("/ui/")):
		return "ui"
	}
	return compatRouteLabel(path)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_http_requests_total", Help: "HTTP requests by route and status class (2xx, 4xx, …).",
		}, []string{"route", "class"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "touchtrail_http_request_duration_seconds", Help: "Time from the request's headers to its answer, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_http_errors_total", Help: "HTTP error answers by route and status.",
		}, []string{"route", "status"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_events_total",
			Help: "Ingested events by outcome: accepted (stored, or queued in async mode), rejected (invalid), bot, spam (referrer spam), dnt, overload, disk.",
		}, []string{"outcome"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_ingest_refused_total",
			Help: "Ingest requests refused as a whole, by reason: rate, overload, disk, invalid, origin, dnt, unknown_site, auth, error.",
		}, []string{"reason"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_events_rejected_total", Help: "Rejected events by the field that was wrong.",
		}, []string{"field"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "touchtrail_batch_events", Help: "Events per ingest request.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 6),
		}),
		pixelRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_pixel_refused_total", Help: "Pixel hits answered with the GIF but not stored, by reason (invalid, unknown_site, rate, overload, disk, …).",
		}, []string{"reason"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "touchtrail_ingest_inflight_bytes", Help: "Ingest body bytes admitted and not yet answered.",
		}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_queries_refused_total", Help: "Queries refused or stopped, by reason: busy, deadline, gone, shutdown.",
		}, []string{"reason"}),
		hooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_hook_deliveries_total",
			Help: "Help-desk webhook deliveries by hook and outcome: stored, auth, invalid, unknown_visitor, error.",
		}, []string{"hook", "outcome"}),
		proxyMalformed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "touchtrail_proxy_header_malformed_total",
			Help: "Requests from a trusted proxy whose proxy header held a malformed or unknown hop.",
		}),
		routes: map[string]*routeMetrics{},
	}
	for _, r := range []string{reasonRate, reasonOverload, reasonDisk, reasonInvalid, reasonOrigin, reasonDNT, reasonError, "unknown_site", "auth"} {
		m.refused.WithLabelValues(r)
	}
	for _, o := range []string{"accepted", "rejected", reasonBot, reasonSpam, reasonDNT, reasonOverload, reasonDisk} {
		m.events.WithLabelValues(o)
	}
	m.accepted = m.events.WithLabelValues("accepted")
	for _, r := range routeNames {
		rm := &routeMetrics{latency: m.latency.WithLabelValues(r)}
		for c := 1; c <= 5; c++ {
			rm.class[c] = m.requests.WithLabelValues(r, strconv.Itoa(c)+"xx")
		}
		m.routes[r] = rm
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.errors, m.events, m.refused, m.rejected, m.batchSize,
			m.inflight, m.queries, m.proxyMalformed, m.pixelRefused, m.hooks)
	}
	return m
}

// observe counts a finished request of route.
func (m *metrics) observe(route string, status int, start time.Time) {
	rm := m.routes[route]
	if rm == nil {
		rm = m.routes["other"]
	}
	rm.latency.Observe(time.Since(start).Seconds())
	if c := status / 100; c >= 1 && c <= 5 {
		rm.class[c].Inc()
	}
}

// writerStats is what a writer (store.Writer) tells about itself.
type writerStats interface {
	Stats() store.WriterStats
}

// registerWriter exports the writer's queue depth, commits and commit
// errors, read at scrape time.
func registerWriter(reg prometheus.Registerer, w writerStats) {
	if reg == nil || w == nil {
		return
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "touchtrail_writer_queue_records", Help: "Records waiting in the writer's queue for a group commit.",
		}, func() float64 { return float64(w.Stats().Queued) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "touchtrail_writer_queue_capacity_records", Help: "The bound of the writer's queue.",
		}, func() float64 { return float64(w.Stats().QueueSize) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "touchtrail_writer_commits_total", Help: "Group commits that succeeded.",
		}, func() float64 { return float64(w.Stats().Groups) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "touchtrail_writer_commit_errors_total", Help: "Group commits that failed (in async mode no client hears of them).",
		}, func() float64 { return float64(w.Stats().Errors) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "touchtrail_writer_records_total", Help: "New touchpoints stored by group commits.",
		}, func() float64 { return float64(w.Stats().Records) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "touchtrail_writer_duplicates_total", Help: "Records skipped as already stored (resent events).",
		}, func() float64 { return float64(w.Stats().Duplicates) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "touchtrail_writer_overloaded_total", Help: "Submits refused because the writer's queue was full.",
		}, func() float64 { return float64(w.Stats().Overloaded) }),
	)
}
