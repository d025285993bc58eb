package clustertest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/clustertest"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// owners is the equivalence cluster's layout: 3 stores over 8 partitions,
// every partition on two of them.
var owners = []struct{ node, parts string }{{"a", "0-5"}, {"b", "0-2,6-7"}, {"c", "3-7"}}

// equivCluster is the journeytest shop loaded once into a single node and
// once through a cluster: 3 NATS servers, 2 ingest nodes, 3 stores, a
// query node.
type equivCluster struct {
	one      *collectortest.Collector
	q        *clustertest.Node
	stores   map[string]*clustertest.Node
	visitors []journeytest.Visitor
}

func startEquivalence(t *testing.T, n int) *equivCluster {
	t.Helper()
	vs, _ := generate(n)
	return startEquivalenceOf(t, vs)
}

// startEquivalenceOf is startEquivalence with the visitors given.
func startEquivalenceOf(t *testing.T, visitors []journeytest.Visitor) *equivCluster {
	t.Helper()
	nc := natstest.StartTB(t, 3)
	stream := cluster.StreamConfig{Partitions: parts, Replicas: 3}
	in1 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in1", Stream: stream})
	in2 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in2", Stream: stream})
	e := &equivCluster{stores: map[string]*clustertest.Node{}}
	for _, o := range owners {
		e.stores[o.node] = clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: o.node, Partitions: o.parts, Dir: t.TempDir()})
	}
	e.q = clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleQuery, Node: "q"})
	e.one = collectortest.Start(t, collectortest.Options{KeepBots: true})

	e.visitors = visitors
	total := 0
	for _, v := range visitors {
		total += len(v.Trail)
	}
	bs := batches(collectortest.Site, e.visitors, 25)
	if acked, _ := load(t, []string{in1.URL, in2.URL}, bs, 4, nil); len(acked) != total {
		t.Fatalf("cluster: %d of %d events acknowledged", len(acked), total)
	}
	if acked, _ := load(t, []string{e.one.URL}, bs, 4, nil); len(acked) != total {
		t.Fatalf("single node: %d of %d events acknowledged", len(acked), total)
	}
	// Wait until every store holds every event of its partitions.
	want := map[string]int{}
	for _, o := range owners {
		ps, err := cluster.ParsePartitions(o.parts, parts)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range e.visitors {
			if slices.Contains(ps, cluster.Partition(collectortest.Site, v.ID, parts)) {
				want[o.node] += len(v.Trail)
			}
		}
	}
	testwait.For(t, 30*time.Second, "every store consumed its partitions", func() bool {
		for node, s := range e.stores {
			if storedRecords(s) < want[node] {
				return false
			}
		}
		return true
	})
	return e
}

// bothGet asks the single node and the query node the same path.
func (e *equivCluster) bothGet(t *testing.T, path string) (oneStatus int, one string, qStatus int, q string) {
	t.Helper()
	oneStatus, one = get(t, e.one.URL+"/v1/sites/"+collectortest.Site+"/"+path)
	qStatus, q = get(t, e.q.URL+"/v1/sites/"+collectortest.Site+"/"+path)
	return
}

// same fails unless the two answers are the same JSON: exactly, but for
// quantiles (within quantileError of each other) and for a touchpoint's
// received time (the two loads arrived at different times).
func same(t *testing.T, what, one, q string) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal([]byte(one), &a); err != nil {
		t.Fatalf("%s: single node answered %s", what, one)
	}
	if err := json.Unmarshal([]byte(q), &b); err != nil {
		t.Fatalf("%s: query node answered %s", what, q)
	}
	if diff := jsonDiff("", a, b); diff != "" {
		t.Errorf("%s differs at %s\nsingle node: %.2000s\nquery node:  %.2000s", what, diff, one, q)
	}
}

// quantileError is the relative error allowed between a single node's
// quantile and the cluster's merged one (pkg/journey's sketch).
const quantileError = 0.02

var quantileKey = regexp.MustCompile(`median|p\d\d|percentile|quantile`)

func jsonDiff(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path
		}
		for k := range av {
			if _, ok := bv[k]; !ok && k != "received" {
				return path + "." + k + " (only on the single node)"
			}
		}
		for k := range bv {
			if _, ok := av[k]; !ok && k != "received" {
				return path + "." + k + " (only on the query node)"
			}
		}
		for k, x := range av {
			if k == "received" {
				continue
			}
			if quantileKey.MatchString(k) {
				xf, ok1 := x.(float64)
				yf, ok2 := bv[k].(float64)
				if ok1 && ok2 {
					if d := xf - yf; d > quantileError*max(xf, yf, 1) || -d > quantileError*max(xf, yf, 1) {
						return fmt.Sprintf("%s.%s (%v vs %v)", path, k, xf, yf)
					}
					continue
				}
			}
			if d := jsonDiff(path+"."+k, x, bv[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return fmt.Sprintf("%s (length %d vs %v)", path, len(av), lenOf(b))
		}
		for i := range av {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("%s (%v vs %v)", path, a, b)
	}
	return ""
}

// checkSchema validates an answer against a schema of collector/openapi.json.
func checkSchema(t *testing.T, schema, body string) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(collector.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	ref := doc.Components.Schemas[schema]
	if ref == nil {
		t.Fatalf("openapi.json has no schema %s", schema)
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if err := ref.Value.VisitJSON(v); err != nil {
		t.Errorf("answer %.300s does not match the %s schema: %v", body, schema, err)
	}
}

func lenOf(x any) any {
	if s, ok := x.([]any); ok {
		return len(s)
	}
	return x
}

// TestClusterAnswersAsOneNode is the equivalence test: the journeytest
// shop loaded into one node and through a cluster (3 NATS servers, 2
// ingest nodes, 3 stores over 8 partitions, each partition on two
// stores); every query endpoint of the query node (site-wide questions,
// the visitors list, visitors' and users' trails and journeys, bad
// questions) answers what the single node answers. Then stores are stopped: with a replica left the answers
// stay complete and equal; with none for some partitions they are marked
// partial and name them; with none at all they are 503.
func TestClusterAnswersAsOneNode(t *testing.T) {
	e := startEquivalence(t, 150)
	rng := "from=2026-11-01&to=2026-11-08"
	siteWide := []string{
		"funnel?" + rng + "&within=24h&steps=" + url.QueryEscape(journeytest.FunnelSteps),
		"funnel?" + rng + "&segment=returning&steps=pageview",
		"funnel?from=2026-11-03&to=2026-11-05&steps=pageview,search",
		fmt.Sprintf("paths?%s&start=%s&depth=%d&top=50", rng, url.QueryEscape(journeytest.PathStart), journeytest.PathDepth),
		"paths?" + rng,
		"friction?" + rng + "&examples=20",
		"friction?" + rng + "&segment=new",
		"attribution?" + rng,
		"map?" + rng,
		"map?" + rng + "&channel=search&top=3",
		"engagement?" + rng,
		"selfservice?" + rng + "&top=1000",
		"satisfaction?" + rng + "&top=1000",
	}
	for _, path := range siteWide {
		st1, one, st2, q := e.bothGet(t, path)
		if st1 != http.StatusOK || st2 != http.StatusOK {
			t.Errorf("%s: single node %d %.300s, query node %d %.300s", path, st1, one, st2, q)
			continue
		}
		if len(one) < 80 {
			t.Errorf("%s: a near-empty answer proves nothing: %s", path, one)
		}
		same(t, path, one, q)
	}

	// Bad questions are refused alike, before any store is asked.
	for _, path := range []string{
		"funnel?" + rng, "funnel?" + rng + "&steps=teleport", "paths?" + rng + "&depth=99", "map?" + rng + "&channel=internal",
		"friction?" + rng + "&segment=sometimes", "visitors?cursor=not-a-cursor", "visitors?limit=0",
	} {
		st1, one, st2, q := e.bothGet(t, path)
		if st1 != http.StatusBadRequest || st2 != st1 || one != q {
			t.Errorf("%s: single node %d %s, query node %d %s; want the same 400", path, st1, one, st2, q)
		}
	}

	// The visitors list, page by page: the cursors are the single node's.
	pages := 0
	for cursor := ""; ; pages++ {
		path := "visitors?" + rng + "&limit=17&cursor=" + cursor
		st1, one, st2, q := e.bothGet(t, path)
		if st1 != http.StatusOK || st2 != http.StatusOK {
			t.Fatalf("%s: single node %d %s, query node %d %s", path, st1, one, st2, q)
		}
		same(t, path, one, q)
		var page struct{ Next string }
		if err := json.Unmarshal([]byte(one), &page); err != nil {
			t.Fatal(err)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if pages < 3 {
		t.Errorf("the visitors list took %d pages of 17: too few to test the cursors", pages+1)
	}

	// A visitor's trail, page by page, and journey.
	for _, v := range e.visitors[:12] {
		for cursor := ""; ; {
			path := fmt.Sprintf("visitors/%s/trail?limit=3&cursor=%s", v.ID, cursor)
			st1, one, st2, q := e.bothGet(t, path)
			if st1 != http.StatusOK || st2 != http.StatusOK {
				t.Fatalf("%s: single node %d %s, query node %d %s", path, st1, one, st2, q)
			}
			same(t, path, one, q)
			var page struct{ Next string }
			if err := json.Unmarshal([]byte(one), &page); err != nil {
				t.Fatal(err)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		path := fmt.Sprintf("visitors/%s/journey", v.ID)
		st1, one, st2, q := e.bothGet(t, path)
		if st1 != http.StatusOK || st2 != http.StatusOK {
			t.Fatalf("%s: single node %d %s, query node %d %s", path, st1, one, st2, q)
		}
		same(t, path, one, q)
	}

	// A user's trail and journey: the visitors stitched to a user live on
	// different stores (identity across partitions).
	users := map[string]int{}
	for _, v := range e.visitors {
		if v.Plan.User != "" {
			users[v.Plan.User]++
		}
	}
	twice := 0
	for u, n := range users {
		twice += n / 2
		for _, path := range []string{"users/" + url.PathEscape(u) + "/trail", "users/" + url.PathEscape(u) + "/journey"} {
			st1, one, st2, q := e.bothGet(t, path)
			if st1 != http.StatusOK || st2 != http.StatusOK {
				t.Fatalf("%s: single node %d %s, query node %d %s", path, st1, one, st2, q)
			}
			same(t, path, one, q)
		}
	}
	if twice < 3 {
		t.Errorf("only %d users with two visitors in the data set", twice)
	}

	funnel := "funnel?" + rng + "&within=24h&steps=" + url.QueryEscape(journeytest.FunnelSteps)
	visitors := "visitors?" + rng + "&limit=1000"

	// One store gone: every partition still has an owner.
	e.stores["a"].Stop()
	for _, path := range []string{funnel, visitors, "map?" + rng} {
		st1, one, st2, q := e.bothGet(t, path)
		if st1 != http.StatusOK || st2 != http.StatusOK {
			t.Fatalf("store a stopped: %s: single node %d, query node %d %s", path, st1, st2, q)
		}
		same(t, "store a stopped: "+path, one, q)
	}

	// Two gone: partitions 0-2 (a's and b's) have none left.
	e.stores["b"].Stop()
	lost := []int{0, 1, 2}
	var inLost, kept int
	for _, v := range e.visitors {
		if slices.Contains(lost, cluster.Partition(collectortest.Site, v.ID, parts)) {
			inLost++
		} else {
			kept++
		}
	}
	if inLost == 0 || kept == 0 {
		t.Fatalf("the data set does not cover both sides (%d lost, %d kept)", inLost, kept)
	}
	st, body := get(t, e.q.URL+"/v1/sites/"+collectortest.Site+"/"+funnel)
	var f struct {
		Partial  bool  `json:"partial"`
		Missing  []int `json:"missing_partitions"`
		Visitors int   `json:"visitors"`
	}
	if st != http.StatusOK || json.Unmarshal([]byte(body), &f) != nil || !f.Partial || !slices.Equal(f.Missing, lost) || f.Visitors != kept {
		t.Errorf("stores a and b stopped: funnel %d %.300s; want partial, missing %v, %d visitors", st, body, lost, kept)
	}
	checkSchema(t, "Funnel", body)
	st, body = get(t, e.q.URL+"/v1/sites/"+collectortest.Site+"/"+visitors)
	var vl struct {
		Partial  bool  `json:"partial"`
		Missing  []int `json:"missing_partitions"`
		Visitors []struct {
			Visitor string `json:"visitor"`
		} `json:"visitors"`
	}
	if st != http.StatusOK || json.Unmarshal([]byte(body), &vl) != nil || !vl.Partial || !slices.Equal(vl.Missing, lost) {
		t.Errorf("stores a and b stopped: visitors %d %.300s; want partial, missing %v", st, body, lost)
	}
	checkSchema(t, "Visitors", body)
	for _, v := range vl.Visitors {
		id, err := event.ParseVisitor(v.Visitor)
		if err != nil || slices.Contains(lost, cluster.Partition(collectortest.Site, id, parts)) {
			t.Errorf("a partial visitors list holds %s of a missing partition", v.Visitor)
		}
	}

	// All gone: 503 with a JSON error.
	e.stores["c"].Stop()
	st, body = get(t, e.q.URL+"/v1/sites/"+collectortest.Site+"/"+funnel)
	var er struct{ Error string }
	if st != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &er) != nil || !strings.Contains(er.Error, "no partition answered") {
		t.Errorf("every store stopped: funnel %d %s, want 503 with a JSON error", st, body)
	}
	checkSchema(t, "Error", body)

	_, m := get(t, e.q.URL+"/metrics")
	for _, want := range []string{"touchtrail_cluster_scatter_seconds_count{partition=\"7\"}", "touchtrail_cluster_partial_answers_total 3"} {
		if !strings.Contains(m, want) {
			t.Errorf("query node /metrics lacks %s", want)
		}
	}
}
