package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// NodeAssembly is what AssembleNode needs to build a cluster node's stack.
// `touchtrail serve -nats …` and the cluster test launcher (clustertest)
// both build it here.
type NodeAssembly struct {
	// Cluster is the node's cluster settings; Fresh is set by
	// AssembleNode from the store directory.
	Cluster cluster.NodeConfig
	// Store is the Badger config of store roles (Dir required; writes are
	// always synced: a message is acknowledged after its commit).
	Store     badger.Config
	Enrich    enrich.Config // of ingest roles
	Collector Config
	Journey   *journey.Config
	// Cookieless accepts cookieless batches on ingest roles, their daily
	// salt shared by every ingest node through a key-value bucket.
	Cookieless bool
	// Registry receives every metric. Default: a new registry with the Go
	// and process collectors.
	Registry *prometheus.Registry
	Log      *slog.Logger
}

// NodeStack is an assembled cluster node, not yet serving HTTP.
type NodeStack struct {
	Store    *badger.Store    // store roles, else nil
	Writer   *store.Writer    // store roles, else nil
	Enricher *enrich.Enricher // ingest roles, else nil
	Node     *cluster.Node
	Server   *Server
}

// AssembleNode opens what the role needs — a store roles' Badger and
// writer, an ingest role's enricher — joins the cluster and builds the
// server on it: ingest publishes, queries read the node's own store (a
// store), route to the stores (a query node) or answer 503 (an ingest
// node); site-wide questions on query and store nodes are scattered to
// one store of every partition, and store nodes answer their share; /readyz
// asks the node. With Cookieless, ingest roles derive
// cookieless visitor ids from a daily salt that every ingest node reads
// from one key-value bucket (cluster.Salts); without it they are refused.
// On error whatever was opened is closed again.
func AssembleNode(ctx context.Context, a NodeAssembly) (*NodeStack, error) {
	if a.Log == nil {
		a.Log = slog.Default()
	}
	if a.Registry == nil {
		a.Registry = prometheus.NewRegistry()
		a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &NodeStack{}
	fail := func(err error) (*NodeStack, error) {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return nil, errors.Join(err, s.close(cctx))
	}
	var w cluster.Submitter
	if a.Cluster.Role.Stores() {
		if a.Store.Dir == "" {
			return nil, errors.New("a store node needs a data directory")
		}
		a.Cluster.Fresh = cluster.EmptyDir(a.Store.Dir)
		a.Store.SyncWrites = true
		var err error
		if s.Store, err = badger.Open(a.Store, a.Log); err != nil {
			return fail(fmt.Errorf("cannot open store: %w", err))
		}
		s.Writer = store.NewWriter(s.Store, store.WriterConfig{Mode: store.Sync}, a.Log)
		w = s.Writer
		a.Cluster.Store = s.Store
	}
	if a.Cluster.Metrics == nil {
		a.Cluster.Metrics = cluster.NewMetrics(a.Registry)
	}
	var err error
	if s.Node, err = cluster.StartNode(ctx, a.Cluster, w, a.Log); err != nil {
		return fail(fmt.Errorf("cannot join the cluster: %w", err))
	}
	d := Deps{Writer: s.Node.Submitter(), Log: a.Log, Registry: a.Registry, Ready: s.Node.Ready, Journey: a.Journey}
	if s.Node.Router != nil { // erasures go through the stream, from any node that reads
		d.Eraser = s.Node.Router
	}
	switch {
	case s.Store != nil:
		d.Store = s.Store
	case s.Node.Role == cluster.RoleQuery:
		d.Store = s.Node.Router
	default:
		d.Store = cluster.NoStore{}
	}
	if s.Node.Router != nil { // query, store and all nodes: site-wide questions span every store
		d.Scatter = s.Node.Router // (a store's own answer would miss the other stores' partitions)
	}
	if a.Cluster.Role.Ingests() {
		if s.Enricher, err = enrich.New(a.Enrich, a.Log); err != nil {
			return fail(fmt.Errorf("cannot start enrichment: %w", err))
		}
		d.Enricher = s.Enricher
		if a.Cookieless {
			keeper, err := cluster.OpenSalts(ctx, s.Node.NC, cluster.SaltConfig{Replicas: s.Node.Publisher.Stream().Replicas})
			if err != nil {
				return fail(err)
			}
			d.Salts = NewSalts(keeper)
		}
	}
	if s.Server, err = New(a.Collector, d); err != nil {
		return fail(err)
	}
	if s.Store != nil { // the store's share of site-wide questions
		if err := s.Node.ServeScatter(s.Server.Aggregate); err != nil {
			return fail(err)
		}
		if err := s.Node.ServeScans(s.Server.ScanShare); err != nil { // its trails, for the export and the UI's pages
			return fail(err)
		}
	}
	return s, nil
}

// Close stops the stack in reverse order: the HTTP server (waiting for
// the requests in flight until ctx ends), the cluster node (pending
// acknowledgements, batches in flight, membership), the writer's last
// commit, the enricher, the store. It runs every step and returns the
// errors joined.
func (s *NodeStack) Close(ctx context.Context) error {
	var err error
	if s.Server != nil {
		err = s.Server.Shutdown(ctx)
	}
	return errors.Join(err, s.close(ctx))
}

func (s *NodeStack) close(ctx context.Context) error {
	var errs []error
	if s.Node != nil {
		errs = append(errs, s.Node.Close(ctx))
	}
	if s.Writer != nil {
		errs = append(errs, s.Writer.Close(ctx))
	}
	if s.Enricher != nil {
		errs = append(errs, s.Enricher.Close())
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}
