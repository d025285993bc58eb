package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

var serveCmd = &command{
	name:    "serve",
	args:    "[flags]",
	summary: "run the collector: ingest, query API, journey map, metrics",
	help: `Run the collector on -addr with its Badger store in -data. Settings come from
the flags, then TOUCHTRAIL_* variables, then the JSON -config file, then the
defaults; the effective configuration is printed at start-up, secrets masked.
At least one site is needed (-sites, the config file, or -demo for a demo
site whose credentials are saved in <data>/demo.env).

It stops gracefully on SIGINT or SIGTERM (HTTP, then the writer's last
group commit, then the store; a second signal exits at once) and exits 0.
If the server stops for any other reason it exits 2, so that a supervisor
restarts it.`,
	examples: `  touchtrail serve -demo                      # try it: a demo site on 127.0.0.1:8080
  touchtrail serve -config /etc/touchtrail.json
  TOUCHTRAIL_RETENTION=720h touchtrail serve -config touchtrail.json -addr :8080
  touchtrail serve -sites '[{"id":"shop","origins":["https://shop.example"]}]' \
    -tokens '[{"name":"ops","secret":"a-long-admin-secret","scopes":["admin"]}]'`,
	rawArgs: true,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		cfg, file := defaultServeConfig(), ""
		serveFlags(fs, &cfg, &file) // for the help: the defaults
		return func(args []string) error {
			note, noteErr := raiseOpenFileLimit() // first: the default connection cap follows the limit
			cfg, rest, err := loadServeConfig(args)
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				return usagef("unexpected arguments %q", rest)
			}
			sig := make(chan os.Signal, 2)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sig)
			cfg.openFiles, cfg.openFilesErr = note, noteErr
			return serve(cfg, nil, sig, stdout, stderr)
		}
	},
}

// serve runs the collector: start components in order, wait for a signal,
// stop them in reverse (HTTP, then the writer's final flush, then the
// store). A second signal forces exit. ln, when not nil, is used instead of
// listening on cfg.Addr. It returns nil after a signal and an error when
// the server stopped for any other reason.
func serve(cfg serveConfig, ln net.Listener, sig <-chan os.Signal, stdout, stderr io.Writer) error {
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	applyMemoryLimit(cfg.MemoryLimit)
	if cfg.openFilesErr != nil {
		log.Warn("open file limit", "err", cfg.openFilesErr)
	} else if cfg.openFiles != "" {
		log.Info(cfg.openFiles)
	}
	if cfg.Cluster.enabled() {
		if len(cfg.Collector.Sites) == 0 {
			return fmt.Errorf("a cluster node needs its sites in -config (every node the same)")
		}
		if cfg.LogFormat == "json" {
			log.Info("config", "effective", cfg.masked())
		} else {
			printConfig(stderr, cfg)
		}
		return serveCluster(cfg, log)
	}
	var demo *demoCreds
	if cfg.Demo {
		if demo, err = ensureDemo(&cfg); err != nil {
			return err
		}
	}
	if cfg.LogFormat == "json" {
		log.Info("config", "effective", cfg.masked())
	} else {
		printConfig(stderr, cfg)
	}
	jc := cfg.Journey.config()
	mode := store.Sync
	if cfg.Durability == "async" {
		mode = store.Async
	}
	stack, err := collector.Assemble(collector.Assembly{
		Store: badger.Config{
			Dir:        filepath.Join(cfg.DataDir, "badger"),
			SyncWrites: cfg.Durability == "sync",
			Retention:  time.Duration(cfg.Retention),
		},
		Enrich:     enrich.Config{GeoDB: cfg.GeoDB, KeepBots: cfg.KeepBots, IPPrefix: cfg.IPPrefix},
		Writer:     store.WriterConfig{Mode: mode},
		Collector:  cfg.Collector,
		Cookieless: cfg.Cookieless,
		Journey:    &jc,
		Log:        log,
		Version:    version,
	})
	if err != nil {
		return err
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return errors.Join(fmt.Errorf("cannot listen: %w", err), stack.Close(context.Background()))
		}
	}
	if cfg.DemoData && demo != nil {
		if err := loadDemoData(context.Background(), stack.Store, demo.Site, log); err != nil {
			log.Error("demo data", "err", err)
		}
	}
	served := make(chan error, 1)
	go func() { served <- stack.Serve(ln) }()
	printBanner(stdout, cfg, demo, cfg.GeoDB != "")

	var stopErr error
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	case err := <-served:
		if err == nil {
			err = errors.New("listener closed")
		}
		stopErr = fmt.Errorf("server stopped: %w", err)
		log.Error("server stopped; shutting down", "err", err)
	}
	forced := make(chan struct{})
	defer close(forced)
	go func() {
		select {
		case <-sig:
			log.Error("second signal: exiting at once")
			os.Exit(exitRuntime)
		case <-forced:
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout))
	defer cancel()
	closeErr := stack.Close(ctx)
	log.Info("stopped", "err", closeErr)
	return errors.Join(stopErr, closeErr)
}

func newLogger(cfg serveConfig, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
