// Package clustertest starts real cluster nodes for tests and benchmarks:
// the collector (fasthttp on loopback) over a cluster.Node, with a real
// Badger directory on store nodes, against NATS servers the caller runs
// (natstest embeds them). Sites and tokens are collectortest's.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// Options describe one node. Zero values mean defaults.
type Options struct {
	NATS       string       // server URLs; required
	Role       cluster.Role // required
	Node       string       // required
	Partitions string       // store: owned partitions. Default: all
	Dir        string       // store: Badger directory; required for store roles
	Mode       store.Durability
	Stream     cluster.StreamConfig
	Consumer   cluster.ConsumerConfig
	Publisher  cluster.PublisherConfig
	Members    cluster.MembershipConfig
	Addr       string // Default: 127.0.0.1:0
	Log        *slog.Logger
}

// Node is a running node.
type Node struct {
	URL, Addr string
	Server    *collector.Server
	Store     *badger.Store // nil on ingest nodes
	Writer    *store.Writer // nil on ingest nodes
	Cluster   *cluster.Node
	Metrics   *prometheus.Registry

	en      *enrich.Enricher
	stopped sync.Once
	done    chan struct{}
}

// Start launches a node and stops it when the test ends.
func Start(tb testing.TB, o Options) *Node {
	tb.Helper()
	n, err := Launch(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(n.Stop)
	return n
}

// Launch starts a node; stop it with Stop.
func Launch(o Options) (*Node, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	ln, err := listen(o.Addr)
	if err != nil {
		return nil, err
	}
	n := &Node{Addr: ln.Addr().String(), done: make(chan struct{}), Metrics: prometheus.NewRegistry()}
	n.URL = "http://" + n.Addr
	fail := func(err error) (*Node, error) {
		ln.Close()
		n.close(context.Background())
		return nil, err
	}
	var w cluster.Submitter
	fresh := false
	if o.Role.Stores() {
		if o.Dir == "" {
			return fail(errors.New("clustertest: a store needs a directory"))
		}
		fresh = cluster.EmptyDir(o.Dir)
		if n.Store, err = badger.Open(badger.Config{Dir: o.Dir, SyncWrites: true}, o.Log); err != nil {
			return fail(err)
		}
		n.Writer = store.NewWriter(n.Store, store.WriterConfig{Mode: store.Sync}, o.Log)
		w = n.Writer
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n.Cluster, err = cluster.StartNode(ctx, cluster.NodeConfig{
		NATS: o.NATS, Role: o.Role, Node: o.Node, Addr: n.Addr, Partitions: o.Partitions, Fresh: fresh,
		Stream: o.Stream, Members: o.Members, Consumer: o.Consumer, Publisher: o.Publisher, Mode: o.Mode,
		Metrics: cluster.NewMetrics(n.Metrics), Store: storeOrNil(n.Store),
	}, w, o.Log)
	if err != nil {
		return fail(err)
	}
	d := collector.Deps{Writer: n.Cluster.Submitter(), Log: o.Log, Registry: n.Metrics, Ready: n.Cluster.Ready}
	switch {
	case n.Store != nil:
		d.Store = n.Store
	case n.Cluster.Router != nil:
		d.Store = n.Cluster.Router
	default:
		d.Store = cluster.NoStore{}
	}
	if o.Role.Ingests() {
		if n.en, err = enrich.New(enrich.Config{KeepBots: true}, o.Log); err != nil {
			return fail(err)
		}
		d.Enricher = n.en
	}
	if n.Server, err = collector.New(collectortest.Config(), d); err != nil {
		return fail(err)
	}
	go func() {
		defer close(n.done)
		_ = n.Server.Serve(ln)
	}()
	return n, nil
}

func listen(addr string) (net.Listener, error) {
	var err error
	for try := 0; try < 50; try++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(100 * time.Millisecond) // a restart may wait for the old socket
	}
	return nil, fmt.Errorf("listen %s: %w", addr, err)
}

// Stop shuts the node down gracefully: HTTP, the cluster node (pending
// acknowledgements, batches in flight), the writer, the store.
func (n *Node) Stop() {
	n.stopped.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if n.Server != nil {
			_ = n.Server.Shutdown(ctx)
			<-n.done
		}
		n.close(ctx)
	})
}

func (n *Node) close(ctx context.Context) {
	if n.Cluster != nil {
		_ = n.Cluster.Close(ctx)
	}
	if n.Writer != nil {
		_ = n.Writer.Close(ctx)
	}
	if n.en != nil {
		_ = n.en.Close()
	}
	if n.Store != nil {
		_ = n.Store.Close()
	}
}

// storeOrNil keeps a nil *badger.Store from becoming a non-nil interface.
func storeOrNil(st *badger.Store) store.Store {
	if st == nil {
		return nil
	}
	return st
}
