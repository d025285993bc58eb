package cluster_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// gate is a Submitter that holds commits until opened, fails the first
// `fail` of them, and counts the records it took.
type gate struct {
	open    chan struct{}
	fail    atomic.Int32
	mu      sync.Mutex
	records map[string]int
}

func newGate(open bool, fail int32) *gate {
	g := &gate{open: make(chan struct{}), records: map[string]int{}}
	if open {
		close(g.open)
	}
	g.fail.Store(fail)
	return g
}

func (g *gate) Submit(ctx context.Context, recs []store.Record) error {
	<-g.open
	if g.fail.Add(-1) >= 0 {
		return store.ErrOverloaded
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range recs {
		g.records[r.ID]++
	}
	return nil
}

func (g *gate) count() (distinct, total int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, n := range g.records {
		distinct++
		total += n
	}
	return
}

func setup(t *testing.T, mode store.Durability) (*natstest.Cluster, *nats.Conn, *cluster.Publisher) {
	t.Helper()
	ns := natstest.StartTB(t, 1)
	nc, err := cluster.Connect(ns.URLs(), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	pub, err := cluster.NewPublisher(context.Background(), nc, cluster.PublisherConfig{Stream: cluster.StreamConfig{Partitions: 4}, Mode: mode}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })
	return ns, nc, pub
}

// TestReadyFollowsLag: a store whose commits are held is not ready while
// it lags more than ReadyLag messages, and ready once it caught up; its
// acknowledgements wait for the commits.
func TestReadyFollowsLag(t *testing.T) {
	_, nc, pub := setup(t, store.Sync)
	if err := pub.Submit(context.Background(), records("demo", 50, 2)); err != nil {
		t.Fatal(err)
	}
	g := newGate(false, 0)
	c, err := cluster.NewConsumer(context.Background(), nc, g, cluster.ConsumerConfig{
		Node: "lagging", Partitions: []int{0, 1, 2, 3}, ReadyLag: 10, PollEvery: 50 * time.Millisecond, Batch: 16,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	testwait.For(t, 5*time.Second, "a lag reading", func() bool { return c.Lag() >= 0 })
	if err := c.Ready(); err == nil || c.Lag() != 100 {
		t.Fatalf("with every commit held: Ready() = %v, lag %d; want an error and lag 100 (nothing acknowledged)", err, c.Lag())
	}
	close(g.open)
	testwait.For(t, 5*time.Second, "caught up", func() bool { return c.Ready() == nil && c.Lag() == 0 })
	if d, n := g.count(); d != 100 || n != 100 {
		t.Errorf("committed %d distinct records in %d submits of records, want 100 and 100", d, n)
	}
}

// TestFailedCommitIsRedelivered: a commit that fails is negatively
// acknowledged and its messages come again; nothing is lost.
func TestFailedCommitIsRedelivered(t *testing.T) {
	_, nc, pub := setup(t, store.Sync)
	g := newGate(true, 2)
	c, err := cluster.NewConsumer(context.Background(), nc, g, cluster.ConsumerConfig{Node: "flaky", Partitions: []int{0, 1, 2, 3}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := pub.Submit(context.Background(), records("demo", 10, 3)); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "all 30 committed", func() bool { d, _ := g.count(); return d == 30 })
}

// TestPoisonMessageTerminated: a message that is no touchpoint is
// terminated, not redelivered for ever, and does not hold up the others.
func TestPoisonMessageTerminated(t *testing.T) {
	_, nc, pub := setup(t, store.Sync)
	js, _ := jetstream.New(nc)
	if _, err := js.PublishMsg(context.Background(), &nats.Msg{Subject: "touchtrail.events.1", Data: []byte("junk"),
		Header: nats.Header{jetstream.MsgIDHeader: []string{"demo/0123456789abcdef0123456789abcdef/x"}}}); err != nil {
		t.Fatal(err)
	}
	if err := pub.Submit(context.Background(), records("demo", 5, 2)); err != nil {
		t.Fatal(err)
	}
	g := newGate(true, 0)
	c, err := cluster.NewConsumer(context.Background(), nc, g, cluster.ConsumerConfig{Node: "s", Partitions: []int{0, 1, 2, 3}, PollEvery: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	testwait.For(t, 5*time.Second, "the good ones committed and nothing pending", func() bool {
		d, _ := g.count()
		return d == 10 && c.Lag() == 0
	})
}

// TestAsyncPublisherRefusesWhileStreamIsGone: async publishing answers at
// enqueue, but once an acknowledgement failed it refuses with
// store.ErrUnavailable until the stream answers again.
func TestAsyncPublisherRefusesWhileStreamIsGone(t *testing.T) {
	_, nc, pub := setup(t, store.Async)
	ctx := context.Background()
	if err := pub.Submit(ctx, records("demo", 2, 2)); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if err := js.DeleteStream(ctx, "TOUCHTRAIL"); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "a refusal", func() bool {
		return errors.Is(pub.Submit(ctx, records("demo", 1, 1)), store.ErrUnavailable)
	})
	if pub.Ready() == nil {
		t.Error("Ready() = nil with the stream gone")
	}
	if _, err := cluster.EnsureStream(ctx, js, cluster.StreamConfig{Partitions: 4}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "publishing again", func() bool { return pub.Submit(ctx, records("demo", 1, 1)) == nil })
}

// TestMembership: nodes appear with their partitions; one that leaves is
// gone at once, one that dies (no more heartbeats) within the TTL.
func TestMembership(t *testing.T) {
	ns := natstest.StartTB(t, 1)
	ctx := context.Background()
	conn := func() *nats.Conn {
		nc, err := cluster.Connect(ns.URLs(), "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	cfg := cluster.MembershipConfig{TTL: time.Second}
	a, err := cluster.Join(ctx, conn(), cfg, cluster.Member{Node: "a", Role: "store", Partitions: []int{0, 1}}, func() int64 { return 7 }, nil)
	if err != nil {
		t.Fatal(err)
	}
	bc := conn()
	if _, err := cluster.Join(ctx, bc, cfg, cluster.Member{Node: "b", Role: "ingest", Addr: "127.0.0.1:1"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Join(ctx, conn(), cfg, cluster.Member{Node: "c", Role: "store", Partitions: []int{2, 3}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		ms, err := cluster.Members(ctx, conn(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.Node)
			if m.Node == "a" && (m.Lag != 7 || cluster.FormatPartitions(m.Partitions) != "0-1") {
				t.Errorf("member a: %+v", m)
			}
		}
		return out
	}
	if got := names(); len(got) != 3 {
		t.Fatalf("members %v, want a b c", got)
	}
	if err := c.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if got := names(); len(got) != 2 {
		t.Fatalf("after c left: %v", got)
	}
	bc.Close()                                                              // b dies: no more heartbeats
	testwait.Until(5*time.Second, func() bool { return len(names()) == 1 }) // b's entry expired
	if got := names(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("after b died and a kept beating for longer than the TTL: %v, want [a]", got)
	}
	a.Leave(ctx)
}
