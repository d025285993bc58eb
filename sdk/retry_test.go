package sdk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
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
	v, _ := event.ParseVisitor("0123456789abcdef0123456789abcdef")
	w, _ := event.ParseVisitor("ffffffffffffffffffffffffffffffff")
	before := time.Now().UnixMicro()
	for _, vis := range []event.VisitorID{v, v, w} {
		if err := c.Track(Event{Type: event.TypePageview, Visitor: vis, Results: -1}); err != nil {
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
	if a.TS < before || a.TS > time.Now().UnixMicro() || a.Site != "shop" {
		t.Errorf("ts %d site %q", a.TS, a.Site)
	}
	// Given fields are kept.
	c.Track(Event{Type: event.TypeSearch, Visitor: v, ID: "mine", Seq: 9, TS: 42, Site: "shop", Query: "q"})
	if e := <-c.q; e.ID != "mine" || e.Seq != 9 || e.TS != 42 {
		t.Errorf("given fields overwritten: %+v", e)
	}
	// Refusals.
	if err := c.Track(Event{Visitor: v}); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("no type: %v", err)
	}
	if err := c.Track(Event{Type: event.TypePageview}); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("no visitor: %v", err)
	}
	if err := c.Pageview("", "https://x/", ""); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("empty visitor: %v", err)
	}
	if err := c.Track(Event{Type: event.TypePageview, Visitor: v, URL: strings.Repeat("u", 1024)}); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("large event: %v", err)
	}
	for range 4 {
		c.Track(Event{Type: event.TypePageview, Visitor: v})
	}
	if err := c.Track(Event{Type: event.TypePageview, Visitor: v}); !errors.Is(err, ErrQueueFull) {
		t.Errorf("full queue: %v", err)
	}
	if st := c.Stats(); st.Dropped != 2 || st.Queued != 4 {
		t.Errorf("stats %+v, want 2 dropped (too large, queue full), 4 queued", st)
	}
}
