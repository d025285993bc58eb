package collector_test

// The Go SDK (its own module, replaced by ./sdk in go.mod) against the real
// collector: batching, retries, refusals, the middleware.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/sdk"
)

var sdkCtx = context.Background()

func newSDKClient(t *testing.T, endpoint string, tweak func(*sdk.Config)) *sdk.Client {
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
	t.Cleanup(func() { c.Close(sdkCtx) })
	return c
}

func sdkTrail(t *testing.T, col *collectortest.Collector, visitor string) []event.Touchpoint {
	t.Helper()
	v, err := event.ParseVisitor(visitor)
	if err != nil {
		t.Fatal(err)
	}
	var all []event.Touchpoint
	q := store.TrailQuery{Limit: store.MaxLimit}
	for {
		page, err := col.Store.Trail(sdkCtx, collectortest.Site, v, q)
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

func sdkVisitor(i int) string { return fmt.Sprintf("%032x", i+1) }

// 10,000 events from 8 goroutines: every one stored exactly once, each
// visitor's trail in order.
func TestManyEventsStoredOnceInOrder(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := newSDKClient(t, col.URL, nil)
	const goroutines, each = 8, 1250
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := c.Pageview(sdkVisitor(g), fmt.Sprintf("https://shop.example/%d", i), ""); err != nil {
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
	if err := c.Flush(sdkCtx); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Sent != goroutines*each || st.Dropped != 0 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	for g := range goroutines {
		tps := sdkTrail(t, col, sdkVisitor(g))
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
type sdkProxy struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	times    []time.Time
}

func newSDKProxy(t *testing.T, target string, answer func(n int64, w http.ResponseWriter) bool) *sdkProxy {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &sdkProxy{}
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
	p := newSDKProxy(t, col.URL, func(n int64, w http.ResponseWriter) bool {
		if n <= 3 {
			http.Error(w, `{"error":"overloaded"}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	c := newSDKClient(t, p.srv.URL, func(cfg *sdk.Config) { cfg.MaxRetries = 100 })
	for i := range 50 {
		c.Search(sdkVisitor(1), fmt.Sprintf("q%d", i), sdk.Found(i%3))
	}
	if err := c.Flush(sdkCtx); err != nil {
		t.Fatal(err)
	}
	if n := len(sdkTrail(t, col, sdkVisitor(1))); n != 50 || c.Stats().Retried < 3 {
		t.Fatalf("after 503s: %d stored, stats %+v", n, c.Stats())
	}

	// The collector goes away for two seconds, then comes back.
	col.Stop()
	for i := range 50 {
		c.ChatOpen(sdkVisitor(2), fmt.Sprintf("w%d", i))
	}
	// A real outage: the SDK tries and fails at least twice before it ends.
	retried := c.Stats().Retried
	testwait.For(t, 20*time.Second, "two failed deliveries", func() bool { return c.Stats().Retried >= retried+2 })
	col.Restart(t)
	if err := c.Flush(sdkCtx); err != nil {
		t.Fatal(err)
	}
	if n := len(sdkTrail(t, col, sdkVisitor(2))); n != 50 {
		t.Fatalf("after the restart: %d stored, want 50 (stats %+v)", n, c.Stats())
	}
	if st := c.Stats(); st.Failed != 0 || st.Sent != 100 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	p := newSDKProxy(t, col.URL, func(n int64, w http.ResponseWriter) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"rate limit exceeded"}`, http.StatusTooManyRequests)
			return true
		}
		return false
	})
	c := newSDKClient(t, p.srv.URL, nil)
	c.Identify(sdkVisitor(3), "u-1")
	if err := c.Flush(sdkCtx); err != nil {
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

// Events the collector refuses (a wrong write key: 401) are not retried,
// reach OnError and make Flush and Close say how many were lost.
func TestRefusedEventsAreReported(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	var mu sync.Mutex
	var reported []error
	c := newSDKClient(t, col.URL, func(cfg *sdk.Config) {
		cfg.WriteKey = "not-the-key"
		cfg.OnError = func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }
	})
	for i := range 12 {
		c.Custom(sdkVisitor(1), "invoice_paid", sdk.Prop{Key: "n", Value: fmt.Sprint(i)})
	}
	err := c.Flush(sdkCtx)
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
	p := newSDKProxy(t, col.URL, func(int64, http.ResponseWriter) bool { return false })
	c := newSDKClient(t, p.srv.URL, func(cfg *sdk.Config) { cfg.FlushInterval = time.Hour })
	for i := range 250 {
		c.Pageview(sdkVisitor(4), fmt.Sprintf("https://shop.example/p/%d", i), fmt.Sprintf("Product %d with a longer title", i*7919))
	}
	if err := c.Flush(sdkCtx); err != nil {
		t.Fatal(err)
	}
	if n := len(sdkTrail(t, col, sdkVisitor(4))); n != 250 {
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
	c := newSDKClient(t, col.URL, nil)
	var took atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := c.Search(sdkVisitor(10+g), fmt.Sprintf("q%d", i), sdk.Found(1))
				if errors.Is(err, sdk.ErrClosed) {
					return
				}
				if err == nil {
					took.Add(1)
				}
			}
		})
	}
	testwait.For(t, 10*time.Second, "the senders under way", func() bool { return took.Load() >= 200 }) // Close races them
	cctx, cancel := context.WithTimeout(sdkCtx, 30*time.Second)
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
		stored += len(sdkTrail(t, col, sdkVisitor(10+g)))
	}
	if uint64(stored) != st.Sent {
		t.Fatalf("%d stored, %d sent", stored, st.Sent)
	}
}

// A browser's visitor id from the snippet's cookie and a server-side
// checkout step land in one trail; the middleware records HTML page views
// only.
func TestCookieStitchesServerTouchpoints(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := newSDKClient(t, col.URL, nil)
	const browserVisitor = "5f0c3a1e9b2d4c6e8f0a1b2c3d4e5f60"
	html := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/checkout/done", func(w http.ResponseWriter, r *http.Request) {
		if err := c.CheckoutStep(sdk.VisitorID(r), sdk.Step{Step: 3, Name: "order placed", Value: 99.5, Currency: "EUR"}); err != nil {
			t.Error(err)
		}
		html(w, "<h1>Thank you</h1>")
	})
	mux.HandleFunc("/app.css", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "body{}") })
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/checkout/done", http.StatusFound) })
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		html(w, "<h1>Not found</h1>")
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"ok":true}`) })
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) { html(w, "<p>sent</p>") })
	app := httptest.NewServer(sdk.Middleware(c, mux))
	defer app.Close()
	get := func(method, path string, cookie bool) {
		t.Helper()
		req, _ := http.NewRequest(method, app.URL+path, nil)
		if cookie {
			req.AddCookie(&http.Cookie{Name: sdk.CookieName, Value: browserVisitor})
		}
		req.Header.Set("Referer", "https://www.bing.com/")
		req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get("GET", "/checkout/done", true) // checkout step + page view
	get("GET", "/app.css", true)       // static asset
	get("GET", "/old", true)           // a redirect is not a page view
	get("GET", "/missing", true)       // nor an error page
	get("GET", "/api", true)           // nor JSON
	get("POST", "/form", true)         // nor a POST
	get("GET", "/form", false)         // no cookie: no visitor
	if err := c.Flush(sdkCtx); err != nil {
		t.Fatal(err)
	}
	tps := sdkTrail(t, col, browserVisitor)
	if len(tps) != 2 {
		for _, tp := range tps {
			t.Logf("%s %s", tp.Type, tp.URL)
		}
		t.Fatalf("%d touchpoints in the browser's trail, want checkout + page view", len(tps))
	}
	types := map[event.Type]event.Touchpoint{}
	for _, tp := range tps {
		types[tp.Type] = tp
	}
	if k := types[event.TypeCheckoutStep]; k.Step != 3 || k.Value != 99.5 || k.Currency != "EUR" || k.Name != "order placed" {
		t.Errorf("checkout %+v", k)
	}
	p := types[event.TypePageview]
	if !strings.HasPrefix(p.URL, "http://127.0.0.1:") || !strings.HasSuffix(p.URL, "/checkout/done") || p.Referrer != "https://www.bing.com/" {
		t.Errorf("page view %+v", p)
	}
	if p.Browser != "Safari" || p.OS != "macOS" {
		t.Errorf("page view device %s on %s: want the browser's (from the trusted ua field), not Go's", p.Browser, p.OS)
	}
	if st := c.Stats(); st.Sent != 2 {
		t.Errorf("stats %+v, want 2 sent", st)
	}
}

// Without the cookie, a configured fallback names the visitor.
func TestMiddlewareVisitorFallback(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := newSDKClient(t, col.URL, nil)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!doctype html><title>Orders</title>")) // sniffed as text/html
	})
	h := sdk.Middleware(c, page, sdk.MiddlewareOptions{
		Visitor:        func(r *http.Request) string { return r.Header.Get("X-Session") },
		ClientIPHeader: "X-Forwarded-For",
	})
	req := httptest.NewRequest("GET", "http://shop.example/orders?page=2", nil)
	req.Header.Set("X-Session", "session-42")
	req.Header.Set("X-Forwarded-For", "81.2.69.160, 10.0.0.1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if err := c.Flush(sdkCtx); err != nil {
		t.Fatal(err)
	}
	tps := sdkTrail(t, col, "session-42")
	if len(tps) != 1 || tps[0].URL != "http://shop.example/orders?page=2" {
		t.Fatalf("trail %+v", tps)
	}
}

// BenchmarkEndToEnd measures events/s from Track to stored (sync
// durability, the collector's default) on a local collector.
func BenchmarkEndToEnd(b *testing.B) {
	col := collectortest.Start(b, collectortest.Options{})
	c, err := sdk.New(sdk.Config{Endpoint: col.URL, Site: collectortest.Site, WriteKey: collectortest.WriteKey,
		QueueSize: 1 << 17, MaxInFlight: 4, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	visitors := make([]string, 1<<16)
	for i := range visitors {
		visitors[i] = sdkVisitor(i)
	}
	b.ReportAllocs()
	start := time.Now()
	i := 0
	for b.Loop() {
		v := visitors[i&0xffff] // 65536 visitors, round robin
		i++
		e := sdk.Event{Type: sdk.TypePageview, Visitor: v, URL: "https://shop.example/products/blue-shoes"}
		for {
			err := c.Track(e)
			if err == nil {
				break
			}
			if !errors.Is(err, sdk.ErrQueueFull) {
				b.Fatal(err)
			}
			time.Sleep(100 * time.Microsecond) // let the worker catch up
		}
	}
	sdkCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Flush(sdkCtx); err != nil {
		b.Fatal(err)
	}
	if st := c.Stats(); st.Failed != 0 {
		b.Fatalf("stats %+v", st)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// The SDK's Ticket lands as a typed ticket in the visitor's trail.
func TestSDKTicket(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := newSDKClient(t, col.URL, nil)
	v := sdkVisitor(4242)
	if err := c.Ticket(v, sdk.Ticket{ID: "ZD-77", Status: "opened", Channel: "email", Category: "returns", Subject: "Refund?"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Track(sdk.Event{Type: sdk.TypeTicket, Visitor: v, Ticket: sdk.Ticket{ID: "ZD-77", Status: "solved"}, Score: 5, Scale: 5}); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(sdkCtx); err != nil {
		t.Fatal(err)
	}
	tr := sdkTrail(t, col, v)
	if len(tr) != 2 {
		t.Fatalf("%d touchpoints, want 2", len(tr))
	}
	a, b := tr[0], tr[1]
	if a.Type != event.TypeTicket || a.Ticket != "ZD-77" || a.Status != event.TicketOpened || a.TicketChannel != event.TicketEmail ||
		a.TicketCategory != "returns" || a.Subject != "Refund?" {
		t.Errorf("opened: %+v", a)
	}
	if b.Status != event.TicketSolved || b.Score != 5 || b.Scale != 5 {
		t.Errorf("solved: %+v", b)
	}
}
