package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Member is one node as it announces itself in the membership bucket.
type Member struct {
	Node       string    `json:"node"`
	Role       string    `json:"role"`           // ingest, store or all
	Addr       string    `json:"addr,omitempty"` // its HTTP address
	Partitions []int     `json:"partitions,omitempty"`
	Lag        int64     `json:"lag"` // store: messages behind at the last heartbeat; -1 unknown
	Started    time.Time `json:"started"`
	Seen       time.Time `json:"seen"` // time of the heartbeat
}

// MembershipConfig tunes membership. Zero values mean the defaults.
type MembershipConfig struct {
	// Bucket is the key-value bucket. Default: "touchtrail_members".
	Bucket string
	// TTL is how long an entry lives without a heartbeat: a node that
	// died leaves the bucket within it. Default: 15s; heartbeats go every
	// TTL/3.
	TTL time.Duration
	// Replicas of the bucket. Default: 1.
	Replicas int
}

func (c MembershipConfig) withDefaults() MembershipConfig {
	if c.Bucket == "" {
		c.Bucket = "touchtrail_members"
	}
	if c.TTL <= 0 {
		c.TTL = 15 * time.Second
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	return c
}

// Membership keeps a node's entry alive in the bucket until Leave.
type Membership struct {
	kv      jetstream.KeyValue
	cfg     MembershipConfig
	me      Member
	lag     func() int64 // nil: not a store
	log     *slog.Logger
	stop    chan struct{}
	stopped chan struct{}
}

func openBucket(ctx context.Context, js jetstream.JetStream, cfg MembershipConfig) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: cfg.Bucket, Description: "touchtrail nodes: heartbeats expire", TTL: cfg.TTL, History: 1,
			Storage: jetstream.MemoryStorage, Replicas: cfg.Replicas,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open bucket %q: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// Join puts me in the bucket and heartbeats it every TTL/3 until Leave.
// lag, when not nil, is read at each heartbeat (a store's consumer lag).
func Join(ctx context.Context, nc *nats.Conn, cfg MembershipConfig, me Member, lag func() int64, log *slog.Logger) (*Membership, error) {
	cfg = cfg.withDefaults()
	if !ValidNode(me.Node) {
		return nil, fmt.Errorf("node name %q: want 1 to 64 of A-Z a-z 0-9 _ -", me.Node)
	}
	if log == nil {
		log = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("cannot use jetstream: %w", err)
	}
	var kv jetstream.KeyValue
	if err := retry(ctx, func(ctx context.Context) (err error) {
		kv, err = openBucket(ctx, js, cfg)
		return err
	}); err != nil {
		return nil, err
	}
	me.Started = time.Now().UTC()
	m := &Membership{kv: kv, cfg: cfg, me: me, lag: lag, log: log.With("module", "cluster.members"),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	if err := retry(ctx, m.beat); err != nil {
		return nil, err
	}
	go m.loop()
	return m, nil
}

func (m *Membership) beat(ctx context.Context) error {
	me := m.me
	me.Seen = time.Now().UTC()
	me.Lag = -1
	if m.lag != nil {
		me.Lag = m.lag()
	}
	b, err := json.Marshal(me)
	if err != nil {
		return fmt.Errorf("BUG: member encoding: %w", err)
	}
	if _, err := m.kv.Put(ctx, me.Node, b); err != nil {
		return fmt.Errorf("heartbeat of %s: %w", me.Node, err)
	}
	return nil
}

func (m *Membership) loop() {
	defer close(m.stopped)
	t := time.NewTicker(m.cfg.TTL / 3)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.TTL/3)
		err := m.beat(ctx)
		cancel()
		if err != nil && !failing {
			m.log.Warn("heartbeat failed; retrying", "err", err)
		} else if err == nil && failing {
			m.log.Info("heartbeat back")
		}
		failing = err != nil
	}
}

// Leave stops the heartbeat and deletes the entry.
func (m *Membership) Leave(ctx context.Context) error {
	if !m.stopBeating() {
		return nil
	}
	if err := m.kv.Delete(ctx, m.me.Node); err != nil {
		return fmt.Errorf("cannot leave: %w", err)
	}
	return nil
}

// stopBeating stops the heartbeat; false if it was stopped already.
func (m *Membership) stopBeating() bool {
	select {
	case <-m.stop:
		return false
	default:
	}
	close(m.stop)
	<-m.stopped
	return true
}

// Members lists the live nodes of the bucket, by name.
func Members(ctx context.Context, nc *nats.Conn, cfg MembershipConfig) ([]Member, error) {
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("cannot use jetstream: %w", err)
	}
	kv, err := openBucket(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot list members: %w", err)
	}
	var out []Member
	for k := range lister.Keys() {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read member %q: %w", k, err)
		}
		var mb Member
		if err := json.Unmarshal(e.Value(), &mb); err != nil {
			return nil, fmt.Errorf("member %q: %w", k, err)
		}
		out = append(out, mb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}
