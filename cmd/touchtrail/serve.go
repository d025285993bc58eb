package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// serve runs the collector: start components in order, wait for a signal,
// stop them in reverse (HTTP, then the writer's final flush, then the
// store). A second signal forces exit.
func serve(args []string) error {
	cfg, err := loadServeConfig(args)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg)
	if err != nil {
		return err
	}
	if cfg.Cluster.enabled() {
		if len(cfg.Collector.Sites) == 0 {
			return fmt.Errorf("a cluster node needs its sites in -config (every node the same)")
		}
		if b, err := json.Marshal(cfg.redacted()); err == nil {
			log.Info("config", "effective", json.RawMessage(b))
		}
		return serveCluster(cfg, log)
	}
	demo, err := ensureDemo(&cfg)
	if err != nil {
		return err
	}
	if b, err := json.Marshal(cfg.redacted()); err == nil {
		log.Info("config", "effective", json.RawMessage(b))
	}

	st, err := badger.Open(badger.Config{
		Dir:        filepath.Join(cfg.DataDir, "badger"),
		SyncWrites: cfg.Durability == "sync",
		Retention:  time.Duration(cfg.Retention),
	}, log)
	if err != nil {
		return fmt.Errorf("cannot open store: %w", err)
	}
	en, err := enrich.New(enrich.Config{GeoDB: cfg.GeoDB, KeepBots: cfg.KeepBots, IPPrefix: cfg.IPPrefix,
		SiteSpamReferrers: cfg.Collector.SiteSpamReferrers()}, log)
	if err != nil {
		st.Close()
		return fmt.Errorf("cannot start enrichment: %w", err)
	}
	mode := store.Sync
	if cfg.Durability == "async" {
		mode = store.Async
	}
	w := store.NewWriter(st, store.WriterConfig{Mode: mode}, log)
	jc := cfg.Journey.config()
	deps := collector.Deps{Store: st, Writer: w, Enricher: en, Log: log, Journey: &jc}
	if cfg.Cookieless {
		deps.Salts = collector.NewSalts(st)
	}
	srv, err := collector.New(cfg.Collector, deps)
	if err != nil {
		w.Close(context.Background())
		en.Close()
		st.Close()
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		w.Close(context.Background())
		en.Close()
		st.Close()
		return fmt.Errorf("cannot listen: %w", err)
	}
	if cfg.DemoData && demo != nil {
		if err := loadDemoData(context.Background(), st, demo.Site, log); err != nil {
			log.Error("demo data", "err", err)
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	printBanner(os.Stdout, cfg, demo, cfg.GeoDB != "")

	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	case err := <-served:
		log.Error("server stopped", "err", err)
	}
	go func() {
		<-sig
		log.Error("second signal: exiting at once")
		os.Exit(1)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownIn))
	defer cancel()
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	keep(srv.Shutdown(ctx))
	keep(w.Close(ctx))
	keep(en.Close())
	keep(st.Close())
	log.Info("stopped", "err", firstErr)
	return firstErr
}

func newLogger(cfg serveConfig) (*slog.Logger, error) {
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
}
