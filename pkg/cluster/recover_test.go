package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// streamOnThree starts three NATS servers, a sync publisher and a stream
// of one replica (so that stopping its server loses the stream, its
// consumers and the pulls waiting there), and connects a store to another
// server than the stream's: its connection stays up throughout.
func streamOnThree(t *testing.T) (ns *natstest.Cluster, storeNC *nats.Conn, pub *cluster.Publisher, js jetstream.JetStream, leader int) {
	t.Helper()
	ns = natstest.StartTB(t, 3)
	ctx := context.Background()
	pc, err := cluster.Connect(ns.URLs(), "ingest", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pc.Close)
	pub, err = cluster.NewPublisher(ctx, pc, cluster.PublisherConfig{Stream: cluster.StreamConfig{Partitions: 4, Replicas: 1}, Mode: store.Sync}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })
	if js, err = jetstream.New(pc); err != nil {
		t.Fatal(err)
	}
	str, err := js.Stream(ctx, "TOUCHTRAIL")
	if err != nil {
		t.Fatal(err)
	}
	leader = -1
	for i, s := range ns.Servers {
		if s.Name() == str.CachedInfo().Cluster.Leader {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatalf("stream leader %q is none of the servers", str.CachedInfo().Cluster.Leader)
	}
	if storeNC, err = cluster.Connect(ns.Servers[(leader+1)%3].ClientURL(), "store", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(storeNC.Close)
	return ns, storeNC, pub, js, leader
}

// publish submits recs, trying again while the stream is not back yet.
func publish(t *testing.T, pub *cluster.Publisher, recs []store.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		err := pub.Submit(ctx, recs)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("publishing: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsumerRecoversWhenItsServerRestarts: the make-cluster stall. The
// server holding a store's consumer restarts: the pull waiting there is
// lost ("server shutdown"), and pulls sent while it is down meet "no
// responders". The store's own connection never drops, so the client
// library pulls again only after a missed heartbeat (30 s). The consumer
// must pull again itself and commit what is published once the server is
// back — well within that (it failed after 12 s without the watchdog).
func TestConsumerRecoversWhenItsServerRestarts(t *testing.T) {
	ns, nc, pub, _, leader := streamOnThree(t)
	g := newGate(true, 0)
	c, err := cluster.NewConsumer(context.Background(), nc, g, cluster.ConsumerConfig{
		Stream: cluster.StreamConfig{Partitions: 4, Replicas: 1}, Node: "st", Partitions: []int{0, 1, 2, 3}, PollEvery: 100 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	publish(t, pub, tagged("demo", 5, 2, "before"))
	testwait.For(t, 20*time.Second, "the first 10 committed", func() bool { d, _ := g.count(); return d == 10 })

	ns.Stop(leader)
	if err := ns.Restart(leader); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, tagged("demo", 5, 2, "after"))
	start := time.Now()
	testwait.For(t, 12*time.Second, "the 10 published after the restart committed (a missed heartbeat takes 30 s)", func() bool {
		d, _ := g.count()
		return d == 20
	})
	t.Logf("committed %s after publishing", time.Since(start).Round(time.Millisecond))
	testwait.For(t, 10*time.Second, "ready again", func() bool { return c.Ready() == nil })
}

// TestConsumerMadeAgainWhenDeleted: a store's durable consumer deleted
// under it (by hand, or lost with a stream's server) ends the client's
// consumption for good. The consumer must make it again, replaying the
// stream (duplicates are harmless), and commit what comes after.
func TestConsumerMadeAgainWhenDeleted(t *testing.T) {
	_, nc, pub := setup(t, store.Sync)
	g := newGate(true, 0)
	c, err := cluster.NewConsumer(context.Background(), nc, g, cluster.ConsumerConfig{
		Node: "st", Partitions: []int{0, 1, 2, 3}, PollEvery: 100 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	publish(t, pub, tagged("demo", 5, 2, "before"))
	testwait.For(t, 10*time.Second, "the first 10 committed", func() bool { d, _ := g.count(); return d == 10 })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteConsumer(context.Background(), "TOUCHTRAIL", c.Durable()); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, tagged("demo", 5, 2, "after"))
	testwait.For(t, 10*time.Second, "the 10 published after the deletion committed", func() bool { d, _ := g.count(); return d == 20 })
	if _, err := js.Consumer(context.Background(), "TOUCHTRAIL", c.Durable()); err != nil {
		t.Errorf("the consumer was not made again: %v", err)
	}
	testwait.For(t, 10*time.Second, "ready again with nothing pending", func() bool { return c.Ready() == nil && c.Lag() == 0 })
}
