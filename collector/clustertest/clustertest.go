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
	Cookieless bool   // ingest: accept cookieless batches
	Log        *slog.Logger
	// Config adjusts the collector config after collectortest's sites and
	// tokens are set (limits, …).
	Config func(*collector.Config)
}

// Node is a running node.
type Node struct {
	URL, Addr string
	Server    *collector.Server
	Store     *badger.Store // nil unless the role stores
	Writer    *store.Writer // nil unless the role stores
	Cluster   *cluster.Node
	Metrics   *prometheus.Registry

	stack   *collector.NodeStack
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

// Launch starts a node with collector.AssembleNode, as `touchtrail serve
// -nats …` does; stop it with Stop.
func Launch(o Options) (*Node, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Role.Stores() && o.Dir == "" {
		return nil, errors.New("clustertest: a store needs a directory")
	}
	ln, err := listen(o.Addr)
	if err != nil {
		return nil, err
	}
	n := &Node{Addr: ln.Addr().String(), done: make(chan struct{}), Metrics: prometheus.NewRegistry()}
	n.URL = "http://" + n.Addr
	cfg := collectortest.Config()
	if o.Config != nil {
		o.Config(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n.stack, err = collector.AssembleNode(ctx, collector.NodeAssembly{
		Cluster: cluster.NodeConfig{
			NATS: o.NATS, Role: o.Role, Node: o.Node, Addr: n.Addr, Partitions: o.Partitions,
			Stream: o.Stream, Members: o.Members, Consumer: o.Consumer, Publisher: o.Publisher, Mode: o.Mode,
		},
		Store:      badger.Config{Dir: o.Dir},
		Enrich:     enrich.Config{KeepBots: true},
		Collector:  cfg,
		Registry:   n.Metrics,
		Log:        o.Log,
		Cookieless: o.Cookieless,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	n.Server, n.Store, n.Writer, n.Cluster = n.stack.Server, n.stack.Store, n.stack.Writer, n.stack.Node
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
		_ = n.stack.Close(ctx)
		<-n.done
	})
}
