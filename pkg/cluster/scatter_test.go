package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// probes holds one visitor of each partition of the "demo" site.
func probes(n int) []event.VisitorID {
	out := make([]event.VisitorID, n)
	found := 0
	for i := 0; found < n; i++ {
		var v event.VisitorID
		v[0], v[1], v[2] = byte(i), byte(i>>8), 1
		if p := cluster.Partition("demo", v, n); out[p].IsZero() {
			out[p] = v
			found++
		}
	}
	return out
}

// scatterStore is a store of the scatter tests: it joins the membership
// bucket owning parts and answers a sub-query with the partitions whose
// probe visitor owns accepts, after behave (nil: at once).
type scatterStore struct {
	mu    sync.Mutex
	calls [][]int
}

func startScatterStore(t *testing.T, nc *nats.Conn, sc cluster.StreamConfig, node string, parts []int, behave func(ctx context.Context) error) *scatterStore {
	t.Helper()
	ctx := context.Background()
	m, err := cluster.Join(ctx, nc, cluster.MembershipConfig{}, cluster.Member{Node: node, Role: "store", Partitions: parts}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Leave(context.Background()) })
	s := &scatterStore{}
	vs := probes(sc.Partitions)
	srv, err := cluster.ServeScatter(nc, sc, node, parts, func(ctx context.Context, body []byte, owns func(string, event.VisitorID) bool) ([]byte, error) {
		if string(body) != "question" {
			return nil, errors.New("not the question sent")
		}
		var got []int
		for p, v := range vs {
			if owns("demo", v) {
				got = append(got, p)
			}
		}
		s.mu.Lock()
		s.calls = append(s.calls, got)
		s.mu.Unlock()
		if behave != nil {
			if err := behave(ctx); err != nil {
				return nil, err
			}
		}
		return json.Marshal(got)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return s
}

func (s *scatterStore) asked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// scatter runs one question and counts how often each partition was merged.
func scatter(t *testing.T, r *cluster.Router, n int) (merged []int, missing cluster.Missing, err error) {
	t.Helper()
	merged = make([]int, n)
	missing, err = r.Scatter(context.Background(), []byte("question"), func(b []byte) error {
		var ps []int
		if err := json.Unmarshal(b, &ps); err != nil {
			return err
		}
		for _, p := range ps {
			merged[p]++
		}
		return nil
	})
	return merged, missing, err
}

func metric(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label != "" {
				ok := false
				for _, l := range m.GetLabel() {
					ok = ok || l.GetValue() == label
				}
				if !ok {
					continue
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func scatterConn(t *testing.T) *nats.Conn {
	t.Helper()
	ns := natstest.StartTB(t, 1)
	nc, err := cluster.Connect(ns.URLs(), "scatter-test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Every partition is answered by exactly one of its owners, each store is
// asked once for all of its share, and a store answers only for the
// partitions it was asked (it owns more: the overlap is not counted twice).
func TestScatterAsksOneOwnerOfEveryPartition(t *testing.T) {
	nc := scatterConn(t)
	sc := cluster.StreamConfig{Partitions: 8}
	a := startScatterStore(t, nc, sc, "a", []int{0, 1, 2, 3, 4, 5}, nil)
	b := startScatterStore(t, nc, sc, "b", []int{0, 1, 2, 6, 7}, nil)
	c := startScatterStore(t, nc, sc, "c", []int{3, 4, 5, 6, 7}, nil)
	reg := prometheus.NewRegistry()
	r := cluster.NewRouter(nc, sc, cluster.NewMetrics(reg))
	merged, missing, err := scatter(t, r, 8)
	if err != nil || len(missing) != 0 {
		t.Fatalf("missing %v, err %v", missing, err)
	}
	for p, n := range merged {
		if n != 1 {
			t.Errorf("partition %d merged %d times, want once", p, n)
		}
	}
	for name, s := range map[string]*scatterStore{"a": a, "b": b, "c": c} {
		if s.asked() > 1 {
			t.Errorf("store %s asked %d times for one question", name, s.asked())
		}
	}
	if got := metric(t, reg, "touchtrail_cluster_scatter_seconds", ""); got != 8 {
		t.Errorf("fan-out latency observed %v times, want once per partition (8)", got)
	}
	if got := metric(t, reg, "touchtrail_cluster_partial_answers_total", ""); got != 0 {
		t.Errorf("a complete answer counted partial (%v)", got)
	}
}

// A store whose sub-query fails is replaced by another owner of its
// partitions; the partitions it alone owned are named missing.
func TestScatterFailedStoreGoesToReplica(t *testing.T) {
	nc := scatterConn(t)
	sc := cluster.StreamConfig{Partitions: 6}
	startScatterStore(t, nc, sc, "bad", []int{0, 1, 2, 3, 4, 5}, func(context.Context) error { return errors.New("disk on fire") })
	good := startScatterStore(t, nc, sc, "good", []int{0, 1, 2, 3}, nil)
	reg := prometheus.NewRegistry()
	r := cluster.NewRouter(nc, sc, cluster.NewMetrics(reg))
	merged, missing, err := scatter(t, r, 6)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, cluster.Missing{4, 5}) {
		t.Errorf("missing %v, want [4 5]", missing)
	}
	if !slices.Equal(merged, []int{1, 1, 1, 1, 0, 0}) {
		t.Errorf("merged per partition %v, want 0-3 once each", merged)
	}
	if good.asked() > 2 {
		t.Errorf("the replica was asked %d times (once, plus once for the failed share)", good.asked())
	}
	if got := metric(t, reg, "touchtrail_cluster_scatter_failed_total", "error"); got < 1 {
		t.Errorf("failed sub-queries counted %v", got)
	}
	if got := metric(t, reg, "touchtrail_cluster_partial_answers_total", ""); got != 1 {
		t.Errorf("partial answers counted %v, want 1", got)
	}
}

// A store that does not answer within the sub-query's deadline is given
// up on, and a replica answers: the question takes about one Timeout.
func TestScatterSlowStoreTimesOut(t *testing.T) {
	nc := scatterConn(t)
	sc := cluster.StreamConfig{Partitions: 2}
	// a-fast gets partition 0, b-slow partition 1 (the fewest so far).
	startScatterStore(t, nc, sc, "a-fast", []int{0, 1}, nil)
	startScatterStore(t, nc, sc, "b-slow", []int{0, 1}, func(ctx context.Context) error {
		<-ctx.Done() // the deadline the query node sent
		return ctx.Err()
	})
	reg := prometheus.NewRegistry()
	r := cluster.NewRouter(nc, sc, cluster.NewMetrics(reg))
	r.Timeout = 300 * time.Millisecond
	start := time.Now()
	merged, missing, err := scatter(t, r, 2)
	if err != nil || len(missing) != 0 || !slices.Equal(merged, []int{1, 1}) {
		t.Fatalf("merged %v, missing %v, err %v", merged, missing, err)
	}
	if took := time.Since(start); took > 3*r.Timeout {
		t.Errorf("took %s with a sub-query timeout of %s", took, r.Timeout)
	}
	if got := metric(t, reg, "touchtrail_cluster_scatter_failed_total", "timeout"); got != 1 {
		t.Errorf("timeouts counted %v, want 1", got)
	}
}

// No store at all: every partition missing, an error wrapping
// store.ErrUnavailable.
func TestScatterNoStore(t *testing.T) {
	nc := scatterConn(t)
	r := cluster.NewRouter(nc, cluster.StreamConfig{Partitions: 4}, nil)
	merged, missing, err := scatter(t, r, 4)
	if !errors.Is(err, cluster.ErrNoPartition) || !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "partitions 0-3") {
		t.Errorf("err %v, want ErrNoPartition naming 0-3", err)
	}
	if !slices.Equal(missing, cluster.Missing{0, 1, 2, 3}) || !slices.Equal(merged, []int{0, 0, 0, 0}) {
		t.Errorf("missing %v, merged %v", missing, merged)
	}
}

// A partial answer larger than the servers' max payload arrives whole, in
// chunks.
func TestScatterLargePartial(t *testing.T) {
	nc := scatterConn(t)
	sc := cluster.StreamConfig{Partitions: 1}
	big := make([]byte, 2*int(nc.MaxPayload())+12345)
	for i := range big {
		big[i] = byte(i * 7)
	}
	ctx := context.Background()
	m, err := cluster.Join(ctx, nc, cluster.MembershipConfig{}, cluster.Member{Node: "big", Role: "store", Partitions: []int{0}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Leave(context.Background()) })
	srv, err := cluster.ServeScatter(nc, sc, "big", []int{0}, func(context.Context, []byte, func(string, event.VisitorID) bool) ([]byte, error) {
		return big, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	var got []byte
	missing, err := cluster.NewRouter(nc, sc, nil).Scatter(ctx, []byte("question"), func(b []byte) error {
		got = append(got, b...)
		return nil
	})
	if err != nil || len(missing) != 0 {
		t.Fatalf("missing %v, err %v", missing, err)
	}
	if !bytes.Equal(got, big) {
		t.Errorf("got %d bytes, want the %d sent (max payload %d)", len(got), len(big), nc.MaxPayload())
	}
}

// A store still listed in the bucket but gone (killed before its entry
// expired) costs no timeout: NATS says nobody listens, and the replica
// answers.
func TestScatterListedButGone(t *testing.T) {
	nc := scatterConn(t)
	sc := cluster.StreamConfig{Partitions: 2}
	m, err := cluster.Join(context.Background(), nc, cluster.MembershipConfig{}, cluster.Member{Node: "a-ghost", Role: "store", Partitions: []int{0, 1}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Leave(context.Background()) })
	startScatterStore(t, nc, sc, "b-alive", []int{0, 1}, nil)
	reg := prometheus.NewRegistry()
	r := cluster.NewRouter(nc, sc, cluster.NewMetrics(reg))
	r.Timeout = time.Minute // a wait for it would show
	merged, missing, err := scatter(t, r, 2)
	if err != nil || len(missing) != 0 || !slices.Equal(merged, []int{1, 1}) {
		t.Fatalf("merged %v, missing %v, err %v", merged, missing, err)
	}
	if got := metric(t, reg, "touchtrail_cluster_scatter_failed_total", "no_responders"); got != 1 {
		t.Errorf("no_responders counted %v, want 1", got)
	}
}

// An answer the query node cannot merge (corrupt, or from a store of
// another version) counts as the store failing: a replica answers instead.
func TestScatterUnmergeableAnswerGoesToReplica(t *testing.T) {
	nc := scatterConn(t)
	sc := cluster.StreamConfig{Partitions: 2}
	ctx := context.Background()
	m, err := cluster.Join(ctx, nc, cluster.MembershipConfig{}, cluster.Member{Node: "a-odd", Role: "store", Partitions: []int{0, 1}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Leave(context.Background()) })
	srv, err := cluster.ServeScatter(nc, sc, "a-odd", []int{0, 1}, func(context.Context, []byte, func(string, event.VisitorID) bool) ([]byte, error) {
		return []byte("not a partial state"), nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	startScatterStore(t, nc, sc, "b-good", []int{0, 1}, nil)
	reg := prometheus.NewRegistry()
	merged, missing, err := scatter(t, cluster.NewRouter(nc, sc, cluster.NewMetrics(reg)), 2)
	if err != nil || len(missing) != 0 || !slices.Equal(merged, []int{1, 1}) {
		t.Fatalf("merged %v, missing %v, err %v", merged, missing, err)
	}
	if got := metric(t, reg, "touchtrail_cluster_scatter_failed_total", "merge"); got != 1 {
		t.Errorf("unmergeable answers counted %v, want 1", got)
	}
}
