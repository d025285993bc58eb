package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// Assembly is everything Assemble needs to build the collector's stack:
// store → enricher → writer → server. `touchtrail serve` and the test
// launcher (collectortest) both build it here, so the end-to-end tests run
// the production wiring.
type Assembly struct {
	Store     badger.Config
	Enrich    enrich.Config
	Writer    store.WriterConfig
	Collector Config
	// Cookieless accepts cookieless batches (daily salted visitor ids).
	Cookieless bool
	// Journey holds the journey model's rules. Default: journey.DefaultConfig().
	Journey *journey.Config
	// Registry receives every metric (the collector's and the stack's
	// statistics). Default: a new registry with the Go and process collectors.
	Registry *prometheus.Registry
	Now      func() time.Time
	Log      *slog.Logger
	// Version is the build's version, for touchtrail_build_info.
	Version string
}

// Stack is an assembled, not yet serving, collector.
type Stack struct {
	Store    *badger.Store
	Enricher *enrich.Enricher
	Writer   *store.Writer
	Server   *Server
	log      *slog.Logger
}

// Assemble opens the store, the enricher and the writer and builds the
// server on them. On error whatever was opened is closed again. The
// retention of the store also bounds what ingest accepts: an event older
// than it would expire at once, so it is refused.
func Assemble(a Assembly) (*Stack, error) {
	if a.Log == nil {
		a.Log = slog.Default()
	}
	if a.Store.Retention > 0 && a.Collector.Limits.Retention == 0 {
		a.Collector.Limits.Retention = a.Store.Retention
	}
	if err := a.Collector.WithDefaults().Validate(); err != nil {
		return nil, fmt.Errorf("invalid collector config: %w", err)
	}
	if err := errors.Join(a.Store.Validate(), a.Enrich.Validate(), a.Writer.Validate()); err != nil {
		return nil, err
	}
	st, err := badger.Open(a.Store, a.Log)
	if err != nil {
		return nil, fmt.Errorf("cannot open store: %w", err)
	}
	if a.Enrich.SiteSpamReferrers == nil {
		a.Enrich.SiteSpamReferrers = a.Collector.SiteSpamReferrers()
	}
	en, err := enrich.New(a.Enrich, a.Log)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("cannot start enrichment: %w", err)
	}
	if a.Registry == nil {
		a.Registry = prometheus.NewRegistry()
		a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	commits := newCommitMetrics(a.Registry)
	if prev := a.Writer.OnCommit; prev != nil {
		a.Writer.OnCommit = func(n int, took time.Duration, err error) { prev(n, took, err); commits.observe(n, took, err) }
	} else {
		a.Writer.OnCommit = commits.observe
	}
	w := store.NewWriter(st, a.Writer, a.Log)
	d := Deps{Store: st, Writer: w, Enricher: en, Log: a.Log, Journey: a.Journey, Now: a.Now, Registry: a.Registry}
	if a.Cookieless {
		d.Salts = NewSalts(st)
	}
	srv, err := New(a.Collector, d)
	if err != nil {
		w.Close(context.Background())
		en.Close()
		st.Close()
		return nil, err
	}
	registerStackMetrics(a.Registry, st, w, en)
	registerBuildInfo(a.Registry, a.Version)
	return &Stack{Store: st, Enricher: en, Writer: w, Server: srv, log: a.Log}, nil
}

// Serve answers requests on ln until Close; it returns nil after Close
// and an error when the server stops for any other reason.
func (s *Stack) Serve(ln net.Listener) error { return s.Server.Serve(ln) }

// Close stops the stack in reverse order: the HTTP server (waiting for the
// requests in flight until ctx ends), then the writer's final flush, then
// the enricher and the store. It returns the first error and runs every
// step whatever happened before.
func (s *Stack) Close(ctx context.Context) error {
	return errors.Join(
		s.Server.Shutdown(ctx),
		s.Writer.Close(ctx),
		s.Enricher.Close(),
		s.Store.Close(),
	)
}
