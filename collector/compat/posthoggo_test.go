package compat_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posthog/posthog-go"

	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// delivery is a posthog.Callback: it counts the messages the client says
// were delivered and keeps the failures.
type delivery struct {
	mu     sync.Mutex
	ok     int
	failed []error
	done   chan struct{}
	want   int
}

func newDelivery(want int) *delivery { return &delivery{done: make(chan struct{}), want: want} }

func (d *delivery) Success(posthog.APIMessage) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ok++
	if d.ok == d.want {
		close(d.done)
	}
}

func (d *delivery) Failure(_ posthog.APIMessage, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failed = append(d.failed, err)
}

// wait waits until every message is delivered (a client closed with a
// retry pending drops its batch).
func (d *delivery) wait(t *testing.T) {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.mu.Lock()
		defer d.mu.Unlock()
		t.Fatalf("posthog-go delivered %d of %d messages; failures: %v", d.ok, d.want, d.failed)
	}
}

// posthogGoJourney sends the journey through posthog-go to endpoint.
func posthogGoJourney(t *testing.T, endpoint, key, anon, user string) {
	t.Helper()
	d := newDelivery(9)
	client, err := posthog.NewWithConfig(key, posthog.Config{
		Endpoint: endpoint, BatchSize: 9, Interval: time.Hour, Callback: d,
		RetryAfter: func(int) time.Duration { return 50 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Minute)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	for _, m := range []posthog.Message{
		posthog.Capture{DistinctId: anon, Event: "$pageview", Timestamp: at(0),
			Properties: posthog.NewProperties().Set("$current_url", "https://shop.example/pricing?utm_source=news&utm_medium=email").Set("title", "Pricing")},
		posthog.Alias{DistinctId: user, Alias: anon, Timestamp: at(1)},
		posthog.Identify{DistinctId: user, Timestamp: at(1), Properties: posthog.NewProperties().Set("email", "ana@shop.example")},
		posthog.Capture{DistinctId: user, Event: "Products Searched", Timestamp: at(2), Properties: posthog.NewProperties().Set("query", "returns policy")},
		posthog.Capture{DistinctId: user, Event: "Checkout Started", Timestamp: at(3), Properties: posthog.NewProperties().Set("value", 49.5).Set("currency", "EUR")},
		posthog.Capture{DistinctId: user, Event: "Checkout Step Completed", Timestamp: at(4), Properties: posthog.NewProperties().Set("step", 2)},
		posthog.Capture{DistinctId: user, Event: "Order Completed", Timestamp: at(5), Properties: posthog.NewProperties().Set("total", 49.5).Set("currency", "EUR")},
		posthog.Capture{DistinctId: user, Event: "Live Chat Conversation Started", Timestamp: at(6)},
		posthog.Capture{DistinctId: user, Event: "$set", Timestamp: at(6)}, // ignored: a profile update
	} {
		if err := client.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	// The ninth message fills the batch: the client sends it (and retries
	// it) on its own; Close with a retry pending would drop it.
	d.wait(t)
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPostHogGo(t *testing.T) {
	col := start(t, nil)
	posthogGoJourney(t, col.URL, collectortest.WriteKey, "anon-pg-1", "u-pg-1")
	// The alias links the anonymous visitor; the identify the user's own.
	checkJourney(t, trailOfUser(t, col, "u-pg-1", 8), "anon-pg-1", "u-pg-1", 2)
}

// flaky is a reverse proxy in front of the collector that forwards the
// first request of path, then answers 500 as if it had failed: the client
// retries a batch the collector has stored. It records what it forwards.
type flaky struct {
	target   string
	path     string
	failed   atomic.Bool
	mu       sync.Mutex
	bodies   [][]byte
	encoding []string // Content-Encoding of each request of path
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req, _ := http.NewRequest(r.Method, f.target+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if r.URL.Path == f.path {
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		f.encoding = append(f.encoding, r.Header.Get("Content-Encoding"))
		f.mu.Unlock()
		if resp.StatusCode < 300 && f.failed.CompareAndSwap(false, true) {
			http.Error(w, `{"error":"proxy lost the answer"}`, http.StatusInternalServerError)
			return
		}
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

func (f *flaky) sends() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

// retried starts a flaky proxy to col for path.
func retried(t *testing.T, col *collectortest.Collector, path string) (*flaky, string) {
	t.Helper()
	f := &flaky{target: col.URL, path: path}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// countTrail counts the touchpoints of a visitor.
func countTrail(t *testing.T, col *collectortest.Collector, visitor string) int {
	t.Helper()
	var tr userTrail
	if st := getJSON(t, col, "/v1/sites/test/visitors/"+url.PathEscape(hexVisitor(visitor))+"/trail", &tr); st != http.StatusOK {
		t.Fatalf("trail of %s: status %d", visitor, st)
	}
	return len(tr.Touchpoints)
}

func TestRetryAfter500StoredOnce(t *testing.T) {
	t.Run("analytics-node", func(t *testing.T) {
		col := start(t, nil)
		f, proxy := retried(t, col, "/v1/batch")
		runJourney(t, "segment", proxy, collectortest.WriteKey, "anon-retry-1", "u-retry-1", time.Now().Add(-time.Minute))
		if n := f.sends(); n < 2 {
			t.Fatalf("the client sent its batch %d times: the retry never happened", n)
		}
		checkJourney(t, trailOfUser(t, col, "u-retry-1", 8), "anon-retry-1", "u-retry-1", 2)
		// Each visitor's trail holds each event once: 2 and 6 of 9.
		if a, u := countTrail(t, col, "anon-retry-1"), countTrail(t, col, "u-retry-1"); a != 2 || u != 6 {
			t.Fatalf("after the retry the trails hold %d and %d touchpoints, want 2 and 6", a, u)
		}
	})
	t.Run("posthog-go", func(t *testing.T) {
		col := start(t, nil)
		f, proxy := retried(t, col, "/batch/")
		posthogGoJourney(t, proxy, collectortest.WriteKey, "anon-retry-2", "u-retry-2")
		if n := f.sends(); n != 2 || !bytes.Equal(f.bodies[0], f.bodies[1]) {
			t.Fatalf("posthog-go sent %d bodies, want the same one twice", n)
		}
		checkJourney(t, trailOfUser(t, col, "u-retry-2", 8), "anon-retry-2", "u-retry-2", 2)
		if a, u := countTrail(t, col, "anon-retry-2"), countTrail(t, col, "u-retry-2"); a != 2 || u != 6 {
			t.Fatalf("after the retry the trails hold %d and %d touchpoints, want 2 and 6 (identify has no uuid: its id comes from its bytes)", a, u)
		}
	})
}
