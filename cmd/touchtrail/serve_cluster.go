package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// serveCluster runs a cluster node (-nats): an ingest node publishes what
// it takes to JetStream and keeps no data; a store consumes its partitions
// into its own Badger (in -data) and answers queries on them; `all` does
// both. Start in order — store, writer, cluster node, HTTP — and stop in
// reverse after a signal (a second one exits at once).
func serveCluster(cfg serveConfig, log *slog.Logger) error {
	cc := cfg.Cluster
	role := cluster.Role(cc.Role)
	mode := store.Sync
	if cfg.Durability == "async" {
		mode = store.Async
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	var (
		st      *badger.Store
		w       *store.Writer
		en      *enrich.Enricher
		node    *cluster.Node
		srv     *collector.Server
		sub     cluster.Submitter
		cleanup []func(context.Context) error
	)
	closeAll := func(ctx context.Context) error {
		var errs []error
		for i := len(cleanup) - 1; i >= 0; i-- {
			errs = append(errs, cleanup[i](ctx))
		}
		return errors.Join(errs...)
	}
	fail := func(err error) error {
		ln.Close()
		return errors.Join(err, closeAll(context.Background()))
	}
	fresh := false
	if role.Stores() {
		dir := filepath.Join(cfg.DataDir, "badger")
		fresh = cluster.EmptyDir(dir)
		st, err = badger.Open(badger.Config{Dir: dir, SyncWrites: true, Retention: time.Duration(cfg.Retention)}, log)
		if err != nil {
			return fail(fmt.Errorf("cannot open store: %w", err))
		}
		cleanup = append(cleanup, func(context.Context) error { return st.Close() })
		// A store acknowledges a message only after its commit: always sync.
		w = store.NewWriter(st, store.WriterConfig{Mode: store.Sync}, log)
		cleanup = append(cleanup, w.Close)
		sub = w
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	nc := cc.nodeConfig(ln.Addr().String(), mode, fresh)
	nc.Metrics = cluster.NewMetrics(reg)
	if st != nil {
		nc.Store = st
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	node, err = cluster.StartNode(ctx, nc, sub, log)
	cancel()
	if err != nil {
		return fail(fmt.Errorf("cannot join the cluster: %w", err))
	}
	cleanup = append(cleanup, node.Close)
	d := collector.Deps{Store: cluster.NoStore{}, Writer: node.Submitter(), Log: log, Registry: reg, Ready: node.Ready}
	if st != nil {
		d.Store = st
	} else if node.Router != nil {
		d.Store = node.Router
	}
	if role.Ingests() {
		if en, err = enrich.New(enrich.Config{GeoDB: cfg.GeoDB, KeepBots: cfg.KeepBots, IPPrefix: cfg.IPPrefix}, log); err != nil {
			return fail(fmt.Errorf("cannot start enrichment: %w", err))
		}
		cleanup = append(cleanup, func(context.Context) error { return en.Close() })
		d.Enricher = en
	}
	// Cookieless visitor ids need one salt for every ingest node: not in a
	// cluster yet, so cookieless batches are refused (d.Salts stays nil).
	jc := cfg.Journey.config()
	d.Journey = &jc
	if srv, err = collector.New(cfg.Collector, d); err != nil {
		return fail(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("cluster node serving", "node", nc.Node, "role", role, "addr", ln.Addr().String(), "nats", cc.NATS)
	fmt.Fprintf(os.Stdout, "touchtrail cluster node %s (%s) on http://%s, NATS %s\n", nc.Node, role, ln.Addr(), cc.redacted().NATS)

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
	sctx, scancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownIn))
	defer scancel()
	err = errors.Join(srv.Shutdown(sctx), closeAll(sctx))
	log.Info("stopped", "err", err)
	return err
}
