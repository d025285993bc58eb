package clustertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/collector/clustertest"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// identityCluster is the cluster of the identity and erase tests: one
// NATS server, an ingest node, stores a (partitions 0-2) with its replica
// a2, b (3-5) and c (6-7), a query node, and a single node loaded with
// the same data for reference.
type identityCluster struct {
	nc          *natstest.Cluster
	in, q       *clustertest.Node
	a, a2, b, c *clustertest.Node
	single      *collectortest.Collector
	visitors    []journeytest.Visitor
	byID        map[event.VisitorID]journeytest.Visitor
	users       map[string][]event.VisitorID
	user        string             // whose partition and two visitors are on three different stores
	total       int                // touchpoints sent
	storeOf     func(p int) string // "a", "b" or "c"
	stores      []*clustertest.Node
}

func storeOf(p int) string {
	switch {
	case p <= 2:
		return "a"
	case p <= 5:
		return "b"
	}
	return "c"
}

func startIdentityCluster(t *testing.T) *identityCluster {
	t.Helper()
	ic := &identityCluster{nc: natstest.StartTB(t, 1), storeOf: storeOf}
	url := ic.nc.URLs()
	fast := cluster.ConsumerConfig{PollEvery: 50 * time.Millisecond}
	ic.in = clustertest.Start(t, clustertest.Options{NATS: url, Role: cluster.RoleIngest, Node: "in", Stream: testStream})
	ic.a = clustertest.Start(t, clustertest.Options{NATS: url, Role: cluster.RoleStore, Node: "a", Partitions: "0-2", Dir: t.TempDir(), Consumer: fast})
	ic.a2 = clustertest.Start(t, clustertest.Options{NATS: url, Role: cluster.RoleStore, Node: "a2", Partitions: "0-2", Dir: t.TempDir(), Consumer: fast})
	ic.b = clustertest.Start(t, clustertest.Options{NATS: url, Role: cluster.RoleStore, Node: "b", Partitions: "3-5", Dir: t.TempDir(), Consumer: fast})
	ic.c = clustertest.Start(t, clustertest.Options{NATS: url, Role: cluster.RoleStore, Node: "c", Partitions: "6-7", Dir: t.TempDir(), Consumer: fast})
	ic.q = clustertest.Start(t, clustertest.Options{NATS: url, Role: cluster.RoleQuery, Node: "q"})
	ic.single = collectortest.Start(t, collectortest.Options{KeepBots: true})
	ic.stores = []*clustertest.Node{ic.a, ic.a2, ic.b, ic.c}

	var truth journeytest.Truth
	ic.visitors, truth = journeytest.Generate(15, 80, journeytest.Options{Site: collectortest.Site})
	ic.users = truth.Users
	ic.byID = map[event.VisitorID]journeytest.Visitor{}
	for _, v := range ic.visitors {
		ic.byID[v.ID] = v
		ic.total += len(v.Trail)
	}
	for _, u := range slices.Sorted(func(yield func(string) bool) {
		for u := range ic.users {
			if !yield(u) {
				return
			}
		}
	}) {
		vs := ic.users[u]
		if len(vs) != 2 {
			continue
		}
		s := []string{storeOf(cluster.UserPartition(collectortest.Site, u, parts)),
			storeOf(cluster.Partition(collectortest.Site, vs[0], parts)), storeOf(cluster.Partition(collectortest.Site, vs[1], parts))}
		if s[0] == "c" && s[1] != s[2] && s[1] != "c" && s[2] != "c" {
			ic.user = u
			break
		}
	}
	if ic.user == "" {
		t.Fatal("the data set has no user whose partition is on store c and whose two visitors are on a and b: change the seed")
	}

	bs := batches(collectortest.Site, ic.visitors, 20)
	acked, _ := load(t, []string{ic.in.URL}, bs, 4, nil)
	if len(acked) != ic.total {
		t.Fatalf("%d of %d events acknowledged by the cluster", len(acked), ic.total)
	}
	if acked, _ := load(t, []string{ic.single.URL}, bs, 4, nil); len(acked) != ic.total {
		t.Fatalf("%d of %d events acknowledged by the single node", len(acked), ic.total)
	}
	testwait.For(t, 20*time.Second, "every touchpoint stored, every link consumed", func() bool {
		return storedRecords(ic.a, ic.b, ic.c) >= ic.total && storedRecords(ic.a2) == storedRecords(ic.a) && ic.caughtUp()
	})
	return ic
}

// caughtUp reports whether every store's consumer has nothing pending.
func (ic *identityCluster) caughtUp(extra ...*clustertest.Node) bool {
	for _, n := range append(slices.Clone(ic.stores), extra...) {
		if n.Cluster.Consumer.Lag() != 0 {
			return false
		}
	}
	return true
}

// normalised drops the fields a second ingest changes (the receive time)
// from a JSON answer.
func normalised(t *testing.T, body string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			delete(x, "received")
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	b, _ := json.Marshal(v)
	return string(b)
}

func userURL(base, user, what string) string {
	return fmt.Sprintf("%s/v1/sites/%s/users/%s/%s", base, collectortest.Site, user, what)
}

// TestUserJourneyAcrossStores: a user identified on two visitors whose
// partitions are on stores a and b, while the user's own partition is on
// store c: through the query node, the user's trail and journey are
// exactly the single node's (the link reached c through the stream, and
// the trails are gathered from a and b). With a stopped its replica a2
// answers; with c stopped (no replica) the answer is 503 naming the user's
// partition.
func TestUserJourneyAcrossStores(t *testing.T) {
	ic := startIdentityCluster(t)
	u := ic.user
	pu := cluster.UserPartition(collectortest.Site, u, parts)
	vs := ic.users[u]
	t.Logf("user %s: partition %d (store c); visitors on partitions %d and %d", u, pu,
		cluster.Partition(collectortest.Site, vs[0], parts), cluster.Partition(collectortest.Site, vs[1], parts))

	// c holds the links though none of the user's touchpoints.
	got, err := ic.c.Store.UserVisitors(context.Background(), collectortest.Site, u)
	if err != nil || !slices.Equal(got, slices.SortedFunc(slices.Values(vs), cmpVisitor)) {
		t.Fatalf("store c (the user's partition) links %v (%v), want %v", got, err, vs)
	}
	for _, v := range vs {
		if page, _ := ic.c.Store.Trail(context.Background(), collectortest.Site, v, store.TrailQuery{}); len(page.Touchpoints) != 0 {
			t.Errorf("store c holds touchpoints of visitor %s of another store's partition", v)
		}
	}

	same := func(what string) {
		t.Helper()
		for _, ep := range []string{"trail", "journey"} {
			st, body := get(t, userURL(ic.q.URL, u, ep))
			wst, want := get(t, userURL(ic.single.URL, u, ep))
			if st != http.StatusOK || wst != http.StatusOK {
				t.Fatalf("%s: user %s through the query node %d %s; single node %d %s", what, ep, st, body, wst, want)
			}
			if normalised(t, body) != normalised(t, want) {
				t.Errorf("%s: user %s through the query node\n%s\nsingle node\n%s", what, ep, body, want)
			}
		}
	}
	same("all stores up")
	// Every identified user of the data set answers as on one node.
	for user := range ic.users {
		st, body := get(t, userURL(ic.q.URL, user, "journey"))
		_, want := get(t, userURL(ic.single.URL, user, "journey"))
		if st != http.StatusOK || normalised(t, body) != normalised(t, want) {
			t.Errorf("user %s: journey through the query node %d %s, single node %s", user, st, body, want)
		}
	}
	if st, _ := get(t, userURL(ic.q.URL, "nobody", "journey")); st != http.StatusNotFound {
		t.Errorf("unknown user through the query node: %d, want 404", st)
	}

	ic.a.Stop()
	same("store a stopped (its replica a2 answers)")
	ic.c.Stop()
	st, body := get(t, userURL(ic.q.URL, u, "journey"))
	if st != http.StatusServiceUnavailable || !strings.Contains(body, fmt.Sprintf("partition %d has no live store", pu)) {
		t.Errorf("the user's partition %d without a store: %d %s, want 503 naming it", pu, st, body)
	}
}

func cmpVisitor(a, b event.VisitorID) int { return slices.Compare(a[:], b[:]) }

// del sends a DELETE with the admin token.
func del(t *testing.T, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Authorization", "Bearer "+collectortest.AdminToken)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type eraseAnswer struct {
	Erased        json.RawMessage `json:"erased"`
	Partial       bool            `json:"partial"`
	StreamDeleted int             `json:"stream_deleted"`
	Partitions    []struct {
		Partition int      `json:"partition"`
		Applied   []string `json:"applied"`
		Pending   []string `json:"pending"`
	} `json:"partitions"`
}

// streamMessages reads every message of the stream: message id, op, data.
func streamMessages(t *testing.T, n *clustertest.Node) []streamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js, err := jetstream.New(n.Cluster.NC)
	if err != nil {
		t.Fatal(err)
	}
	str, err := js.Stream(ctx, "TOUCHTRAIL")
	if err != nil {
		t.Fatal(err)
	}
	last := str.CachedInfo().State.LastSeq
	oc, err := str.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []streamMsg
	for {
		batch, err := oc.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		seq := uint64(0)
		for m := range batch.Messages() {
			meta, _ := m.Metadata()
			seq = meta.Sequence.Stream
			out = append(out, streamMsg{id: m.Headers().Get(jetstream.MsgIDHeader), op: m.Headers().Get("Touchtrail-Op"), data: string(m.Data())})
		}
		if batch.Error() != nil {
			t.Fatal(batch.Error())
		}
		if seq == 0 || seq >= last {
			return out
		}
	}
}

type streamMsg struct{ id, op, data string }

// mentions returns the messages of the stream, other than erasures, that
// name v (in their message id) or user (anywhere).
func mentions(msgs []streamMsg, v event.VisitorID, user string) []string {
	var out []string
	for _, m := range msgs {
		if m.op == "erase" {
			continue
		}
		if strings.Contains(m.id, v.String()) || (user != "" && strings.Contains(m.data, user)) {
			out = append(out, m.id)
		}
	}
	return out
}

// assertGone checks, reading each store's Badger directly, that nothing
// of the visitors and users is left.
func assertGone(t *testing.T, what string, nodes []*clustertest.Node, vs []event.VisitorID, users []string) {
	t.Helper()
	ctx := context.Background()
	for _, n := range nodes {
		for _, v := range vs {
			if page, err := n.Store.Trail(ctx, collectortest.Site, v, store.TrailQuery{}); err != nil || len(page.Touchpoints) != 0 {
				t.Errorf("%s: store %s still holds %d touchpoints of visitor %s (%v)", what, n.Addr, len(page.Touchpoints), v, err)
			}
			if us, err := n.Store.VisitorUsers(ctx, collectortest.Site, v); err != nil || len(us) != 0 {
				t.Errorf("%s: store %s still links visitor %s to %v (%v)", what, n.Addr, v, us, err)
			}
		}
		for _, u := range users {
			if got, err := n.Store.UserVisitors(ctx, collectortest.Site, u); err != nil || len(got) != 0 {
				t.Errorf("%s: store %s still links user %s to %v (%v)", what, n.Addr, u, got, err)
			}
		}
	}
}

// TestEraseAcrossStores: erasing a visitor and then a user through the
// query node reaches every store holding their data, the replica
// included, and the links on the users' partitions; their messages are
// deleted from the stream; a store rebuilt from an empty directory (a
// replay of the whole stream) does not bring them back; re-sent events
// dated before the erase stay dropped.
func TestEraseAcrossStores(t *testing.T) {
	ic := startIdentityCluster(t)
	u := ic.user
	uvs := ic.users[u]
	// Another user's visitor, erased alone: its user keeps the other one.
	var other string
	var v3, v3mate event.VisitorID
	for _, w := range slices.Sorted(func(yield func(string) bool) {
		for w := range ic.users {
			if !yield(w) {
				return
			}
		}
	}) {
		ws := ic.users[w]
		if w == u || len(ws) != 2 {
			continue
		}
		if cluster.UserPartition(collectortest.Site, w, parts) != cluster.Partition(collectortest.Site, ws[0], parts) {
			other, v3, v3mate = w, ws[0], ws[1]
			break
		}
	}
	if other == "" {
		t.Fatal("no second user to erase a visitor of")
	}
	before := streamMessages(t, ic.q)
	if len(mentions(before, v3, "")) == 0 || len(mentions(before, uvs[0], u)) == 0 {
		t.Fatal("the stream does not hold the visitors' messages before the erase: the test checks nothing")
	}

	// Erase one visitor.
	st, body := del(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s", ic.q.URL, collectortest.Site, v3))
	var ans eraseAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil || st != http.StatusOK || ans.Partial {
		t.Fatalf("erase visitor through the query node: %d %s", st, body)
	}
	pv, pw := cluster.Partition(collectortest.Site, v3, parts), cluster.UserPartition(collectortest.Site, other, parts)
	if want := len(ic.byID[v3].Trail); ans.StreamDeleted < want {
		t.Errorf("erase visitor: %d messages deleted from the stream, want at least its %d touchpoints", ans.StreamDeleted, want)
	}
	wantParts := slices.Compact(slices.Sorted(slices.Values([]int{pv, pw})))
	var gotParts []int
	for _, p := range ans.Partitions {
		gotParts = append(gotParts, p.Partition)
		owners := map[string][]string{"a": {"a", "a2"}, "b": {"b"}, "c": {"c"}}[storeOf(p.Partition)]
		if !slices.Equal(p.Applied, owners) || len(p.Pending) != 0 {
			t.Errorf("erase visitor: partition %d applied by %v, pending %v; want every owner %v", p.Partition, p.Applied, p.Pending, owners)
		}
	}
	if !slices.Equal(gotParts, wantParts) {
		t.Errorf("erase visitor went to partitions %v, want the visitor's and its user's %v", gotParts, wantParts)
	}
	assertGone(t, "erase visitor", ic.stores, []event.VisitorID{v3}, nil)
	if got, err := ic.q.Cluster.Router.UserVisitors(context.Background(), collectortest.Site, other); err != nil || !slices.Equal(got, []event.VisitorID{v3mate}) {
		t.Errorf("user %s after erasing visitor %s: visitors %v (%v), want only %s", other, v3, got, err, v3mate)
	}
	if st, _ := get(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s/trail", ic.q.URL, collectortest.Site, v3)); st != http.StatusNotFound {
		t.Errorf("trail of the erased visitor through the query node: %d, want 404", st)
	}

	// Erase a visitor of store b's partitions through store c: a store
	// node erases through the stream too, never only in its own Badger.
	var v4 event.VisitorID
	for _, v := range ic.visitors {
		if storeOf(cluster.Partition(collectortest.Site, v.ID, parts)) == "b" && v.ID != v3 && v.ID != v3mate && !slices.Contains(uvs, v.ID) {
			v4 = v.ID
			break
		}
	}
	st, body = del(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s", ic.c.URL, collectortest.Site, v4))
	if err := json.Unmarshal([]byte(body), &ans); err != nil || st != http.StatusOK || ans.Partial {
		t.Fatalf("erase visitor through store c: %d %s", st, body)
	}
	assertGone(t, "erase visitor through a store node", ic.stores, []event.VisitorID{v4}, nil)

	// Erase a user: its two visitors on stores a and b, its links on c.
	st, body = del(t, fmt.Sprintf("%s/v1/sites/%s/users/%s", ic.q.URL, collectortest.Site, u))
	ans = eraseAnswer{}
	if err := json.Unmarshal([]byte(body), &ans); err != nil || st != http.StatusOK || ans.Partial {
		t.Fatalf("erase user through the query node: %d %s", st, body)
	}
	var erased []string
	_ = json.Unmarshal(ans.Erased, &erased)
	if want := []string{uvs[0].String(), uvs[1].String()}; !slices.Equal(slices.Sorted(slices.Values(erased)), slices.Sorted(slices.Values(want))) {
		t.Errorf("erase user: erased %v, want %v", erased, want)
	}
	assertGone(t, "erase user", ic.stores, uvs, []string{u})
	if st, _ := get(t, userURL(ic.q.URL, u, "journey")); st != http.StatusNotFound {
		t.Errorf("journey of the erased user through the query node: %d, want 404", st)
	}

	_, m := get(t, ic.q.URL+"/metrics")
	if want := `touchtrail_cluster_erasures_total{outcome="complete"} 2`; !strings.Contains(m, want) || !strings.Contains(m, "touchtrail_cluster_erase_stream_deleted_total ") {
		t.Errorf("query node /metrics lacks %s or the stream deletions", want)
	}

	// Gone from the stream.
	after := streamMessages(t, ic.q)
	for _, c := range []struct {
		v    event.VisitorID
		user string
	}{{v3, ""}, {v4, ""}, {uvs[0], u}, {uvs[1], u}} {
		if left := mentions(after, c.v, c.user); len(left) > 0 {
			t.Errorf("the stream still holds %d messages of visitor %s / user %q: %v", len(left), c.v, c.user, left)
		}
	}
	erasedTPs := len(ic.byID[v3].Trail) + len(ic.byID[v4].Trail) + len(ic.byID[uvs[0]].Trail) + len(ic.byID[uvs[1]].Trail)
	erasures := 0
	for _, m := range after {
		if m.op == "erase" {
			erasures++
		}
	}
	if got, want := len(before)-(len(after)-erasures), erasedTPs; got < want {
		t.Errorf("the stream lost %d messages besides its %d new erasures, want at least the %d erased touchpoints", got, erasures, want)
	}

	// Re-sent events of the erased visitors, dated before the erase, are
	// accepted and dropped.
	resend := batches(collectortest.Site, []journeytest.Visitor{ic.byID[uvs[0]], ic.byID[v3]}, 50)
	if acked, _ := load(t, []string{ic.in.URL}, resend, 1, nil); len(acked) == 0 {
		t.Fatal("re-send not acknowledged")
	}

	// A store rebuilt from the stream (empty directory, every partition)
	// holds everything else, and nothing of the erased.
	fresh := clustertest.Start(t, clustertest.Options{NATS: ic.nc.URLs(), Role: cluster.RoleStore, Node: "fresh", Dir: t.TempDir(),
		Consumer: cluster.ConsumerConfig{PollEvery: 50 * time.Millisecond}})
	want := ic.total - erasedTPs
	testwait.For(t, 20*time.Second, "the rebuilt store replayed the stream", func() bool {
		return storedRecords(fresh) >= want && ic.caughtUp(fresh)
	})
	if got := storedRecords(fresh); got != want {
		t.Errorf("rebuilt store holds %d touchpoints, want %d (all but the erased)", got, want)
	}
	assertGone(t, "store rebuilt from the stream", append(slices.Clone(ic.stores), fresh), []event.VisitorID{v3, v4, uvs[0], uvs[1]}, []string{u})
	if got, err := fresh.Store.UserVisitors(context.Background(), collectortest.Site, other); err != nil || !slices.Equal(got, []event.VisitorID{v3mate}) {
		t.Errorf("rebuilt store: user %s has visitors %v (%v), want only %s", other, got, err, v3mate)
	}
}

// TestStoreKilledReplicaAnswersErasureWaits: a store (a subprocess) is
// SIGKILLed: its replica answers the trails and journeys of its partitions
// through the query node; an erasure meanwhile answers 202 naming the
// killed store as pending (its membership entry has not expired yet); the
// store, restarted on its directory, applies the erasure from the stream.
func TestStoreKilledReplicaAnswersErasureWaits(t *testing.T) {
	nc := natstest.StartTB(t, 1)
	in := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in", Stream: testStream})
	ko := childOptions{NATS: nc.URLs(), Node: "k", Partitions: "0-3", Dir: t.TempDir(), Addr: "127.0.0.1:0"}
	k := startChild(t, ko)
	r := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "r", Partitions: "0-3", Dir: t.TempDir()})
	b := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "b", Partitions: "4-7", Dir: t.TempDir()})
	q := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleQuery, Node: "q"})
	visitors, total := generate(40)
	acked, _ := load(t, []string{in.URL}, batches(collectortest.Site, visitors, 10), 2, nil)
	var low []journeytest.Visitor // of partitions 0-3
	var lowAcked []sent
	for _, v := range visitors {
		if cluster.Partition(collectortest.Site, v.ID, parts) < 4 {
			low = append(low, v)
		}
	}
	for _, s := range acked {
		if cluster.Partition(collectortest.Site, s.visitor, parts) < 4 {
			lowAcked = append(lowAcked, s)
		}
	}
	if len(low) < 2 {
		t.Fatal("fewer than two visitors on partitions 0-3")
	}
	testwait.For(t, 20*time.Second, "stored", func() bool { return storedRecords(r, b) >= total })
	waitAcked(t, k.URL, lowAcked)

	k.kill(syscall.SIGKILL)
	for _, v := range low {
		if got := trail(t, q.URL, v.ID); !slices.Equal(got, ids(v)) {
			t.Errorf("visitor %s with store k killed: %v through the query node, want %v", v.ID, got, ids(v))
		}
		path := fmt.Sprintf("/v1/sites/%s/visitors/%s/journey", collectortest.Site, v.ID)
		st, body := get(t, q.URL+path)
		if _, direct := get(t, r.URL+path); st != http.StatusOK || body != direct {
			t.Errorf("visitor %s with store k killed: journey %d %s, from the replica %s", v.ID, st, body, direct)
		}
	}

	gone, kept := low[0], low[1]
	p := cluster.Partition(collectortest.Site, gone.ID, parts)
	st, body := del(t, fmt.Sprintf("%s/v1/sites/%s/visitors/%s", q.URL, collectortest.Site, gone.ID))
	var ans eraseAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil || st != http.StatusAccepted || !ans.Partial {
		t.Fatalf("erase with store k killed: %d %s, want 202 and partial", st, body)
	}
	found := false
	for _, pe := range ans.Partitions {
		if pe.Partition == p {
			found = true
			if !slices.Equal(pe.Applied, []string{"r"}) || !slices.Equal(pe.Pending, []string{"k"}) {
				t.Errorf("partition %d: applied %v, pending %v; want applied [r], pending [k]", p, pe.Applied, pe.Pending)
			}
		}
	}
	if !found {
		t.Errorf("the answer does not name the visitor's partition %d: %s", p, body)
	}
	if got := trail(t, q.URL, gone.ID); got != nil {
		t.Errorf("erased visitor still answered through the query node: %v", got)
	}
	if _, m := get(t, q.URL+"/metrics"); !strings.Contains(m, `touchtrail_cluster_erasures_total{outcome="partial"} 1`) {
		t.Error("query node /metrics does not count the partial erasure")
	}

	k = startChild(t, ko) // on its directory: resumes its consumer
	testwait.For(t, 20*time.Second, "the restarted store applied the erasure", func() bool { return trail(t, k.URL, gone.ID) == nil })
	if got := trail(t, k.URL, kept.ID); !slices.Equal(got, ids(kept)) {
		t.Errorf("restarted store: visitor %s holds %v, want %v", kept.ID, got, ids(kept))
	}
}
