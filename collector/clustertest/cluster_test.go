package clustertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/clustertest"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// TestMain runs a store node instead of the tests when this binary is
// re-executed as one (see startChild).
func TestMain(m *testing.M) {
	if o := os.Getenv(childEnv); o != "" {
		os.Exit(runChild(o))
	}
	os.Exit(m.Run())
}

func runChild(opts string) int {
	var o childOptions
	if err := json.Unmarshal([]byte(opts), &o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	n, err := clustertest.Launch(clustertest.Options{NATS: o.NATS, Role: cluster.RoleStore, Node: o.Node,
		Partitions: o.Partitions, Dir: o.Dir, Addr: o.Addr, Consumer: cluster.ConsumerConfig{PollEvery: 100 * time.Millisecond, AckWait: 2 * time.Second}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("READY " + n.URL)
	<-sig
	n.Stop()
	return 0
}

const parts = 8

// patience is how long a test waits for a condition that must come to
// hold (stored, replayed, ready): generous, for a loaded 2-core machine
// under -race; the wait ends as soon as the condition holds.
const patience = 60 * time.Second

var testStream = cluster.StreamConfig{Partitions: parts}

func generate(n int) ([]journeytest.Visitor, int) {
	vs, _ := journeytest.Generate(15, n, journeytest.Options{Site: collectortest.Site})
	total := 0
	for _, v := range vs {
		total += len(v.Trail)
	}
	return vs, total
}

func ids(v journeytest.Visitor) []string {
	out := make([]string, len(v.Trail))
	for i := range v.Trail {
		out[i] = v.Trail[i].ID
	}
	return out
}

func storedRecords(ns ...*clustertest.Node) int {
	n := 0
	for _, s := range ns {
		n += int(s.Writer.Stats().Records)
	}
	return n
}

// TestJourneysExactlyOnceInOwningStore: a three-server JetStream cluster,
// the stream replicated ×3, two ingest nodes and two stores: the
// journeytest data sent over HTTP to both ingest nodes ends up, every
// touchpoint exactly once and in trail order, in the store owning its
// partition, and nowhere else.
func TestJourneysExactlyOnceInOwningStore(t *testing.T) {
	nc := natstest.StartTB(t, 3)
	stream := cluster.StreamConfig{Partitions: parts, Replicas: 3}
	in1 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in1", Stream: stream})
	in2 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in2", Stream: stream})
	// Lag read every 100 ms: the metrics asserted below are fresh soon.
	poll := cluster.ConsumerConfig{PollEvery: 100 * time.Millisecond}
	s1 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "s1", Partitions: "0-3", Dir: t.TempDir(), Consumer: poll})
	s2 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "s2", Partitions: "4-7", Dir: t.TempDir(), Consumer: poll})

	visitors, total := generate(150)
	acked, refused := load(t, []string{in1.URL, in2.URL}, batches(collectortest.Site, visitors, 25), 4, nil)
	if len(acked) != total {
		t.Fatalf("%d of %d events acknowledged", len(acked), total)
	}
	testwait.For(t, patience, fmt.Sprintf("%d touchpoints stored", total), func() bool { return storedRecords(s1, s2) >= total })
	if got := storedRecords(s1, s2); got != total {
		t.Errorf("stores hold %d new touchpoints, want exactly %d", got, total)
	}
	if refused == 0 {
		if d := s1.Writer.Stats().Duplicates + s2.Writer.Stats().Duplicates; d != 0 {
			t.Errorf("stores saw %d duplicates though nothing was re-sent", d)
		}
	}
	for _, v := range visitors {
		owner, other := s1, s2
		if cluster.Partition(collectortest.Site, v.ID, parts) >= 4 {
			owner, other = s2, s1
		}
		if got, want := trail(t, owner.URL, v.ID), ids(v); !slices.Equal(got, want) {
			t.Errorf("visitor %s: owner's trail %v, want %v", v.ID, got, want)
		}
		// Asked over HTTP, any node answers for any visitor (the other
		// store routes to the owner); its own Badger holds nothing of it.
		if got := trail(t, other.URL, v.ID); !slices.Equal(got, ids(v)) {
			t.Errorf("visitor %s: the other store answered %v, want the owner's %v", v.ID, got, ids(v))
		}
		if page, err := other.Store.Trail(context.Background(), collectortest.Site, v.ID, store.TrailQuery{Limit: 1}); err != nil || len(page.Touchpoints) != 0 {
			t.Errorf("visitor %s: the store not owning partition %d holds %d touchpoints (%v)", v.ID, cluster.Partition(collectortest.Site, v.ID, parts), len(page.Touchpoints), err)
		}
	}

	// The operations side: membership, readiness, metrics.
	members, err := cluster.Members(context.Background(), in1.Cluster.NC, cluster.MembershipConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range members {
		got = append(got, fmt.Sprintf("%s:%s:%s:%v", m.Node, m.Role, cluster.FormatPartitions(m.Partitions), m.Addr != ""))
	}
	if want := []string{"in1:ingest::true", "in2:ingest::true", "s1:store:0-3:true", "s2:store:4-7:true"}; !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
	for _, n := range []*clustertest.Node{in1, in2, s1, s2} {
		testwait.For(t, patience, n.URL+"/readyz", func() bool { st, _ := get(t, n.URL+"/readyz"); return st == http.StatusOK })
	}
	_, m := get(t, in1.URL+"/metrics")
	for _, want := range []string{"touchtrail_cluster_publish_seconds_count", "touchtrail_cluster_published_total", "touchtrail_cluster_publish_pending_acks"} {
		if !strings.Contains(m, want) {
			t.Errorf("ingest /metrics lacks %s", want)
		}
	}
	// The lag gauges are set by the consumer's next reading of its lag:
	// wait for one that shows it caught up.
	wants := []string{`touchtrail_cluster_consumed_total{outcome="committed"}`, `touchtrail_cluster_partition_lag_seconds{partition="3"} 0`,
		"touchtrail_cluster_consumer_pending 0", "touchtrail_cluster_redeliveries_total", "touchtrail_cluster_consumer_restarts_total"}
	testwait.For(t, patience, fmt.Sprintf("store /metrics with %q", wants), func() bool {
		_, m = get(t, s1.URL+"/metrics")
		for _, want := range wants {
			if !strings.Contains(m, want) {
				return false
			}
		}
		return true
	})
	// The query API of an ingest node says where the data is.
	if st, body := get(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s/trail", in1.URL, collectortest.Site, visitors[0].ID)); st != http.StatusServiceUnavailable || !strings.Contains(body, "store node") {
		t.Errorf("trail from an ingest node: %d %s, want 503 naming store nodes", st, body)
	}
}

// waitAcked waits until every acknowledged event is in the store at url.
func waitAcked(t *testing.T, url string, acked []sent) {
	t.Helper()
	want := map[event.VisitorID][]string{}
	for _, s := range acked {
		want[s.visitor] = append(want[s.visitor], s.id)
	}
	deadline := time.Now().Add(patience)
	for v, ids := range want {
		missing := 0
		if !testwait.Until(time.Until(deadline), func() bool {
			got := trail(t, url, v)
			missing = 0
			for _, id := range ids {
				if !slices.Contains(got, id) {
					missing++
				}
			}
			if len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
				t.Fatalf("visitor %s: a touchpoint stored twice: %v", v, got)
			}
			return missing == 0
		}) {
			t.Fatalf("visitor %s: %d acknowledged events missing", v, missing)
		}
	}
}

// TestStoreKilledMidLoad: a store in a subprocess is SIGKILLed while events
// pour in and restarted on its directory: every acknowledged event is
// there, once.
func TestStoreKilledMidLoad(t *testing.T) {
	nc := natstest.StartTB(t, 1)
	in := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in", Stream: testStream})
	dir := t.TempDir()
	o := childOptions{NATS: nc.URLs(), Node: "s1", Partitions: "0-7", Dir: dir, Addr: "127.0.0.1:0"}
	s := startChild(t, o)
	visitors, total := generate(120)
	var killedAt time.Time
	acked, _ := load(t, []string{in.URL}, batches(collectortest.Site, visitors, 5), 4, func() {
		s.kill(syscall.SIGKILL)
		killedAt = time.Now()
		s = startChild(t, o)
	})
	if len(acked) != total || killedAt.IsZero() {
		t.Fatalf("%d of %d events acknowledged; killed: %v", len(acked), total, !killedAt.IsZero())
	}
	waitAcked(t, s.URL, acked)
}

// streamLeader returns the index of the server leading the stream.
func streamLeader(t *testing.T, c *natstest.Cluster, stream string) int {
	t.Helper()
	for i, s := range c.Servers {
		if s.JetStreamIsStreamLeader("$G", stream) {
			return i
		}
	}
	t.Fatal("no stream leader")
	return -1
}

// TestNATSServerStoppedMidLoad: the server leading the stream (replicated
// ×3) stops while two ingest nodes take events: ingest goes on on the
// other two (clients retry what was refused meanwhile) and every
// acknowledged event is stored.
func TestNATSServerStoppedMidLoad(t *testing.T) {
	nc := natstest.StartTB(t, 3)
	stream := cluster.StreamConfig{Partitions: parts, Replicas: 3}
	// Short waits: a test of seconds. Refused requests are retried; messages
	// lost on the way to the store come again after AckWait.
	pub := cluster.PublisherConfig{AckTimeout: time.Second}
	in1 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in1", Stream: stream, Publisher: pub})
	in2 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in2", Stream: stream, Publisher: pub})
	s := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "s", Dir: t.TempDir(),
		Consumer: cluster.ConsumerConfig{AckWait: 2 * time.Second}})
	visitors, total := generate(120)
	stopped := -1
	start := time.Now()
	acked, refused := load(t, []string{in1.URL, in2.URL}, batches(collectortest.Site, visitors, 5), 4, func() {
		stopped = streamLeader(t, nc, "TOUCHTRAIL")
		nc.Stop(stopped)
	})
	if len(acked) != total {
		t.Fatalf("%d of %d events acknowledged", len(acked), total)
	}
	t.Logf("stopped server n%d mid-load; %d requests refused meanwhile and retried; load took %s", stopped+1, refused, time.Since(start))
	waitAcked(t, s.URL, acked)
	t.Logf("all stored after %s", time.Since(start))
	if got := int(s.Writer.Stats().Records); got != total {
		t.Errorf("store holds %d touchpoints, want %d", got, total)
	}
}

// TestStoreRebuiltFromEmpty: a store whose directory is wiped replays its
// partitions from the stream and holds the same trails; so does a new
// replica of the same partitions.
func TestStoreRebuiltFromEmpty(t *testing.T) {
	nc := natstest.StartTB(t, 1)
	in := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in", Stream: testStream})
	dir := t.TempDir()
	so := clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "s1", Partitions: "0-3", Dir: dir,
		Consumer: cluster.ConsumerConfig{PollEvery: 50 * time.Millisecond}}
	s1 := clustertest.Start(t, so)
	visitors, _ := generate(100)
	load(t, []string{in.URL}, batches(collectortest.Site, visitors, 20), 4, nil)
	var mine []journeytest.Visitor
	want := 0
	for _, v := range visitors {
		if cluster.Partition(collectortest.Site, v.ID, parts) < 4 {
			mine = append(mine, v)
			want += len(v.Trail)
		}
	}
	testwait.For(t, patience, "partitions 0-3 stored", func() bool { return storedRecords(s1) >= want })
	before := map[event.VisitorID][]string{}
	for _, v := range mine {
		before[v.ID] = trail(t, s1.URL, v.ID)
	}
	s1.Stop()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	s1 = clustertest.Start(t, so) // same node, same consumer name, empty directory
	replica := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "s1-replica", Partitions: "0-3", Dir: t.TempDir()})
	testwait.For(t, patience, "replay", func() bool { return storedRecords(s1) >= want && storedRecords(replica) >= want })
	for _, v := range mine {
		if got := trail(t, s1.URL, v.ID); !slices.Equal(got, before[v.ID]) || len(got) != len(v.Trail) {
			t.Errorf("visitor %s: rebuilt store holds %v, before %v", v.ID, got, before[v.ID])
		}
		if got := trail(t, replica.URL, v.ID); !slices.Equal(got, before[v.ID]) {
			t.Errorf("visitor %s: new replica holds %v, want %v", v.ID, got, before[v.ID])
		}
	}
	if got := storedRecords(s1); got != want {
		t.Errorf("rebuilt store holds %d touchpoints, want %d", got, want)
	}
	testwait.For(t, patience, "rebuilt store ready", func() bool { st, _ := get(t, s1.URL+"/readyz"); return st == http.StatusOK })
}

// TestStreamUnavailable: with the stream gone, and then with no NATS
// server at all, sync and async ingest answer 503 with Retry-After at
// once, never hang, and /readyz says not ready.
func TestStreamUnavailable(t *testing.T) {
	nc := natstest.StartTB(t, 1)
	sync := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "sync", Stream: testStream})
	async := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "async", Stream: testStream, Mode: store.Async})
	visitors, _ := generate(4)
	bs := batches(collectortest.Site, visitors, 5)
	for _, n := range []*clustertest.Node{sync, async} {
		if st, _ := post(t, n.URL, bs[0].body); st != http.StatusAccepted {
			t.Fatalf("%s: %d before the outage", n.URL, st)
		}
	}
	refusedQuickly := func(n *clustertest.Node, what string, attempts int) {
		t.Helper()
		for i := range attempts {
			start := time.Now()
			st, retry := post(t, n.URL, bs[1+i%(len(bs)-1)].body)
			if took := time.Since(start); took > 7*time.Second {
				t.Errorf("%s: answered after %s", what, took)
			}
			if st == http.StatusServiceUnavailable && retry != "" {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("%s: no 503 with Retry-After in %d attempts", what, attempts)
	}

	// The stream deleted: no responders.
	js, err := jetstream.New(sync.Cluster.NC)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(context.Background(), "TOUCHTRAIL"); err != nil {
		t.Fatal(err)
	}
	refusedQuickly(sync, "sync, stream deleted", 1)
	refusedQuickly(async, "async, stream deleted", 10) // the first may be taken before the failure is known
	testwait.For(t, patience, "async /readyz 503", func() bool { st, _ := get(t, async.URL+"/readyz"); return st == http.StatusServiceUnavailable })

	// No server at all.
	nc.Shutdown()
	refusedQuickly(sync, "sync, no server", 1)
	refusedQuickly(async, "async, no server", 1)
	if st, body := get(t, sync.URL+"/readyz"); st != http.StatusServiceUnavailable {
		t.Errorf("sync /readyz with no server: %d %s", st, body)
	}
}

// TestRoleAll: one node both publishes and consumes every partition: what
// it acknowledges, it answers from its own store.
func TestRoleAll(t *testing.T) {
	nc := natstest.StartTB(t, 1)
	// One scan slot: a site-wide question scattered to the node itself must
	// not hold the slot its own share needs.
	n := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleAll, Node: "solo", Stream: testStream, Dir: t.TempDir(),
		Config: func(c *collector.Config) { c.MaxScans = 1 }})
	visitors, total := generate(20)
	acked, _ := load(t, []string{n.URL}, batches(collectortest.Site, visitors, 10), 2, nil)
	if len(acked) != total {
		t.Fatalf("%d of %d acknowledged", len(acked), total)
	}
	testwait.For(t, patience, "stored", func() bool { return storedRecords(n) >= total })
	for _, v := range visitors {
		if got := trail(t, n.URL, v.ID); !slices.Equal(got, ids(v)) {
			t.Errorf("visitor %s: %v, want %v", v.ID, got, ids(v))
		}
	}
	// Site-wide questions of an all node are scattered (here to itself).
	st, body := get(t, n.URL+"/v1/sites/"+collectortest.Site+"/visitors?from=2026-11-01&to=2026-11-08&limit=1000")
	var vl struct {
		Visitors []struct{ Visitor string } `json:"visitors"`
		Partial  bool                       `json:"partial"`
	}
	if err := json.Unmarshal([]byte(body), &vl); st != http.StatusOK || err != nil || vl.Partial {
		t.Fatalf("visitors of an all node: %d %.300s", st, body)
	}
	distinct := map[string]bool{}
	for _, v := range vl.Visitors {
		distinct[v.Visitor] = true
	}
	if len(distinct) != len(visitors) {
		t.Errorf("visitors list of an all node names %d visitors, want %d", len(distinct), len(visitors))
	}
	_, m := get(t, n.URL+"/metrics")
	if !strings.Contains(m, "touchtrail_cluster_scatter_seconds_count") {
		t.Errorf("the all node did not scatter the visitors list")
	}
}

// TestQueryNodeRoutesTrails: a query node answers a visitor's trail (all
// pages, cursors included) and journey from a live store owning the
// visitor's partition; with one of two replicas stopped the other
// answers; with none, the answer is 503 naming the partition.
func TestQueryNodeRoutesTrails(t *testing.T) {
	nc := natstest.StartTB(t, 1)
	in := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in", Stream: testStream})
	a := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "a", Partitions: "0-3", Dir: t.TempDir()})
	a2 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "a2", Partitions: "0-3", Dir: t.TempDir()})
	b := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "b", Partitions: "4-7", Dir: t.TempDir()})
	q := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleQuery, Node: "q"})
	visitors, total := generate(40)
	load(t, []string{in.URL}, batches(collectortest.Site, visitors, 10), 2, nil)
	testwait.For(t, patience, "stored", func() bool { return storedRecords(a, b) >= total && storedRecords(a2) == storedRecords(a) })

	pages := func(url string, v event.VisitorID) ([]string, int) {
		var ids []string
		cursor, n := "", 0
		for {
			st, body := get(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s/trail?limit=3&cursor=%s", url, collectortest.Site, v, cursor))
			if st != http.StatusOK {
				return nil, st
			}
			var page struct {
				Touchpoints []struct{ ID string } `json:"touchpoints"`
				Next        string                `json:"next"`
			}
			if err := json.Unmarshal([]byte(body), &page); err != nil {
				t.Fatal(err)
			}
			for _, tp := range page.Touchpoints {
				ids = append(ids, tp.ID)
			}
			n++
			if page.Next == "" {
				return ids, n
			}
			cursor = page.Next
		}
	}
	for _, v := range visitors {
		got, n := pages(q.URL, v.ID)
		if !slices.Equal(got, ids(v)) {
			t.Errorf("visitor %s through the query node: %v (%d pages), want %v", v.ID, got, n, ids(v))
		}
		st, body := get(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s/journey", q.URL, collectortest.Site, v.ID))
		_, direct := get(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s/journey", a.URL, collectortest.Site, v.ID))
		if cluster.Partition(collectortest.Site, v.ID, parts) >= 4 {
			_, direct = get(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s/journey", b.URL, collectortest.Site, v.ID))
		}
		if st != http.StatusOK || body != direct {
			t.Errorf("visitor %s: journey through the query node %d %s, from its store %s", v.ID, st, body, direct)
		}
	}
	var low journeytest.Visitor // a visitor of partitions 0-3
	for _, v := range visitors {
		if cluster.Partition(collectortest.Site, v.ID, parts) < 4 {
			low = v
			break
		}
	}
	a.Stop()
	if got, _ := pages(q.URL, low.ID); !slices.Equal(got, ids(low)) {
		t.Errorf("with one replica stopped: %v, want %v", got, ids(low))
	}
	a2.Stop()
	st, body := get(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s/trail", q.URL, collectortest.Site, low.ID))
	p := cluster.Partition(collectortest.Site, low.ID, parts)
	if st != http.StatusServiceUnavailable || !strings.Contains(body, fmt.Sprintf("partition %d has no live store", p)) {
		t.Errorf("no store for partition %d: %d %s", p, st, body)
	}
	_, m := get(t, q.URL+"/metrics")
	if want := fmt.Sprintf(`touchtrail_cluster_query_unanswered_total{partition="%d"} 1`, p); !strings.Contains(m, want) || !strings.Contains(m, "touchtrail_cluster_query_seconds_count") {
		t.Errorf("query node /metrics lacks %s or the sub-query latencies", want)
	}
	// Site-wide questions go to b alone now: partial, naming a's partitions.
	if st, body := get(t, fmt.Sprintf("%s/v1/sites/%s/visitors", q.URL, collectortest.Site)); st != http.StatusOK || !strings.Contains(body, `{"partial":true,"missing_partitions":[0,1,2,3],`) {
		t.Errorf("a site-wide question through the query node with partitions 0-3 gone: %d %.300s, want partial naming them", st, body)
	}
}
