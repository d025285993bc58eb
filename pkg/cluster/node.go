package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/touchtrail/touchtrail/pkg/store"
)

// Role is what a node does in a cluster.
type Role string

const (
	// RoleIngest nodes decode, validate and enrich events and publish them
	// to the stream; they keep no data.
	RoleIngest Role = "ingest"
	// RoleStore nodes consume their partitions into their own Badger and
	// answer queries about them.
	RoleStore Role = "store"
	// RoleAll nodes do both.
	RoleAll Role = "all"
	// RoleQuery nodes keep nothing and answer the query API by routing
	// each visitor to a live store owning its partition.
	RoleQuery Role = "query"
)

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleIngest, RoleStore, RoleAll, RoleQuery:
		return r, nil
	}
	return "", fmt.Errorf("role %q: want ingest, store, all or query", s)
}

// Ingests reports whether the role publishes events.
func (r Role) Ingests() bool { return r == RoleIngest || r == RoleAll }

// Stores reports whether the role keeps a store.
func (r Role) Stores() bool { return r == RoleStore || r == RoleAll }

// NodeConfig is a node's cluster settings. Zero values mean the defaults.
type NodeConfig struct {
	// NATS lists the servers' URLs, comma-separated. Required.
	NATS string
	Role Role // required
	// Node names the node: its membership key and, on a store, its durable
	// consumer. Required.
	Node string
	// Addr is the node's HTTP address, announced in the membership bucket.
	Addr string
	// Partitions a store owns, as "0-31" or "0-7,16". Default: all of the
	// stream's.
	Partitions string
	// Fresh says the store's directory was empty (see ConsumerConfig).
	Fresh     bool
	Stream    StreamConfig
	Members   MembershipConfig
	Publisher PublisherConfig  // Stream is taken from above
	Consumer  ConsumerConfig   // Stream, Node, Partitions and Fresh from above
	Metrics   *Metrics         // Default: unregistered
	Mode      store.Durability // of ingest: store.Sync or store.Async
	// Store is a store node's own store: it answers the queries routed to
	// its partitions. Nil: it answers none.
	Store store.Store
}

// Node is a running cluster node: its NATS connection, its publisher
// (ingest), its consumer (store) and its membership entry.
type Node struct {
	Role      Role
	NC        *nats.Conn
	Publisher *Publisher // nil unless the role ingests
	Consumer  *Consumer  // nil unless the role stores
	// Router routes queries (a query node), scatters site-wide questions
	// (query and store nodes) and erasures (a query or store node: through
	// the stream, to every store holding the data); nil on an ingest-only
	// node.
	Router   *Router
	queries  *QueryServer
	identity *QueryServer
	scatter  *ScatterServer // store roles, once ServeScatter is called
	scans    *ScanServer    // store roles, once ServeScans is called
	stream   StreamConfig
	members  *Membership
	log      *slog.Logger
}

// StartNode connects, makes the stream if needed (ingest roles), starts
// the consumer into w (store roles; w must be a Sync writer) and joins the
// membership bucket. On error whatever started is stopped again.
func StartNode(ctx context.Context, cfg NodeConfig, w Submitter, log *slog.Logger) (*Node, error) {
	if log == nil {
		log = slog.Default()
	}
	if cfg.NATS == "" {
		return nil, errors.New("cluster node: no NATS servers")
	}
	if _, err := ParseRole(string(cfg.Role)); err != nil {
		return nil, err
	}
	if !ValidNode(cfg.Node) {
		return nil, fmt.Errorf("node name %q: want 1 to 64 of A-Z a-z 0-9 _ -", cfg.Node)
	}
	if cfg.Role.Stores() && w == nil {
		return nil, errors.New("BUG: a store node needs a writer")
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	nc, err := Connect(cfg.NATS, "touchtrail-"+cfg.Node, log)
	if err != nil {
		return nil, err
	}
	n := &Node{Role: cfg.Role, NC: nc, log: log}
	fail := func(err error) (*Node, error) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Close(cctx)
		return nil, err
	}
	stream := cfg.Stream
	if cfg.Role.Ingests() {
		pc := cfg.Publisher
		pc.Stream, pc.Mode, pc.Metrics = cfg.Stream, cfg.Mode, cfg.Metrics
		if n.Publisher, err = NewPublisher(ctx, nc, pc, log); err != nil {
			return fail(err)
		}
		stream = n.Publisher.Stream()
	}
	var parts []int
	if cfg.Role.Stores() {
		js, err := jetstreamNew(nc)
		if err != nil {
			return fail(err)
		}
		if stream, err = waitStream(ctx, js, stream, log); err != nil {
			return fail(err)
		}
		if cfg.Partitions == "" {
			for p := range stream.Partitions {
				parts = append(parts, p)
			}
		} else if parts, err = ParsePartitions(cfg.Partitions, stream.Partitions); err != nil {
			return fail(err)
		}
		cc := cfg.Consumer
		cc.Stream, cc.Node, cc.Partitions, cc.Fresh, cc.Metrics = stream, cfg.Node, parts, cfg.Fresh, cfg.Metrics
		if a, ok := cfg.Store.(Applier); ok && cc.Applier == nil {
			cc.Applier = a
		}
		if n.Consumer, err = NewConsumer(ctx, nc, w, cc, log); err != nil {
			return fail(err)
		}
		if cfg.Store != nil {
			if n.queries, err = ServeQueries(nc, stream, parts, cfg.Store, log); err != nil {
				return fail(err)
			}
			if is, ok := cfg.Store.(IdentityStore); ok {
				if n.identity, err = ServeIdentity(nc, stream, parts, is, log); err != nil {
					return fail(err)
				}
			}
		}
	}
	if cfg.Role == RoleQuery {
		js, err := jetstreamNew(nc)
		if err != nil {
			return fail(err)
		}
		if stream, err = waitStream(ctx, js, stream, log); err != nil {
			return fail(err)
		}
	}
	n.stream = stream
	if cfg.Role == RoleQuery || cfg.Role.Stores() {
		n.Router = NewRouter(nc, stream, cfg.Metrics)
		n.Router.Members, n.Router.log = cfg.Members, log.With("module", "cluster.router")
	}
	var lag func() int64
	if n.Consumer != nil {
		lag = n.Consumer.Lag
	}
	me := Member{Node: cfg.Node, Role: string(cfg.Role), Addr: cfg.Addr, Partitions: parts}
	if n.members, err = Join(ctx, nc, cfg.Members, me, lag, log); err != nil {
		return fail(err)
	}
	return n, nil
}

// Submitter returns what the collector's ingest hands records to: the
// publisher, or, on a store-only node, a submitter that refuses (events go
// to ingest nodes).
func (n *Node) Submitter() Submitter {
	if n.Publisher != nil {
		return n.Publisher
	}
	return refuseIngest{}
}

// Ready returns nil while the node can do its work: the publisher can
// publish and the consumer is within its ready lag.
func (n *Node) Ready() error {
	if n.Publisher != nil {
		if err := n.Publisher.Ready(); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	if n.Consumer != nil {
		if err := n.Consumer.Ready(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// Close leaves the membership bucket, waits for the publisher's pending
// acknowledgements and the consumer's batches in flight (until ctx ends),
// and closes the connection. Close the HTTP server before, and the writer
// and the store after.
func (n *Node) Close(ctx context.Context) error {
	var errs []error
	up := n.NC != nil && n.NC.Status() == nats.CONNECTED
	if n.members != nil {
		if up {
			lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			errs = append(errs, n.members.Leave(lctx))
			cancel()
		} else {
			n.members.stopBeating() // the entry expires by itself
		}
	}
	if n.queries != nil {
		n.queries.Close()
	}
	if n.scatter != nil {
		n.scatter.Close()
	}
	if n.scans != nil {
		n.scans.Close()
	}
	if n.identity != nil {
		n.identity.Close()
	}
	if n.Publisher != nil {
		if !up { // nothing will be acknowledged: do not wait
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 0)
			defer cancel()
		}
		errs = append(errs, n.Publisher.Close(ctx))
	}
	if n.Consumer != nil {
		errs = append(errs, n.Consumer.Close(ctx))
	}
	if n.NC != nil {
		if !up || n.NC.Drain() != nil {
			n.NC.Close()
		}
	}
	return errors.Join(errs...)
}

// refuseIngest is a store-only node's submitter.
type refuseIngest struct{}

func (refuseIngest) Submit(context.Context, []store.Record) error {
	return fmt.Errorf("this node has role store: send events to an ingest node: %w", store.ErrUnavailable)
}

// EmptyDir reports whether dir does not exist or holds nothing: a store
// opened on it starts fresh and replays its partitions.
func EmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return (err != nil && errors.Is(err, fs.ErrNotExist)) || (err == nil && len(entries) == 0)
}
