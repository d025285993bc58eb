package cluster

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the cluster's Prometheus metrics: publishing on ingest
// nodes, consuming on store nodes. One Metrics serves both roles of a
// node; make it with NewMetrics. Safe for concurrent use.
type Metrics struct {
	publishSeconds    prometheus.Histogram
	published         prometheus.Counter
	publishDuplicates prometheus.Counter
	publishFailed     *prometheus.CounterVec
	publishPendingFn  atomic.Pointer[pendingFn]

	consumed     *prometheus.CounterVec
	redelivered  prometheus.Counter
	pending      prometheus.Gauge // consumer: messages not yet delivered
	ackPending   prometheus.Gauge // consumer: delivered, not yet acknowledged
	partitionLag *prometheus.GaugeVec
	commitWait   prometheus.Histogram
	restarts     prometheus.Counter

	querySeconds *prometheus.HistogramVec
	queryMissing *prometheus.CounterVec

	scatterSeconds *prometheus.HistogramVec
	scatterFailed  *prometheus.CounterVec
	partialAnswers prometheus.Counter

	erase eraseMetrics // erase.go
}

type pendingFn struct{ f func() int }

// NewMetrics makes the metrics and registers them on reg (nil: not
// registered, for tests and benchmarks).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		publishSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "touchtrail_cluster_publish_seconds", Help: "Time from publishing a request's events to JetStream's acknowledgement of all of them (replicated when the stream is).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16),
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "touchtrail_cluster_published_total", Help: "Events published and acknowledged by JetStream.",
		}),
		publishDuplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "touchtrail_cluster_publish_duplicates_total", Help: "Published events JetStream dropped as duplicates (same message id within the duplicate window).",
		}),
		publishFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_cluster_publish_failed_total", Help: "Events not published or not acknowledged, by reason (disconnected, unavailable, no_stream, timeout, stalled, error).",
		}, []string{"reason"}),
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_cluster_consumed_total", Help: "Messages a store node took from its consumer, by outcome: committed (stored or duplicate, then acknowledged), retried (negatively acknowledged), poison (undecodable, terminated).",
		}, []string{"outcome"}),
		redelivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "touchtrail_cluster_redeliveries_total", Help: "Messages delivered to this store more than once (after a crash, a timeout or a negative acknowledgement); harmless, ids dedupe.",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "touchtrail_cluster_consumer_pending", Help: "Messages of this store's partitions not yet delivered to it (its consumer's lag).",
		}),
		ackPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "touchtrail_cluster_consumer_ack_pending", Help: "Messages delivered to this store and not yet acknowledged (waiting for their group commit).",
		}),
		partitionLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "touchtrail_cluster_partition_lag_seconds", Help: "Per owned partition: age of the oldest message this store has not yet committed (0: caught up).",
		}, []string{"partition"}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "touchtrail_cluster_consumer_restarts_total", Help: "Times this store's consumption was started again: its pull met no responders or was lost with a server, its consumer was deleted, or messages were pending with no pull waiting.",
		}),
		commitWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "touchtrail_cluster_store_commit_seconds", Help: "Time from a fetched batch to its durable commit and acknowledgement on a store node.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	m.querySeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "touchtrail_cluster_query_seconds", Help: "Query node: time of a sub-query routed to a partition's stores, answered or not.",
		Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16),
	}, []string{"partition"})
	m.queryMissing = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "touchtrail_cluster_query_unanswered_total", Help: "Query node: sub-queries a partition did not answer (no live store, timeout); the query answered 503 naming the partition.",
	}, []string{"partition"})
	m.scatterSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "touchtrail_cluster_scatter_seconds", Help: "Query node: time of a site-wide sub-query, observed for each partition it covered, answered or not.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"partition"})
	m.scatterFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "touchtrail_cluster_scatter_failed_total", Help: "Query node: site-wide sub-queries and scan sessions (the export, the UI's pages) that failed, by reason (no_responders, timeout, error, merge: an answer that would not merge, membership); their partitions went to a replica if one was left.",
	}, []string{"reason"})
	m.partialAnswers = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "touchtrail_cluster_partial_answers_total", Help: "Query node: site-wide answers missing at least one partition (partial: true, or 503 when none answered).",
	})
	pendingGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "touchtrail_cluster_publish_pending_acks", Help: "Events published and waiting for JetStream's acknowledgement.",
	}, func() float64 {
		if p := m.publishPendingFn.Load(); p != nil {
			return float64(p.f())
		}
		return 0
	})
	m.erase = newEraseMetrics(reg)
	if reg != nil {
		reg.MustRegister(m.publishSeconds, m.published, m.publishDuplicates, m.publishFailed, pendingGauge,
			m.consumed, m.redelivered, m.pending, m.ackPending, m.partitionLag, m.commitWait, m.restarts, m.querySeconds, m.queryMissing,
			m.scatterSeconds, m.scatterFailed, m.partialAnswers)
	}
	return m
}

func partLabel(p int) string { return strconv.Itoa(p) }
