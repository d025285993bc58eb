package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// clusterConfig is serve's cluster settings (file key "cluster"). Without
// NATS servers, serve is the embedded single node: one process, one Badger.
type clusterConfig struct {
	NATS             string   `json:"nats"`              // NATS server URLs, comma-separated; empty: no cluster
	Role             string   `json:"role"`              // ingest, store or all. Default: all
	Node             string   `json:"node"`              // node name (membership key, a store's consumer). Default: <host>-<port>
	Partitions       string   `json:"partitions"`        // a store's partitions, e.g. "0-15". Default: all of the stream's
	StreamPartitions int      `json:"stream_partitions"` // P, when this node creates the stream. Default: 32
	StreamReplicas   int      `json:"stream_replicas"`   // replicas, when this node creates the stream. Default: 1
	StreamMaxAge     duration `json:"stream_max_age"`    // the stream's retention: how far back a rebuild replays. Default: 720h
	StreamMaxBytes   int64    `json:"stream_max_bytes"`  // cap of the stream's size (oldest dropped first); 0: none
	AckWait          duration `json:"ack_wait"`          // store: redelivery after an unacknowledged message. Default: 10s
	ReadyLag         int      `json:"ready_lag"`         // store: most messages behind while /readyz is ready. Default: 10000
	MemberTTL        duration `json:"member_ttl"`        // membership entries expire after this without a heartbeat. Default: 15s
}

func defaultClusterConfig() clusterConfig {
	return clusterConfig{
		Role:             string(cluster.RoleAll),
		StreamPartitions: 32,
		StreamReplicas:   1,
		StreamMaxAge:     duration(30 * 24 * time.Hour),
		AckWait:          duration(10 * time.Second),
		ReadyLag:         10000,
		MemberTTL:        duration(15 * time.Second),
	}
}

// clusterFlags binds a flag to every cluster setting.
func clusterFlags(fs *flag.FlagSet, c *clusterConfig) {
	fs.StringVar(&c.NATS, "nats", c.NATS, "NATS server `URLs`, comma-separated: run as a cluster node over JetStream (none: the single-node default)")
	fs.StringVar(&c.Role, "role", c.Role, "cluster `role`: ingest (publish events), store (consume partitions into -data, answer queries on them), all (both) or query (route visitor trails to the stores)")
	fs.StringVar(&c.Node, "node", c.Node, "cluster node `name`: its membership key and its store consumer (keep it across restarts; default: <host>-<port>)")
	fs.StringVar(&c.Partitions, "partitions", c.Partitions, "`partitions` a store owns, e.g. 0-15 or 0-7,16 (default: all)")
	fs.IntVar(&c.StreamPartitions, "stream-partitions", c.StreamPartitions, "partitions P of the stream when this node creates it (an existing stream keeps its own)")
	fs.IntVar(&c.StreamReplicas, "stream-replicas", c.StreamReplicas, "`replicas` of the stream when this node creates it: 1, 3 or 5")
	durationFlag(fs, &c.StreamMaxAge, "stream-max-age", "the stream's retention (a `duration`): how far back a store rebuilt from empty can replay")
	fs.Int64Var(&c.StreamMaxBytes, "stream-max-bytes", c.StreamMaxBytes, "cap of the stream's size in `bytes` when this node creates it (0: none)")
	durationFlag(fs, &c.AckWait, "ack-wait", "store: how long (a `duration`) JetStream waits for an acknowledgement before it redelivers")
	fs.IntVar(&c.ReadyLag, "ready-lag", c.ReadyLag, "store: most `messages` behind the stream while /readyz answers ready")
	durationFlag(fs, &c.MemberTTL, "member-ttl", "membership entries expire after this `duration` without a heartbeat")
}

func durationFlag(fs *flag.FlagSet, p *duration, name, usage string) {
	fs.Var(durationValue{p}, name, usage)
}

// durationValue is a duration as a flag.Value.
type durationValue struct{ p *duration }

func (v durationValue) String() string {
	if v.p == nil {
		return ""
	}
	return time.Duration(*v.p).String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*v.p = duration(d)
	return nil
}

// clusterFlagNames lists the cluster flags.
func clusterFlagNames() []string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	var c clusterConfig
	clusterFlags(fs, &c)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// overCluster sets the cluster flags given on the command line or in the
// environment (parsed into fs) on c, over what the config file said.
func overCluster(fs *flag.FlagSet, c *clusterConfig) error {
	into := flag.NewFlagSet("", flag.ContinueOnError)
	clusterFlags(into, c)
	for _, name := range clusterFlagNames() {
		if explicit(fs, name) {
			if err := into.Set(name, fs.Lookup(name).Value.String()); err != nil {
				return fmt.Errorf("-%s: %w", name, err)
			}
		}
	}
	return nil
}

func (c clusterConfig) enabled() bool { return c.NATS != "" }

// redacted hides the passwords and tokens of the NATS URLs.
func (c clusterConfig) redacted() clusterConfig {
	urls := strings.Split(c.NATS, ",")
	for i, u := range urls {
		if at := strings.LastIndex(u, "@"); at >= 0 {
			scheme, _, _ := strings.Cut(u, "://")
			urls[i] = scheme + "://***@" + u[at+1:]
		}
	}
	c.NATS = strings.Join(urls, ",")
	return c
}

// validate checks the settings of a cluster node.
func (c clusterConfig) validate() error {
	if !c.enabled() {
		return nil
	}
	if _, err := cluster.ParseRole(c.Role); err != nil {
		return err
	}
	if c.Node != "" && !cluster.ValidNode(c.Node) {
		return fmt.Errorf("node %q: want 1 to 64 of A-Z a-z 0-9 _ -", c.Node)
	}
	if c.Partitions != "" {
		if _, err := cluster.ParsePartitions(c.Partitions, 0); err != nil {
			return err
		}
	}
	if c.StreamReplicas != 1 && c.StreamReplicas != 3 && c.StreamReplicas != 5 {
		return fmt.Errorf("stream replicas %d: want 1, 3 or 5", c.StreamReplicas)
	}
	if c.StreamPartitions < 1 || c.StreamPartitions > cluster.MaxPartitions {
		return fmt.Errorf("stream partitions %d: want 1 to %d", c.StreamPartitions, cluster.MaxPartitions)
	}
	if c.MemberTTL < duration(time.Second) {
		return errors.New("member ttl: at least 1s")
	}
	return nil
}

var nodeUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// nodeConfig is the cluster.NodeConfig of this node listening on addr.
func (c clusterConfig) nodeConfig(addr string, mode store.Durability) cluster.NodeConfig {
	name := c.Node
	if name == "" {
		host, _ := os.Hostname()
		_, port, _ := net.SplitHostPort(addr)
		name = strings.Trim(nodeUnsafe.ReplaceAllString(host+"-"+port, "-"), "-")
		if len(name) > 64 {
			name = name[len(name)-64:]
		}
	}
	return cluster.NodeConfig{
		NATS: c.NATS, Role: cluster.Role(c.Role), Node: name, Addr: addr, Partitions: c.Partitions, Mode: mode,
		Stream: cluster.StreamConfig{Partitions: c.StreamPartitions, Replicas: c.StreamReplicas,
			MaxAge: time.Duration(c.StreamMaxAge), MaxBytes: c.StreamMaxBytes},
		Members:  cluster.MembershipConfig{TTL: time.Duration(c.MemberTTL), Replicas: c.StreamReplicas},
		Consumer: cluster.ConsumerConfig{AckWait: time.Duration(c.AckWait), ReadyLag: uint64(c.ReadyLag)},
	}
}
