package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

func TestPartitionIsStable(t *testing.T) {
	f := func(site, visitor string, n, want int) {
		t.Helper()
		v, err := event.ParseVisitor(visitor)
		if err != nil {
			t.Fatal(err)
		}
		if got := cluster.Partition(site, v, n); got != want {
			t.Errorf("Partition(%q, %s, %d) = %d, want %d (the mapping must never change: stored streams depend on it)", site, visitor, n, got, want)
		}
	}
	f("demo", "0123456789abcdef0123456789abcdef", 32, 29)
	f("demo", "0123456789abcdef0123456789abcdee", 32, 24)
	f("shop", "0123456789abcdef0123456789abcdef", 32, 3)
	f("demo", "0123456789abcdef0123456789abcdef", 8, 5)
	f("demo", "ffffffffffffffffffffffffffffffff", 1, 0)
}

func TestPartitionSpreadsVisitors(t *testing.T) {
	const n, visitors = 16, 16000
	counts := make([]int, n)
	for i := range visitors {
		var v event.VisitorID
		v[0], v[1], v[15] = byte(i), byte(i>>8), 7
		counts[cluster.Partition("demo", v, n)]++
	}
	for p, c := range counts {
		if c < visitors/n*8/10 || c > visitors/n*12/10 {
			t.Errorf("partition %d holds %d of %d visitors: want within 20%% of %d", p, c, visitors, visitors/n)
		}
	}
}

func TestParsePartitions(t *testing.T) {
	f := func(in string, n int, want []int, wantErr bool) {
		t.Helper()
		got, err := cluster.ParsePartitions(in, n)
		if (err != nil) != wantErr || !slices.Equal(got, want) {
			t.Errorf("ParsePartitions(%q, %d) = %v, %v; want %v, error %v", in, n, got, err, want, wantErr)
		}
		if err == nil {
			if back := cluster.FormatPartitions(got); back != in && in != "3,1-2" {
				t.Errorf("FormatPartitions(%v) = %q, want %q", got, back, in)
			}
		}
	}
	f("0-3", 32, []int{0, 1, 2, 3}, false)
	f("0-1,5,7-8", 32, []int{0, 1, 5, 7, 8}, false)
	f("3,1-2", 32, []int{1, 2, 3}, false)
	f("0-32", 32, nil, true)
	f("5-2", 32, nil, true)
	f("x", 32, nil, true)
	f("", 32, nil, true)
	f("-1", 32, nil, true)
}

// node is a store node without HTTP: Badger, a sync writer, a consumer.
type node struct {
	st   *badger.Store
	w    *store.Writer
	cons *cluster.Consumer
}

func startStore(t *testing.T, nc *nats.Conn, dir, name string, parts []int, fresh bool) *node {
	t.Helper()
	st, err := badger.Open(badger.Config{Dir: dir, SyncWrites: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := store.NewWriter(st, store.WriterConfig{}, nil)
	c, err := cluster.NewConsumer(context.Background(), nc, w, cluster.ConsumerConfig{
		Node: name, Partitions: parts, Fresh: fresh, PollEvery: 100 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{st: st, w: w, cons: c}
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n.cons.Close(ctx)
	n.w.Close(ctx)
	n.st.Close()
}

func records(site string, visitors, per int) []store.Record {
	return tagged(site, visitors, per, "e")
}

// tagged makes per touchpoints for each of visitors, with ids starting
// with tag.
func tagged(site string, visitors, per int, tag string) []store.Record {
	var recs []store.Record
	var slab []byte
	base := time.Now().Add(-time.Hour).UnixMicro()
	for i := range visitors {
		var v event.VisitorID
		v[0], v[1], v[15] = byte(i), byte(i>>8), 1
		for j := range per {
			tp := event.Touchpoint{ID: fmt.Sprintf("%s-%d-%d", tag, i, j), Type: event.TypePageview, Site: site, Visitor: v,
				Seq: uint32(j), TS: base + int64(j), Derived: base + int64(j), URL: "https://shop.example/p"}
			recs = append(recs, store.NewRecord(&tp, &slab))
		}
	}
	return recs
}

func trailIDs(t *testing.T, st store.Store, site string, v event.VisitorID) []string {
	t.Helper()
	p, err := st.Trail(context.Background(), site, v, store.TrailQuery{Limit: store.MaxLimit})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(p.Touchpoints))
	for i := range p.Touchpoints {
		ids[i] = p.Touchpoints[i].ID
	}
	return ids
}

// TestPublishConsumeOwnedPartitions: records published to an embedded
// JetStream land, once each, in the store owning their partition and in
// no other; re-publishing is dropped by the duplicate window; a replica
// owning the same partitions holds the same trails.
func TestPublishConsumeOwnedPartitions(t *testing.T) {
	nats1 := natstest.StartTB(t, 1)
	nc, err := cluster.Connect(nats1.URLs(), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx := context.Background()
	pub, err := cluster.NewPublisher(ctx, nc, cluster.PublisherConfig{Stream: cluster.StreamConfig{Partitions: 4}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(ctx)
	if got := pub.Stream().Partitions; got != 4 {
		t.Fatalf("stream records %d partitions, want 4", got)
	}
	// A second publisher asking for another P gets the stream's own.
	pub2, err := cluster.NewPublisher(ctx, nc, cluster.PublisherConfig{Stream: cluster.StreamConfig{Partitions: 16}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub2.Close(ctx)
	if got := pub2.Stream().Partitions; got != 4 {
		t.Fatalf("an existing stream's P must win: got %d, want 4", got)
	}

	a := startStore(t, nc, t.TempDir(), "a", []int{0, 1}, true)
	b := startStore(t, nc, t.TempDir(), "b", []int{2, 3}, true)
	r := startStore(t, nc, t.TempDir(), "a-replica", []int{0, 1}, true)

	recs := records("demo", 40, 5)
	if err := pub.Submit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := pub2.Submit(ctx, recs[:50]); err != nil { // a retry through another ingest node
		t.Fatal(err)
	}
	want := len(recs)
	stored := func(n *node) int { return int(n.w.Stats().Records) }
	testwait.For(t, 10*time.Second, "every record stored", func() bool {
		return stored(a)+stored(b) == want && stored(r) == stored(a)
	})
	for i := 0; i < len(recs); i += 5 {
		v := recs[i].Visitor
		owner, other := a, b
		if cluster.Partition("demo", v, 4) >= 2 {
			owner, other = b, a
		}
		if got := trailIDs(t, owner.st, "demo", v); len(got) != 5 {
			t.Errorf("visitor %s: owner holds %v, want 5 touchpoints", v, got)
		}
		if got := trailIDs(t, other.st, "demo", v); len(got) != 0 {
			t.Errorf("visitor %s: a store not owning its partition holds %v", v, got)
		}
		if owner == a && !slices.Equal(trailIDs(t, r.st, "demo", v), trailIDs(t, a.st, "demo", v)) {
			t.Errorf("visitor %s: the replica differs", v)
		}
	}
	if d := a.w.Stats().Duplicates + b.w.Stats().Duplicates; d != 0 {
		t.Errorf("stores saw %d duplicates: the duplicate window should have dropped the retry", d)
	}
	testwait.For(t, 5*time.Second, "lag 0", func() bool { return a.cons.Lag() == 0 && b.cons.Ready() == nil })
}
