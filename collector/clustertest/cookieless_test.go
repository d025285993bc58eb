package clustertest_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/clustertest"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// TestCookielessAcrossIngestNodes: one client's cookieless requests that
// reach two different ingest nodes make one visitor (the nodes share the
// day's salt), and another client another visitor.
func TestCookielessAcrossIngestNodes(t *testing.T) {
	nc := natstest.StartTB(t, 1)
	in1 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in1", Stream: testStream, Cookieless: true})
	in2 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in2", Stream: testStream, Cookieless: true})
	st := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "st", Dir: t.TempDir()})
	const ua = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
	send := func(url, id, ip string) {
		t.Helper()
		body := fmt.Sprintf(`{"site":%q,"cookieless":true,"events":[{"id":%q,"type":"pageview","seq":1,"url":"https://shop.example/%s","ip":%q,"ua":%q}]}`,
			collectortest.Site, id, id, ip, ua)
		if st, msg := post(t, url, []byte(body)); st != http.StatusAccepted {
			t.Fatalf("%s: %d %s", id, st, msg)
		}
	}
	send(in1.URL, "c1", "81.2.69.160")
	send(in2.URL, "c2", "81.2.69.160")
	send(in2.URL, "c3", "81.2.69.161")
	testwait.For(t, 10*time.Second, "three events stored", func() bool { return storedRecords(st) >= 3 })

	ctx := context.Background()
	now := time.Now()
	page, err := st.Store.Visitors(ctx, collectortest.Site, store.VisitorQuery{From: now.Add(-24 * time.Hour), To: now.Add(time.Hour), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Visitors) != 2 {
		t.Fatalf("%d visitors, want 2 (one per client, whichever ingest node): %+v", len(page.Visitors), page.Visitors)
	}
	var trails [][]string
	for _, v := range page.Visitors {
		tr, err := st.Store.Trail(ctx, collectortest.Site, v.Visitor, store.TrailQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tp := range tr.Touchpoints {
			got = append(got, tp.ID)
		}
		slices.Sort(got)
		trails = append(trails, got)
	}
	slices.SortFunc(trails, func(a, b []string) int { return len(b) - len(a) })
	if !slices.Equal(trails[0], []string{"c1", "c2"}) || !slices.Equal(trails[1], []string{"c3"}) {
		t.Errorf("trails %v, want [c1 c2] (one client through both ingest nodes) and [c3]", trails)
	}
}
