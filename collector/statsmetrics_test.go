package collector_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// registered returns the names of every metric reg can export (also the
// vectors that have no series yet), with the _bucket, _sum and _count of
// histograms.
func registered(reg *prometheus.Registry) map[string]bool {
	ch := make(chan *prometheus.Desc, 256)
	go func() { reg.Describe(ch); close(ch) }()
	re := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range ch {
		if m := re.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = true
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+suffix] = true
			}
		}
	}
	return names
}

// Every metric the Grafana dashboard queries is one the collector exports,
// so the dashboard cannot drift from the code.
func TestGrafanaDashboardMetricsExist(t *testing.T) {
	reg := prometheus.NewRegistry()
	collectortest.Start(t, collectortest.Options{Registry: reg})
	// The Go and process collectors are served too (Assemble adds them to
	// a registry it makes; here the test's registry gets them).
	b, err := os.ReadFile("../deploy/grafana/touchtrail.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	names := registered(reg)
	metric := regexp.MustCompile(`\b(touchtrail|go|process)_[a-z0-9_]+\b`)
	queried := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range metric.FindAllString(tg.Expr, -1) {
				queried++
				if strings.HasPrefix(m, "go_") || strings.HasPrefix(m, "process_") {
					continue // checked below against a registry that has them
				}
				if !names[m] {
					t.Errorf("panel %q queries %s, which the collector does not export", p.Title, m)
				}
			}
		}
	}
	if queried < 30 || len(dash.Panels) < 15 {
		t.Fatalf("%d metric references in %d panels: the dashboard was not read", queried, len(dash.Panels))
	}
	std := prometheus.NewRegistry()
	std.MustRegister(prometheusGoAndProcess()...)
	stdNames := registered(std)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range metric.FindAllString(tg.Expr, -1) {
				if (strings.HasPrefix(m, "go_") || strings.HasPrefix(m, "process_")) && !stdNames[m] {
					t.Errorf("panel %q queries %s, which the Go and process collectors do not export", p.Title, m)
				}
			}
		}
	}
}

// The writer's, the enricher's and the store's statistics are on /metrics
// with the values of the traffic sent.
func TestStackStatisticsExported(t *testing.T) {
	c := collectortest.Start(t, collectortest.Options{Config: func(cfg *collector.Config) { cfg.PublicMetrics = true }})
	cl := client{t, c.URL}
	var evs []string
	for i := range 30 {
		evs = append(evs, fmt.Sprintf(`{"id":"m%d","type":"pageview","visitor":"0123456789abcdef0123456789abcdef","seq":%d}`, i, i+1))
	}
	body := `{"site":"test","events":[` + strings.Join(evs, ",") + `]}`
	if a := cl.post(body, nil); a.status != 202 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	cl.post(body, nil) // the same ids again: duplicates
	m := cl.get("/metrics", "")
	if m.status != 200 {
		t.Fatalf("/metrics %d", m.status)
	}
	text := string(m.body)
	for _, want := range []string{
		"touchtrail_writer_records_total 30\n",
		"touchtrail_writer_duplicates_total 30\n",
		"touchtrail_writer_queue_records 0\n",
		`touchtrail_writer_commit_seconds_count{outcome="ok"} `,
		"touchtrail_writer_group_records_count ",
		"touchtrail_enrich_ua_cache_misses_total ",
		"touchtrail_enrich_ua_cache_hits_total ",
		`touchtrail_build_info{goversion="go`,
		`version="test"} 1`,
		"touchtrail_store_disk_bytes ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Error answers of the ingest path keep the CORS headers, so that a
// browser script can read a 429 and its Retry-After.
func TestCORSOnErrorAnswers(t *testing.T) {
	c := collectortest.Start(t, collectortest.Options{Config: func(cfg *collector.Config) {
		cfg.RatePerIP, cfg.RateBurst = 0.001, 1
		cfg.Sites[0].Origins = []string{"https://shop.example"}
		cfg.Sites[1].Origins = []string{"https://other.example"} // an empty list would allow any origin
	}})
	cl := client{t, c.URL}
	body := `{"site":"test","events":[{"id":"c1","type":"pageview","visitor":"0123456789abcdef0123456789abcdef"}]}`
	h := map[string]string{"Origin": "https://shop.example"}
	cl.post(body, h)
	a := cl.post(body, map[string]string{"Origin": "https://shop.example"})
	if a.status != 429 || a.header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		!strings.Contains(a.header.Get("Access-Control-Expose-Headers"), "Retry-After") || a.header.Get("Retry-After") == "" {
		t.Fatalf("429 answer: %d %v", a.status, a.header)
	}
	a = cl.post(body, map[string]string{"Origin": "https://evil.example"})
	if a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an unknown origin got CORS headers on %d", a.status)
	}
}

func prometheusGoAndProcess() []prometheus.Collector {
	return []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
}
