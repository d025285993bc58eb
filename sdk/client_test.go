package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/sdk"
)

var ctx = context.Background()

func visitorHex(i int) string { return fmt.Sprintf("%032x", i+1) }

func newClient(t *testing.T, endpoint string, tweak func(*sdk.Config)) *sdk.Client {
	t.Helper()
	cfg := sdk.Config{Endpoint: endpoint, Site: "test", WriteKey: "write-key-0123456789",
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
