package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/sdk"
)

var ctx = context.Background()

func newClient(t *testing.T, endpoint string, tweak func(*sdk.Config)) *sdk.Client {
	t.Helper()
	cfg := sdk.Config{Endpoint: endpoint, Site: collectortest.Site, WriteKey: collectortest.WriteKey,
		FlushInterval: 20 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := sdk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

func trail(t *testing.T, col *collectortest.Collector, visitor string) []event.Touchpoint {
	t.Helper()
	v, err := event.ParseVisitor(visitor)
	if err != nil {
		t.Fatal(err)
	}
	var all []event.Touchpoint
	q := store.TrailQuery{Limit: store.MaxLimit}
	for {
		page, err := col.Store.Trail(ctx, collectortest.Site, v, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Touchpoints...)
		if page.Next == "" {
			return all
		}
		q.Cursor = page.Next
	}
}

func visitorHex(i int) string { return fmt.Sprintf("%032x", i+1) }

// 10,000 events from 8 goroutines: every one stored exactly once, each
// visitor's trail in order.
func TestManyEventsStoredOnceInOrder(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := newClient(t, col.URL, nil)
	const goroutines, each = 8, 1250
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := c.Pageview(visitorHex(g), fmt.Sprintf("https://shop.example/%d", i), ""); err != nil {
					t.Error(err)
					return
				}
				if i%200 == 0 {
					time.Sleep(time.Millisecond) // a backend's traffic, not one burst
				}
			}
		})
	}
	wg.Wait()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Sent != goroutines*each || st.Dropped != 0 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	for g := range goroutines {
		tps := trail(t, col, visitorHex(g))
		if len(tps) != each {
			t.Fatalf("visitor %d: %d touchpoints, want %d", g, len(tps), each)
		}
		for i := range tps {
			if want := fmt.Sprintf("https://shop.example/%d", i); tps[i].URL != want || tps[i].Seq != uint32(i+1) {
				t.Fatalf("visitor %d position %d: %s seq %d, want %s seq %d", g, i, tps[i].URL, tps[i].Seq, want, i+1)
			}
		}
	}
}

// proxy fronts the collector; answer decides, per request, to answer itself
// (status > 0) or pass it on.
type proxy struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	times    []time.Time
}

func newProxy(t *testing.T, target string, answer func(n int64, w http.ResponseWriter) bool) *proxy {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &proxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.requests.Add(1)
		p.mu.Lock()
		p.times = append(p.times, time.Now())
		p.mu.Unlock()
		if answer(n, w) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func TestRetriesThrough503AndRestart(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	p := newProxy(t, col.URL, func(n int64, w http.ResponseWriter) bool {
		if n <= 3 {
			http.Error(w, `{"error":"overloaded"}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	c := newClient(t, p.srv.URL, func(cfg *sdk.Config) { cfg.MaxRetries = 100 })
	for i := range 50 {
		c.Search(visitorHex(1), fmt.Sprintf("q%d", i), i%3)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(trail(t, col, visitorHex(1))); n != 50 || c.Stats().Retried < 3 {
		t.Fatalf("after 503s: %d stored, stats %+v", n, c.Stats())
	}

	// The collector goes away for two seconds, then comes back.
	col.Stop()
	for i := range 50 {
		c.ChatOpen(visitorHex(2), fmt.Sprintf("w%d", i))
	}
	time.Sleep(2 * time.Second)
	col.Restart(t)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(trail(t, col, visitorHex(2))); n != 50 {
		t.Fatalf("after the restart: %d stored, want 50 (stats %+v)", n, c.Stats())
	}
	if st := c.Stats(); st.Failed != 0 || st.Sent != 100 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	p := newProxy(t, col.URL, func(n int64, w http.ResponseWriter) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"rate limit exceeded"}`, http.StatusTooManyRequests)
			return true
		}
		return false
	})
	c := newClient(t, p.srv.URL, nil)
	c.Identify(visitorHex(3), "u-1")
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.times) != 2 {
		t.Fatalf("%d requests, want 2", len(p.times))
	}
	if gap := p.times[1].Sub(p.times[0]); gap < time.Second {
		t.Fatalf("retried after %s, want at least Retry-After: 1s", gap)
	}
}

func TestQueueFullNeverBlocks(t *testing.T) {
	// A collector that never answers: the worker's sends hang.
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	t.Cleanup(srv.Close) // cleanups run last first: release the handlers, close the client, then the server
	c := newClient(t, srv.URL, func(cfg *sdk.Config) { cfg.QueueSize, cfg.BatchSize, cfg.MaxInFlight = 10, 1, 1 })
	t.Cleanup(func() { close(hang) })
	var full int
	start := time.Now()
	for range 1000 {
		if err := c.Pageview(visitorHex(1), "https://shop.example/", ""); errors.Is(err, sdk.ErrQueueFull) {
			full++
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 Track calls took %s", d)
	}
	if full < 900 || c.Stats().Dropped != uint64(full) {
		t.Fatalf("%d ErrQueueFull, stats %+v", full, c.Stats())
	}
}

func TestCloseWithUnreachableCollector(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	c := newClient(t, "http://"+addr, nil)
	for range 37 {
		c.Feedback(visitorHex(1), 2, 5, "slow")
	}
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Close(cctx)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %s with a 500ms deadline", d)
	}
	if !errors.Is(err, sdk.ErrUndelivered) || !strings.Contains(err.Error(), "37 events not delivered") {
		t.Fatalf("Close: %v, want 37 events not delivered", err)
	}
	if err := c.Pageview(visitorHex(1), "x", ""); !errors.Is(err, sdk.ErrClosed) {
		t.Errorf("Track after Close: %v", err)
	}
}

// Events the collector refuses (a wrong write key: 401) are not retried,
// reach OnError and make Flush and Close say how many were lost.
func TestRefusedEventsAreReported(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	var mu sync.Mutex
	var reported []error
	c := newClient(t, col.URL, func(cfg *sdk.Config) {
		cfg.WriteKey = "not-the-key"
		cfg.OnError = func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }
	})
	for i := range 12 {
		c.Custom(visitorHex(1), "invoice_paid", sdk.Prop{Key: "n", Value: fmt.Sprint(i)})
	}
	err := c.Flush(ctx)
	if !errors.Is(err, sdk.ErrUndelivered) || !strings.Contains(err.Error(), "12 events not delivered") {
		t.Fatalf("Flush: %v, want 12 events not delivered", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) == 0 || !strings.Contains(reported[0].Error(), "401") {
		t.Fatalf("OnError heard %v, want the 401", reported)
	}
	if st := c.Stats(); st.Failed != 12 || st.Retried != 0 || st.Sent != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A batch over the collector's body limit (413) is split until it fits.
func TestOversizedBatchIsSplit(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(cfg *collector.Config) { cfg.MaxBodyBytes = 8 << 10 }})
	p := newProxy(t, col.URL, func(int64, http.ResponseWriter) bool { return false })
	c := newClient(t, p.srv.URL, func(cfg *sdk.Config) { cfg.FlushInterval = time.Hour })
	for i := range 250 {
		c.Pageview(visitorHex(4), fmt.Sprintf("https://shop.example/p/%d", i), fmt.Sprintf("Product %d with a longer title", i*7919))
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(trail(t, col, visitorHex(4))); n != 250 {
		t.Fatalf("%d stored, want 250 (stats %+v)", n, c.Stats())
	}
	if n := p.requests.Load(); n < 3 {
		t.Fatalf("%d requests: the batch of 250 was not split", n)
	}
}

// Track racing Close: every event Track took is either delivered or
// counted undelivered by Close; none is silently lost.
func TestTrackRacingClose(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := newClient(t, col.URL, nil)
	var took atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := c.Search(visitorHex(10+g), fmt.Sprintf("q%d", i), 1)
				if errors.Is(err, sdk.ErrClosed) {
					return
				}
				if err == nil {
					took.Add(1)
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	closeErr := c.Close(cctx)
	wg.Wait()
	st := c.Stats()
	if uint64(took.Load()) != st.Sent+st.Failed || st.Queued != 0 || st.Pending != 0 {
		t.Fatalf("Track took %d events, stats %+v (Close: %v)", took.Load(), st, closeErr)
	}
	if closeErr != nil {
		t.Fatalf("Close: %v", closeErr)
	}
	stored := 0
	for g := range 4 {
		stored += len(trail(t, col, visitorHex(10+g)))
	}
	if uint64(stored) != st.Sent {
		t.Fatalf("%d stored, %d sent", stored, st.Sent)
	}
}

// The SDK is importable alone: its non-test code imports only the
// standard library and pkg/event (whose own dependencies are small).
func TestImportsOnlyStdlibAndEvent(t *testing.T) {
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range pkg.Imports {
		if path == "github.com/touchtrail/touchtrail/pkg/event" {
			continue
		}
		if p, err := build.Default.Import(path, ".", build.FindOnly); err != nil || !p.Goroot {
			t.Errorf("sdk imports %s, which is not the standard library (%v)", path, err)
		}
	}
	// And transitively, as the go command sees it.
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	allowed := map[string]bool{"github.com/touchtrail/touchtrail/sdk": true, "github.com/touchtrail/touchtrail/pkg/event": true,
		"github.com/valyala/fastjson": true, "github.com/valyala/fastjson/fastfloat": true}
	for _, p := range strings.Fields(string(out)) {
		if !allowed[p] {
			t.Errorf("sdk depends on %s", p)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	ok := sdk.Config{Endpoint: "http://x", Site: "s", WriteKey: "k"}
	f := func(field string, mutate func(*sdk.Config)) {
		t.Helper()
		cfg := ok
		mutate(&cfg)
		var ce *sdk.ConfigError
		if _, err := sdk.New(cfg); !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: %v, want a ConfigError on %s", field, err, field)
		}
	}
	f("Endpoint", func(c *sdk.Config) { c.Endpoint = "" })
	f("Endpoint", func(c *sdk.Config) { c.Endpoint = "ftp://x" })
	f("Endpoint", func(c *sdk.Config) { c.Endpoint = "collector.example" })
	f("Site", func(c *sdk.Config) { c.Site = "" })
	f("Site", func(c *sdk.Config) { c.Site = "a/b" })
	f("WriteKey", func(c *sdk.Config) { c.WriteKey = "" })
	f("QueueSize", func(c *sdk.Config) { c.QueueSize = -1 })
	f("Timeout", func(c *sdk.Config) { c.Timeout = -time.Second })
	f("MaxEventBytes", func(c *sdk.Config) { c.BatchBytes = 1000 })
	f("MinBackoff", func(c *sdk.Config) { c.MinBackoff = time.Minute })
	c, err := sdk.New(ok)
	if err != nil {
		t.Fatalf("zero values mean defaults: %v", err)
	}
	c.Close(ctx)
}
