package collector

import (
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// commitMetrics observe every group commit of the writer (through
// store.WriterConfig.OnCommit): its size and its latency.
type commitMetrics struct {
	records prometheus.Histogram
	latency *prometheus.HistogramVec
}

func newCommitMetrics(reg prometheus.Registerer) *commitMetrics {
	m := &commitMetrics{
		records: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "touchtrail_writer_group_records", Help: "Records per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 7), // 1 … 4096
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "touchtrail_writer_commit_seconds", Help: "Time from handing a group to the store to its being durable, by outcome (ok, error).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms … 4 s
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.records, m.latency)
	return m
}

func (m *commitMetrics) observe(records int, took time.Duration, err error) {
	m.records.Observe(float64(records))
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.latency.WithLabelValues(outcome).Observe(took.Seconds())
}

// registerBuildInfo exports touchtrail_build_info{version, goversion,
// revision} = 1.
func registerBuildInfo(reg prometheus.Registerer, version string) {
	if version == "" {
		version = "dev"
	}
	revision := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "touchtrail_build_info", Help: "The running build: version, Go version and VCS revision (always 1).",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version(), "revision": revision},
	})
	g.Set(1)
	reg.MustRegister(g)
}

// registerStackMetrics exports the statistics the writer (beyond those of
// registerWriter), the enricher and the store keep (plain atomics) as Prometheus series read at scrape time:
// nothing is added to the hot path.
func registerStackMetrics(reg prometheus.Registerer, st *badger.Store, w *store.Writer, en *enrich.Enricher) {
	counter := func(name, help string, f func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	ws := func() store.WriterStats { return w.Stats() }
	es := func() enrich.Stats { return en.Stats() }
	ratio := func(hits, misses uint64) float64 {
		if hits+misses == 0 {
			return 0
		}
		return float64(hits) / float64(hits+misses)
	}
	reg.MustRegister(
		gauge("touchtrail_writer_last_group_records", "Records in the latest group commit.", func() float64 { return float64(ws().LastGroup) }),
		counter("touchtrail_writer_erased_total", "Records dropped because their visitor was erased after them.", func() uint64 { return ws().Erased }),
		counter("touchtrail_writer_disk_full_total", "Submits refused because the disk is full.", func() uint64 { return ws().DiskFull }),

		counter("touchtrail_enrich_bots_dropped_total", "Bot touchpoints dropped.", func() uint64 { return es().BotsDropped }),
		counter("touchtrail_enrich_bots_kept_total", "Bot touchpoints kept, flagged (keep_bots).", func() uint64 { return es().BotsKept }),
		counter("touchtrail_enrich_ua_cache_hits_total", "User agent cache hits.", func() uint64 { return es().UAHits }),
		counter("touchtrail_enrich_ua_cache_misses_total", "User agents parsed (cache misses).", func() uint64 { return es().UAMisses }),
		counter("touchtrail_enrich_geo_cache_hits_total", "Client address cache hits.", func() uint64 { return es().GeoHits }),
		counter("touchtrail_enrich_geo_cache_misses_total", "Client addresses looked up in the geo database.", func() uint64 { return es().GeoMisses }),
		counter("touchtrail_enrich_geo_failures_total", "Geo database lookups that failed.", func() uint64 { return es().GeoFailed }),
		gauge("touchtrail_enrich_ua_cache_hit_ratio", "Share of user agent lookups answered by the cache since start.", func() float64 {
			s := es()
			return ratio(s.UAHits, s.UAMisses)
		}),
		gauge("touchtrail_enrich_geo_cache_hit_ratio", "Share of client address lookups answered by the cache since start.", func() float64 {
			s := es()
			return ratio(s.GeoHits, s.GeoMisses)
		}),

		gauge("touchtrail_store_disk_bytes", "Bytes of the Badger directory on disk.", func() float64 { return float64(st.DiskSize()) }),
	)
}
