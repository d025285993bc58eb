package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// serveCluster runs a cluster node (-nats), assembled by
// collector.AssembleNode: an ingest node publishes what it takes to
// JetStream and keeps no data; a store consumes its partitions into its own
// Badger (in -data) and answers queries on them; `all` does both; a query
// node routes visitor trails to the stores. Start in order — store,
// writer, cluster node, HTTP — and stop in reverse after a signal (a
// second one exits at once).
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
	nc := cc.nodeConfig(ln.Addr().String(), mode)
	jc := cfg.Journey.config()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	stack, err := collector.AssembleNode(ctx, collector.NodeAssembly{
		Cluster:    nc,
		Store:      badger.Config{Dir: filepath.Join(cfg.DataDir, "badger"), Retention: time.Duration(cfg.Retention)},
		Enrich:     enrich.Config{GeoDB: cfg.GeoDB, KeepBots: cfg.KeepBots, IPPrefix: cfg.IPPrefix},
		Collector:  cfg.Collector,
		Journey:    &jc,
		Log:        log,
		Cookieless: cfg.Cookieless,
	})
	cancel()
	if err != nil {
		ln.Close()
		return err
	}
	srv := stack.Server
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("cluster node serving", "node", nc.Node, "role", role, "addr", ln.Addr().String(), "nats", cc.redacted().NATS)
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
	sctx, scancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout))
	defer scancel()
	err = stack.Close(sctx)
	log.Info("stopped", "err", err)
	return err
}
