package sdk

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	c := &Client{cfg: Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}}
	f := func(attempt int, lo, hi time.Duration) {
		t.Helper()
		for range 200 {
			if d := c.backoff(attempt); d < lo || d > hi {
				t.Fatalf("attempt %d: %s, want within [%s, %s]", attempt, d, lo, hi)
			}
		}
	}
	f(0, 50*time.Millisecond, 100*time.Millisecond)
	f(1, 100*time.Millisecond, 200*time.Millisecond)
	f(3, 400*time.Millisecond, 800*time.Millisecond)
	f(5, time.Second, 2*time.Second) // capped
	f(1000, time.Second, 2*time.Second)
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f := func(h string, want time.Duration) {
		t.Helper()
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", h, got, want)
		}
	}
	f("", 0)
	f("1", time.Second)
	f(" 30 ", 30*time.Second)
	f("0", 0)
	f("-5", 0)
	f("soon", 0)
	f("Tue, 24 Nov 2026 12:00:07 GMT", 7*time.Second)
	f("Tue, 24 Nov 2026 11:00:00 GMT", 0) // in the past
}

func TestRetriable(t *testing.T) {
	for status, want := range map[int]bool{500: true, 502: true, 503: true, 429: true, 408: true, 400: false, 401: false, 404: false, 413: false} {
		if retriable(status) != want {
			t.Errorf("status %d: retriable %v", status, !want)
		}
	}
}

func TestTrackFillsAndChecks(t *testing.T) {
	cfg := Config{Endpoint: "http://127.0.0.1:1", Site: "shop", WriteKey: "k", QueueSize: 4, MaxEventBytes: 1024}.withDefaults()
	c := newClient(cfg) // no worker: the queue only fills
	const v, w = "0123456789abcdef0123456789abcdef", "ffffffffffffffffffffffffffffffff"
	before := time.Now()
	for _, vis := range []string{v, v, w} {
		if err := c.Track(Event{Type: TypePageview, Visitor: vis}); err != nil {
			t.Fatal(err)
		}
	}
	a, b, d := <-c.q, <-c.q, <-c.q
	if len(a.ID) != 32 || a.ID == b.ID || strings.Trim(a.ID, "0123456789abcdef") != "" {
		t.Errorf("ids %q %q: want 32 distinct hex characters", a.ID, b.ID)
	}
	if a.Seq != 1 || b.Seq != 2 || d.Seq != 1 {
		t.Errorf("seqs %d %d %d, want per visitor 1 2 and 1", a.Seq, b.Seq, d.Seq)
	}
	if a.Time.Before(before) || a.Time.After(time.Now()) {
		t.Errorf("time %v", a.Time)
	}
	// Given fields are kept.
	given := time.UnixMilli(42)
	c.Track(Event{Type: TypeSearch, Visitor: v, ID: "mine", Seq: 9, Time: given, Query: "q"})
	if e := <-c.q; e.ID != "mine" || e.Seq != 9 || !e.Time.Equal(given) {
		t.Errorf("given fields overwritten: %+v", e)
	}
	// Refusals.
	if err := c.Track(Event{Visitor: v}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no type: %v", err)
	}
	if err := c.Track(Event{Type: "teleport", Visitor: v}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown type: %v", err)
	}
	if err := c.Track(Event{Type: TypePageview}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no visitor: %v", err)
	}
	if err := c.Pageview("", "https://x/", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty visitor: %v", err)
	}
	if err := c.Pageview(strings.Repeat("v", 129), "https://x/", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("long visitor: %v", err)
	}
	if err := c.Track(Event{Type: TypePageview, Visitor: v, URL: strings.Repeat("u", 1024)}); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("large event: %v", err)
	}
	for range 4 {
		c.Track(Event{Type: TypePageview, Visitor: v})
	}
	if err := c.Track(Event{Type: TypePageview, Visitor: v}); !errors.Is(err, ErrQueueFull) {
		t.Errorf("full queue: %v", err)
	}
	if st := c.Stats(); st.Dropped != 2 || st.Queued != 4 {
		t.Errorf("stats %+v, want 2 dropped (too large, queue full), 4 queued", st)
	}
}

// The wire JSON: "no results" is sent as 0, an unknown count not at all,
// times as Unix milliseconds, the trusted fields as ip and ua.
func TestWireEncoding(t *testing.T) {
	f := func(e Event, want string) {
		t.Helper()
		if got := string(appendWire(nil, &e, time.UnixMicro(1764000000123456))); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
	const v = "0123456789abcdef0123456789abcdef"
	ts := time.UnixMicro(1764000000000500)
	f(Event{Type: TypeSearch, Visitor: v, ID: "a", Seq: 1, Time: ts, Query: "returns", Results: NoResults},
		`{"id":"a","type":"search","visitor":"`+v+`","seq":1,"ts":1764000000000.500,"sent":1764000000123.456,"query":"returns","results":0}`)
	f(Event{Type: TypeSearch, Visitor: v, ID: "b", Query: "q"}, `{"id":"b","type":"search","visitor":"`+v+`","sent":1764000000123.456,"query":"q"}`)
	f(Event{Type: TypeSearch, Visitor: v, ID: "c", Query: "q", Results: Found(12)}, `{"id":"c","type":"search","visitor":"`+v+`","sent":1764000000123.456,"query":"q","results":12}`)
	f(Event{Type: TypeCustom, Visitor: "session-42", ID: "d", Name: "paid", Props: []Prop{{"k", "a\"b"}}, ClientIP: netip.MustParseAddr("81.2.69.160"), UserAgent: "UA"},
		`{"id":"d","type":"custom","visitor":"session-42","sent":1764000000123.456,"name":"paid","props":{"k":"a\"b"},"ip":"81.2.69.160","ua":"UA"}`)
	if n, known := Found(-1).Count(); known || n != 0 {
		t.Errorf("Found(-1) = %d, %v: want unknown", n, known)
	}
	if UnknownResults != (Results{}) {
		t.Error("the zero Results is not UnknownResults")
	}
}
