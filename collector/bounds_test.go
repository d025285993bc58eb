package collector_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// slowStore is the real Badger store whose reads first take delay (as a
// big site's would), giving up when their context ends; stopped counts
// the reads that gave up.
type slowStore struct {
	store.Store
	delay   atomic.Int64 // nanoseconds
	stopped atomic.Int64
	waiting atomic.Int64 // reads inside wait now
}

// inside waits until n reads are held in wait: the query under test has
// reached the store.
func (s *slowStore) inside(t *testing.T, n int64) {
	t.Helper()
	if !testwait.Until(5*time.Second, func() bool { return s.waiting.Load() >= n }) {
		t.Fatalf("%d reads reached the store, want %d", s.waiting.Load(), n)
	}
}

func (s *slowStore) wait(ctx context.Context) error {
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	select {
	case <-time.After(time.Duration(s.delay.Load())):
		return nil
	case <-ctx.Done():
		s.stopped.Add(1)
		return fmt.Errorf("slow store: %w", ctx.Err())
	}
}

func (s *slowStore) Trail(ctx context.Context, site string, v event.VisitorID, q store.TrailQuery) (store.TrailPage, error) {
	if err := s.wait(ctx); err != nil {
		return store.TrailPage{}, err
	}
	return s.Store.Trail(ctx, site, v, q)
}

func (s *slowStore) Visitors(ctx context.Context, site string, q store.VisitorQuery) (store.VisitorPage, error) {
	if err := s.wait(ctx); err != nil {
		return store.VisitorPage{}, err
	}
	return s.Store.Visitors(ctx, site, q)
}

func (s *slowStore) UserVisitors(ctx context.Context, site, user string) ([]event.VisitorID, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.Store.UserVisitors(ctx, site, user)
}

func (s *slowStore) ScanTrails(ctx context.Context, site string, from, to time.Time, fn func(event.VisitorID, []event.Touchpoint) error) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.ScanTrails(ctx, site, from, to, fn)
}

type slowCollector struct {
	url, addr string
	srv       *collector.Server
	store     *slowStore
}

// startSlow runs a collector on a real Badger store behind slowStore.
func startSlow(t *testing.T, adjust func(*collector.Config)) *slowCollector {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	st, err := badger.Open(badger.Config{Dir: t.TempDir()}, log)
	if err != nil {
		t.Fatal(err)
	}
	w := store.NewWriter(st, store.WriterConfig{}, log)
	slow := &slowStore{Store: st}
	cfg := collectortest.Config()
	if adjust != nil {
		adjust(&cfg)
	}
	srv, err := collector.New(cfg, collector.Deps{Store: slow, Writer: w, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-served
		_ = w.Close(ctx)
		_ = st.Close()
	})
	return &slowCollector{url: "http://" + ln.Addr().String(), addr: ln.Addr().String(), srv: srv, store: slow}
}

const userU = "u-1"

// seed stores a small site: two visitors, one identified as userU.
func (sc *slowCollector) seed(t *testing.T) {
	t.Helper()
	c := client{t, sc.url}
	mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[
		{"id":"1","type":"pageview","visitor":%[1]q,"seq":1,"url":"https://shop.example/"},
		{"id":"2","type":"identify","visitor":%[1]q,"seq":2,"user":%[3]q},
		{"id":"3","type":"search","visitor":%[2]q,"seq":1,"query":"x","results":0}]}`,
		visitorA, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", userU), nil), 3)
}

// queryEndpoints are every read endpoint of the query API.
var queryEndpoints = map[string]string{
	"visitors":        "/v1/sites/test/visitors",
	"visitor trail":   "/v1/sites/test/visitors/" + visitorA + "/trail",
	"visitor journey": "/v1/sites/test/visitors/" + visitorA + "/journey",
	"user trail":      "/v1/sites/test/users/" + userU + "/trail",
	"user journey":    "/v1/sites/test/users/" + userU + "/journey",
	"funnel":          "/v1/sites/test/funnel?steps=pageview,search",
	"paths":           "/v1/sites/test/paths",
	"friction":        "/v1/sites/test/friction",
	"attribution":     "/v1/sites/test/attribution",
	"map":             "/v1/sites/test/map",
	"engagement":      "/v1/sites/test/engagement",
}

// Every query endpoint stops at its deadline and says so.
func TestQueryStopsAtDeadline(t *testing.T) {
	sc := startSlow(t, func(c *collector.Config) { c.QueryTimeout = collector.Duration(150 * time.Millisecond) })
	sc.seed(t)
	c := client{t, sc.url}
	for name, path := range queryEndpoints {
		if a := c.get(path, collectortest.ReadToken); a.status != http.StatusOK {
			t.Fatalf("%s without delay: %d %s", name, a.status, a.body)
		}
	}
	sc.store.delay.Store(int64(20 * time.Second))
	for name, path := range queryEndpoints {
		start := time.Now()
		before := sc.store.stopped.Load()
		a := c.get(path, collectortest.ReadToken)
		took := time.Since(start)
		var e struct{ Error string }
		a.json(t, &e)
		if a.status != http.StatusServiceUnavailable || !strings.Contains(e.Error, "deadline") || a.header.Get("Retry-After") == "" {
			t.Errorf("%s: %d %s, want 503 naming the deadline, with Retry-After", name, a.status, a.body)
		}
		if took > 2*time.Second {
			t.Errorf("%s answered after %s, deadline 150ms", name, took)
		}
		if sc.store.stopped.Load() == before {
			t.Errorf("%s: the store read did not stop", name)
		}
	}
}

// A query whose client goes away stops (no deadline needed).
func TestQueryStopsWhenClientGoes(t *testing.T) {
	sc := startSlow(t, nil)
	sc.seed(t)
	sc.store.delay.Store(int64(20 * time.Second))
	for _, name := range []string{"funnel", "visitor trail"} {
		before := sc.store.stopped.Load()
		r := dial(t, sc.addr)
		r.write("GET " + queryEndpoints[name] + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + collectortest.ReadToken + "\r\n\r\n")
		sc.store.inside(t, 1)
		r.c.Close()
		if !testwait.Until(2*time.Second, func() bool { return sc.store.stopped.Load() != before }) {
			t.Errorf("%s: still running 2s after its client closed the connection", name)
		}
	}
}

// At shutdown a running query answers 503, not 500.
func TestQueryAtShutdown(t *testing.T) {
	sc := startSlow(t, nil)
	sc.seed(t)
	sc.store.delay.Store(int64(20 * time.Second))
	got := make(chan answer, 1)
	go func() {
		got <- client{t, sc.url}.get(queryEndpoints["funnel"], collectortest.ReadToken)
	}()
	sc.store.inside(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go sc.srv.Shutdown(ctx)
	select {
	case a := <-got:
		if a.status != http.StatusServiceUnavailable || !strings.Contains(string(a.body), "shutting down") {
			t.Errorf("query at shutdown: %d %s, want 503 shutting down", a.status, a.body)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("query still running 3s after shutdown began")
	}
}

// Scans are capped: one over MaxScans is refused at once, then served
// once a slot is free.
func TestScanConcurrencyCap(t *testing.T) {
	sc := startSlow(t, func(c *collector.Config) { c.MaxScans, c.QueryTimeout = 1, collector.Duration(600*time.Millisecond) })
	sc.seed(t)
	sc.store.delay.Store(int64(20 * time.Second))
	c := client{t, sc.url}
	first := make(chan answer, 1)
	go func() { first <- c.get(queryEndpoints["paths"], collectortest.ReadToken) }()
	sc.store.inside(t, 1)
	for _, name := range []string{"funnel", "friction", "attribution", "engagement", "user journey", "visitor journey", "user trail"} {
		start := time.Now()
		a := c.get(queryEndpoints[name], collectortest.ReadToken)
		if a.status != http.StatusServiceUnavailable || !strings.Contains(string(a.body), "too many scans") ||
			a.header.Get("Retry-After") == "" || time.Since(start) > 300*time.Millisecond {
			t.Errorf("%s while a scan runs: %d %s after %s, want an immediate 503 with Retry-After", name, a.status, a.body, time.Since(start))
		}
	}
	<-first // stopped at its deadline
	sc.store.delay.Store(0)
	if a := c.get(queryEndpoints["funnel"], collectortest.ReadToken); a.status != http.StatusOK {
		t.Errorf("funnel with a free slot: %d %s", a.status, a.body)
	}
}

// Scans read the last 30 days unless asked otherwise, and no more than
// MaxRange.
func TestScanRange(t *testing.T) {
	sc := startSlow(t, nil)
	c := client{t, sc.url}
	old := time.Now().Add(-40 * 24 * time.Hour).UnixMilli()
	auth := map[string]string{"Authorization": "Bearer " + collectortest.WriteKey}
	mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[
		{"id":"o","type":"pageview","visitor":%q,"ts":%d,"sent":%d},
		{"id":"n","type":"pageview","visitor":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}`, visitorA, old, old), auth), 2)
	visitors := func(q string) (int, answer) {
		a := c.get("/v1/sites/test/funnel?steps=pageview"+q, collectortest.ReadToken)
		var f struct{ Visitors int }
		if a.status == http.StatusOK {
			a.json(t, &f)
		}
		return f.Visitors, a
	}
	if n, a := visitors(""); n != 1 {
		t.Errorf("default range: %d visitors (%d %s), want 1: the 40-day-old one is out", n, a.status, a.body)
	}
	from := time.Now().Add(-50 * 24 * time.Hour).Format(time.DateOnly)
	if n, a := visitors("&from=" + from); n != 2 {
		t.Errorf("from 50 days ago: %d visitors (%d %s), want 2", n, a.status, a.body)
	}
	if _, a := visitors("&from=2020-01-01"); a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "longer than") {
		t.Errorf("range of years: %d %s, want 400 naming the maximum", a.status, a.body)
	}
	if _, a := visitors("&from=2026-01-02&to=2026-01-01"); a.status != http.StatusBadRequest {
		t.Errorf("from after to: %d %s, want 400", a.status, a.body)
	}
}
