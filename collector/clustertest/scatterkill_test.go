package clustertest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/clustertest"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// TestSiteWideWithAStoreKilled: a store in a subprocess owning every
// partition, and an in-process replica of partitions 0-3. The subprocess
// is SIGKILLed: its membership entry outlives it (until its TTL), yet the
// query node's very next site-wide answer comes at once, from the replica
// for partitions 0-3, marked partial and naming 4-7, which only the dead
// store held — and counting exactly the visitors of 0-3.
func TestSiteWideWithAStoreKilled(t *testing.T) {
	nc := natstest.StartTB(t, 1)
	in := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in", Stream: testStream})
	k := startChild(t, childOptions{NATS: nc.URLs(), Node: "k", Partitions: "0-7", Dir: t.TempDir(), Addr: "127.0.0.1:0"})
	r := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "r", Partitions: "0-3", Dir: t.TempDir()})
	q := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleQuery, Node: "q"})

	visitors, total := generate(60)
	if acked, _ := load(t, []string{in.URL}, batches(collectortest.Site, visitors, 20), 2, nil); len(acked) != total {
		t.Fatalf("%d of %d acknowledged", len(acked), total)
	}
	var low []journeytest.Visitor
	lowEvents := 0
	for _, v := range visitors {
		if cluster.Partition(collectortest.Site, v.ID, parts) < 4 {
			low = append(low, v)
			lowEvents += len(v.Trail)
		}
	}
	if len(low) == 0 || len(low) == len(visitors) {
		t.Fatalf("%d of %d visitors in partitions 0-3: the test needs both sides", len(low), len(visitors))
	}
	testwait.For(t, 20*time.Second, "the replica consumed partitions 0-3", func() bool { return storedRecords(r) >= lowEvents })
	testwait.For(t, 20*time.Second, "the subprocess store consumed everything", func() bool {
		return slices.Equal(trail(t, k.URL, visitors[len(visitors)-1].ID), ids(visitors[len(visitors)-1])) &&
			slices.Equal(trail(t, k.URL, low[len(low)-1].ID), ids(low[len(low)-1]))
	})

	funnel := q.URL + "/v1/sites/" + collectortest.Site + "/funnel?from=2026-11-01&to=2026-11-08&steps=" + url.QueryEscape(journeytest.FunnelSteps)
	type answer struct {
		Partial  bool  `json:"partial"`
		Missing  []int `json:"missing_partitions"`
		Visitors int   `json:"visitors"`
	}
	ask := func() (int, answer, string) {
		st, body := get(t, funnel)
		var a answer
		if st == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &a); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
		}
		return st, a, body
	}
	if st, a, body := ask(); st != http.StatusOK || a.Partial || a.Visitors != len(visitors) {
		t.Fatalf("before the kill: %d %.300s; want every one of %d visitors", st, body, len(visitors))
	}

	k.kill(syscall.SIGKILL)
	members, err := cluster.Members(context.Background(), q.Cluster.NC, cluster.MembershipConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(members, func(m cluster.Member) bool { return m.Node == "k" }) {
		t.Fatalf("the killed store left the bucket already (members %v): the test would not cover a dead store still listed", members)
	}
	st, a, body := ask()
	if st != http.StatusOK || !a.Partial || !slices.Equal(a.Missing, []int{4, 5, 6, 7}) || a.Visitors != len(low) {
		t.Errorf("after the kill: %d %.300s; want partial, missing [4 5 6 7], %d visitors (those of 0-3)", st, body, len(low))
	}
	// NATS knows the dead store's subject has no subscriber: no sub-query
	// waited for its timeout.
	_, m := get(t, q.URL+"/metrics")
	if !strings.Contains(m, `touchtrail_cluster_scatter_failed_total{reason="no_responders"}`) || strings.Contains(m, `reason="timeout"`) {
		t.Errorf("query node /metrics: want the dead store's sub-query counted as no_responders, none as timeout")
	}
}
