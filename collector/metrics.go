package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the collector's Prometheus series.
type metrics struct {
	requests  *prometheus.CounterVec // by route and status class
	errors    *prometheus.CounterVec // by route and status
	events    *prometheus.CounterVec // by outcome: accepted, rejected, bot, dnt
	rejected  *prometheus.CounterVec // by reason field
	rateLimit prometheus.Counter
	batchSize prometheus.Histogram
	// pixelRefused counts pixel hits answered with the GIF but not stored.
	pixelRefused *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_http_requests_total", Help: "HTTP requests by route and status class.",
		}, []string{"route", "class"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_http_errors_total", Help: "HTTP error answers by route and status.",
		}, []string{"route", "status"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_events_total", Help: "Ingested events by outcome (accepted, rejected, bot, dnt).",
		}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_events_rejected_total", Help: "Rejected events by the field that was wrong.",
		}, []string{"field"}),
		rateLimit: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "touchtrail_rate_limited_total", Help: "Ingest requests refused by the per-IP rate limit.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "touchtrail_batch_events", Help: "Events per ingest request.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 6),
		}),
		pixelRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_pixel_refused_total", Help: "Pixel hits answered with the GIF but not stored, by reason (invalid, unknown_site, rate, overload, disk, …).",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.errors, m.events, m.rejected, m.rateLimit, m.batchSize, m.pixelRefused)
	}
	return m
}
