// Package collectortest starts a real collector for tests: fasthttp on a
// loopback port, a real Badger directory, the real enricher (with a geo
// database when given), and a demo site with tokens. The SDK, the snippet's
// browser tests and the benchmarks use it; nothing in it is a mock.
package collectortest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// Credentials of the test site.
const (
	Site       = "test"
	ReadToken  = "read-token-0123456789"
	AdminToken = "admin-token-0123456789"
	WriteKey   = "write-key-0123456789"
	OtherSite  = "other"
	OtherRead  = "other-read-token-0123456789"
)

// Options tune Start. Zero values mean defaults.
type Options struct {
	Dir        string           // Badger directory. Default: tb.TempDir()
	Addr       string           // listen address. Default: 127.0.0.1:0
	GeoDB      string           // .mmdb path. Default: none (no geo)
	Durability store.Durability // Default: store.Sync
	KeepBots   bool
	// Retention of the store, which also bounds what ingest accepts.
	// Default: 400 days.
	Retention time.Duration
	// Config adjusts the collector config after the test sites and tokens
	// are set (origins, limits, …).
	Config func(*collector.Config)
	// Store adjusts the Badger config (sizes, disk reserve).
	Store func(*badger.Config)
	Now   func() time.Time
	Log   *slog.Logger // Default: errors to stderr
	// Registry receives every metric. Default: a new one per start.
	Registry *prometheus.Registry
}

// Collector is a running collector.
type Collector struct {
	URL    string // http://127.0.0.1:port
	Addr   string
	Dir    string
	Server *collector.Server
	Store  *badger.Store
	Writer *store.Writer

	opts    Options
	stack   *collector.Stack
	stopped sync.Once
	done    chan struct{}
}

// Start starts a collector and stops it when the test ends.
func Start(tb testing.TB, opts Options) *Collector {
	tb.Helper()
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	c, err := Launch(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Stop)
	return c
}

// Launch starts a collector outside a test (the benchmark harness uses
// it); opts.Dir is required. Stop it with Stop.
func Launch(opts Options) (*Collector, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("collectortest: no directory")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	c := &Collector{opts: opts, Dir: opts.Dir}
	if err := c.start(opts.Addr); err != nil {
		return nil, err
	}
	return c, nil
}

// Config is the collector config Start uses, before opts.Config.
func Config() collector.Config {
	return collector.Config{
		Sites: []collector.Site{
			{ID: Site, WriteKeys: []string{WriteKey}},
			{ID: OtherSite},
		},
		Tokens: []collector.Token{
			{Name: "read", Secret: ReadToken, Scopes: []collector.Scope{collector.ScopeRead}, Sites: []string{Site}},
			{Name: "admin", Secret: AdminToken, Scopes: []collector.Scope{collector.ScopeAdmin}},
			{Name: "other-read", Secret: OtherRead, Scopes: []collector.Scope{collector.ScopeRead}, Sites: []string{OtherSite}},
		},
	}
}

func (c *Collector) start(addr string) error {
	bcfg := badger.Config{Dir: c.opts.Dir, SyncWrites: c.opts.Durability != store.Async, Retention: c.opts.Retention}
	if c.opts.Store != nil {
		c.opts.Store(&bcfg)
	}
	cfg := Config()
	if c.opts.Config != nil {
		c.opts.Config(&cfg)
	}
	stack, err := collector.Assemble(collector.Assembly{
		Store:      bcfg,
		Enrich:     enrich.Config{GeoDB: c.opts.GeoDB, KeepBots: c.opts.KeepBots},
		Writer:     store.WriterConfig{Mode: c.opts.Durability},
		Collector:  cfg,
		Cookieless: true,
		Now:        c.opts.Now,
		Log:        c.opts.Log,
		Registry:   c.opts.Registry,
		Version:    "test",
	})
	if err != nil {
		return fmt.Errorf("collectortest: %w", err)
	}
	var ln net.Listener
	for try := 0; ; try++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil || try == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond) // a restart may wait for the old socket
	}
	if err != nil {
		stack.Close(context.Background())
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	c.Addr = ln.Addr().String()
	c.URL = "http://" + c.Addr
	c.Server, c.Store, c.Writer, c.stack = stack.Server, stack.Store, stack.Writer, stack
	c.done = make(chan struct{})
	c.stopped = sync.Once{}
	go func() {
		defer close(c.done)
		_ = stack.Serve(ln)
	}()
	return nil
}

// Stop shuts the collector down gracefully: HTTP, then the writer's final
// flush, then the store. Calling it twice is harmless.
func (c *Collector) Stop() {
	c.stopped.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.stack.Close(ctx)
		<-c.done
	})
}

// Restart stops the collector and starts it again on the same address and
// Badger directory, as after a deploy.
func (c *Collector) Restart(tb testing.TB) {
	tb.Helper()
	c.Stop()
	if err := c.start(c.Addr); err != nil {
		tb.Fatal(err)
	}
}
