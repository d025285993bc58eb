package collector_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// scrape reads /metrics into series → value ("name{labels}" as exposed).
func scrape(t *testing.T, c client) map[string]float64 {
	t.Helper()
	a := c.get("/metrics", collectortest.ReadToken)
	if a.status != http.StatusOK {
		t.Fatalf("metrics: %d %s", a.status, a.body)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(a.body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}

// The metrics tell the truth: accepted is what was stored, each refusal
// counted under its reason, every request by route and class, latencies
// per route, the writer's queue and commits.
func TestMetricsTellTheTruth(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.Sites[0].Origins = []string{"https://shop.example"}
		c.RatePerIP, c.RateBurst = 0.01, 5
		c.RespectDNT = true
	}})
	c := client{t, col.URL}
	ev := func(id string) string {
		return fmt.Sprintf(`{"id":%q,"type":"pageview","visitor":%q}`, id, visitorA)
	}
	// 1: three accepted, one invalid event in the batch.
	a := c.post(`{"site":"test","events":[`+ev("1")+","+ev("2")+","+ev("3")+`,{"id":"4","type":"teleport","visitor":"`+visitorA+`"}]}`, nil)
	if a.status != http.StatusAccepted {
		t.Fatalf("batch: %d %s", a.status, a.body)
	}
	// 2: malformed → invalid.
	c.post(`{"site":`, nil)
	// 3: foreign origin → origin.
	c.post(`{"site":"test","events":[`+ev("5")+`]}`, map[string]string{"Origin": "https://evil.example"})
	// 4: DNT → dnt, answered 202 but nothing kept.
	c.post(`{"site":"test","events":[`+ev("6")+","+ev("7")+`]}`, map[string]string{"DNT": "1"})
	// 5: a bot's event → bot.
	c.post(`{"site":"test","events":[`+ev("8")+`]}`, map[string]string{"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"})
	// 6: wrong content type → invalid.
	c.post(`{"site":"test","events":[`+ev("9")+`]}`, map[string]string{"Content-Type": "image/png"})
	// 7, 8: over the burst of 5 (the refused content type took no token) → rate.
	c.post(`{"site":"test","events":[`+ev("10")+`]}`, nil)
	c.post(`{"site":"test","events":[`+ev("11")+`]}`, nil)

	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	m := scrape(t, c)
	want := map[string]float64{
		`touchtrail_events_total{outcome="accepted"}`:                     float64(len(tr.Touchpoints)),
		`touchtrail_events_total{outcome="rejected"}`:                     1,
		`touchtrail_events_total{outcome="dnt"}`:                          2,
		`touchtrail_events_total{outcome="bot"}`:                          1,
		`touchtrail_events_total{outcome="overload"}`:                     0,
		`touchtrail_ingest_refused_total{reason="invalid"}`:               2,
		`touchtrail_ingest_refused_total{reason="origin"}`:                1,
		`touchtrail_ingest_refused_total{reason="dnt"}`:                   1,
		`touchtrail_ingest_refused_total{reason="rate"}`:                  2,
		`touchtrail_ingest_refused_total{reason="overload"}`:              0,
		`touchtrail_http_requests_total{class="2xx",route="events"}`:      3,
		`touchtrail_http_requests_total{class="4xx",route="events"}`:      5,
		`touchtrail_http_requests_total{class="2xx",route="query_trail"}`: 1,
		`touchtrail_http_request_duration_seconds_count{route="events"}`:  8,
		`touchtrail_writer_queue_records`:                                 0,
		`touchtrail_writer_queue_capacity_records`:                        65536,
		`touchtrail_writer_commit_errors_total`:                           0,
		`touchtrail_ingest_inflight_bytes`:                                0,
	}
	if len(tr.Touchpoints) != 3 {
		t.Errorf("%d touchpoints stored, want 3", len(tr.Touchpoints))
	}
	for k, v := range want {
		got, ok := m[k]
		if !ok {
			t.Errorf("%s: not exported", k)
		} else if got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if m["touchtrail_writer_commits_total"] < 1 || m["touchtrail_writer_records_total"] != 3 {
		t.Errorf("writer commits %v records %v, want ≥1 and 3", m["touchtrail_writer_commits_total"], m["touchtrail_writer_records_total"])
	}
}
