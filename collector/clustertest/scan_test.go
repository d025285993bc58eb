package clustertest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
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
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// recentShop is the journeytest shop active in the week before yesterday,
// so that the UI's recent visitors page (the last 30 days) lists them;
// from and to are that week as the UI's form has it (to inclusive).
func recentShop(n int) (vs []journeytest.Visitor, from, to string) {
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -9)
	vs, _ = journeytest.Generate(15, n, journeytest.Options{Site: collectortest.Site, Start: start})
	return vs, start.Format(time.DateOnly), start.AddDate(0, 0, 7).Format(time.DateOnly)
}

var received = regexp.MustCompile(`,"received":"[^"]*"`)

// export gets an export and fails unless it is a 200.
func export(t *testing.T, base, query string) string {
	t.Helper()
	st, body := get(t, base+"/v1/sites/"+collectortest.Site+"/export?"+query)
	if st != http.StatusOK {
		t.Fatalf("export?%s from %s: %d %.500s", query, base, st, body)
	}
	return body
}

// firstDiff describes where two texts part.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  single node: %.400s\n  query node:  %.400s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(la), len(lb))
}

// uiClient is a signed-in browser session of the UI (cookies, no
// redirects followed).
type uiClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func signIn(t *testing.T, base string) *uiClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &uiClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := u.c.PostForm(base+"/ui/signin", url.Values{"token": {collectortest.AdminToken}, "next": {"/ui/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in to %s: %d", base, resp.StatusCode)
	}
	return u
}

var csrf = regexp.MustCompile(`name="csrf" value="[^"]*"`)

// page gets a UI page: its status and its HTML without the session's
// CSRF token.
func (u *uiClient) page(path string) (int, string) {
	u.t.Helper()
	resp, err := u.c.Get(u.base + path)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		u.t.Fatal(err)
	}
	return resp.StatusCode, csrf.ReplaceAllString(string(b), `name="csrf"`)
}

// TestExportAndPagesOnQueryNode: the journeytest shop loaded into one node
// and through a cluster (3 NATS servers, 2 ingest nodes, 3 stores over 8
// partitions, each partition on two of them, a query node). The export
// of the query node — NDJSON and CSV, whole and over a range, gzipped on
// the wire — is byte for byte the single node's (but for each touchpoint's
// received time: the two loads arrived at different times), the trails
// merged from three stores in the single node's visitor order; the UI's
// pages (journey map, funnel, paths, friction, recent visitors, visitors'
// and a user's timelines) render the same HTML, on the query node and on
// a store owning partitions 3-7 only. With one store stopped
// its partitions come from the replicas, the same; with partitions 0-2
// left without a store the export answers 503 naming them, and the pages
// their error page naming them.
func TestExportAndPagesOnQueryNode(t *testing.T) {
	visitors, from, to := recentShop(120)
	e := startEquivalenceOf(t, visitors)
	total := 0
	for _, v := range visitors {
		total += len(v.Trail)
	}

	rng := "from=" + from + "&to=" + to // the API's to is exclusive: the last day left out
	exports := []string{"format=ndjson", "format=csv", "format=ndjson&" + rng, "format=csv&" + rng}
	for _, q := range exports {
		one, qn := export(t, e.one.URL, q), export(t, e.q.URL, q)
		if strings.HasPrefix(q, "format=ndjson") {
			one, qn = received.ReplaceAllString(one, ""), received.ReplaceAllString(qn, "")
		}
		if one != qn {
			t.Errorf("export?%s: the query node's differs at %s", q, firstDiff(one, qn))
		}
		lines := strings.Count(one, "\n")
		if q == "format=ndjson" && lines != total {
			t.Errorf("export?%s: %d lines, want every one of the %d touchpoints", q, lines, total)
		}
		if lines < total/3 {
			t.Errorf("export?%s: %d lines of %d touchpoints prove little", q, lines, total)
		}
	}

	one, q, c := signIn(t, e.one.URL), signIn(t, e.q.URL), signIn(t, e.stores["c"].URL)
	site := "/ui/s/" + collectortest.Site
	uiRange := "from=" + from + "&to=" + to
	pages := []string{
		site + "/?" + uiRange,
		site + "/?" + uiRange + "&channel=search",
		site + "/funnel?" + uiRange + "&within=24h&steps=" + url.QueryEscape(journeytest.FunnelSteps),
		fmt.Sprintf("%s/paths?%s&depth=%d&start=%s", site, uiRange, journeytest.PathDepth, url.QueryEscape(journeytest.PathStart)),
		site + "/friction?" + uiRange,
		site + "/visitors",
	}
	for _, v := range visitors[:4] {
		pages = append(pages, site+"/visitors/"+v.ID.String())
	}
	for _, v := range visitors {
		if v.Plan.User != "" {
			pages = append(pages, site+"/user?id="+url.QueryEscape(v.Plan.User))
			break
		}
	}
	empty := "from=2020-01-01&to=2020-01-07" // no visitor: what a page shows without data
	for _, p := range pages {
		st1, h1 := one.page(p)
		st2, h2 := q.page(p)
		if st1 != http.StatusOK || st2 != http.StatusOK {
			t.Errorf("%s: single node %d, query node %d %.300s", p, st1, st2, h2)
			continue
		}
		if h1 != h2 {
			t.Errorf("%s: the query node's page differs at %s", p, firstDiff(h1, h2))
		}
		// A store node's pages are the cluster's too, not its own share.
		if st3, h3 := c.page(p); st3 != http.StatusOK || h3 != h1 {
			t.Errorf("%s: store c answered %d, differs at %s", p, st3, firstDiff(h1, h3))
		}
		if strings.Contains(p, uiRange) { // the page shows data: it differs from the same page over no visitor
			if _, h0 := one.page(strings.Replace(p, uiRange, empty, 1)); h0 == h1 {
				t.Errorf("%s: the same page as over a range without visitors: it proves nothing", p)
			}
		}
	}
	_, h := q.page(site + "/visitors")
	listed := 0
	for _, v := range visitors {
		if strings.Contains(h, site+"/visitors/"+v.ID.String()+`"`) {
			listed++
		}
	}
	if listed != 50 { // the page shows the 50 last seen
		t.Errorf("the query node's recent visitors page lists %d of the shop's %d visitors, want 50", listed, len(visitors))
	}

	// One store stopped: its partitions come from the replicas.
	wholeOne := received.ReplaceAllString(export(t, e.one.URL, "format=ndjson"), "")
	e.stores["a"].Stop()
	if got := received.ReplaceAllString(export(t, e.q.URL, "format=ndjson"), ""); got != wholeOne {
		t.Errorf("store a stopped: the export differs at %s", firstDiff(wholeOne, got))
	}
	if _, h1 := one.page(pages[0]); true {
		if st, h2 := q.page(pages[0]); st != http.StatusOK || h1 != h2 {
			t.Errorf("store a stopped: the journey map %d, differs at %s", st, firstDiff(h1, h2))
		}
	}

	// Two stopped: partitions 0-2 have no store left.
	e.stores["b"].Stop()
	st, body := get(t, e.q.URL+"/v1/sites/"+collectortest.Site+"/export?format=csv")
	var er struct{ Error string }
	if st != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &er) != nil || !strings.Contains(er.Error, "partitions 0-2 ") ||
		!strings.Contains(er.Error, "missing_partitions: [0 1 2]") {
		t.Errorf("stores a and b stopped: export %d %.500s; want 503 with a JSON error naming partitions 0-2", st, body)
	}
	checkSchema(t, "Error", body)
	for _, p := range []string{pages[0], site + "/visitors"} {
		if st, h := q.page(p); st != http.StatusServiceUnavailable || !strings.Contains(h, "partitions 0-2 ") {
			t.Errorf("stores a and b stopped: %s answered %d %.300s; want 503 naming partitions 0-2", p, st, h)
		}
	}
}

// TestScanResumesOnReplica: a store in a subprocess owning every partition
// and two in-process replicas (0-3, 4-7). A scan through the query node
// with small chunks is under way — the subprocess's session waiting for
// its next pull — when the subprocess is SIGKILLed (its membership entry
// outlives it): its partitions resume on the replicas after the last
// visitor already given, so the scan still gives every visitor exactly
// once, in order, with its whole trail; the failure is counted. An export
// after the kill is the export before it.
func TestScanResumesOnReplica(t *testing.T) {
	nc := natstest.StartTB(t, 1)
	in := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in", Stream: testStream})
	k := startChild(t, childOptions{NATS: nc.URLs(), Node: "k", Partitions: "0-7", Dir: t.TempDir(), Addr: "127.0.0.1:0"})
	r1 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "r1", Partitions: "0-3", Dir: t.TempDir()})
	r2 := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: "r2", Partitions: "4-7", Dir: t.TempDir()})
	q := clustertest.Start(t, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleQuery, Node: "q"})

	visitors, total := generate(60)
	if acked, _ := load(t, []string{in.URL}, batches(collectortest.Site, visitors, 20), 2, nil); len(acked) != total {
		t.Fatalf("%d of %d acknowledged", len(acked), total)
	}
	testwait.For(t, 20*time.Second, "the replicas consumed everything", func() bool { return storedRecords(r1, r2) >= total })
	testwait.For(t, 20*time.Second, "the subprocess store consumed everything", func() bool {
		for _, v := range visitors {
			if !slices.Equal(trail(t, k.URL, v.ID), ids(v)) {
				return false
			}
		}
		return true
	})
	want := map[event.VisitorID][]string{}
	for _, v := range visitors {
		want[v.ID] = ids(v)
	}
	before := export(t, q.URL, "format=ndjson")

	router := q.Cluster.Router
	router.ScanChunk = 2048 // many chunks a store: the subprocess is mid-stream when killed
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []event.VisitorID
	err := router.ScanTrails(ctx, collectortest.Site, time.Time{}, time.Time{}, func(v event.VisitorID, trail []event.Touchpoint) error {
		if len(got) == 3 {
			k.kill(syscall.SIGKILL)
		}
		if len(got) > 0 && string(got[len(got)-1][:]) >= string(v[:]) {
			t.Errorf("visitor %s after %s: out of order or twice", v, got[len(got)-1])
		}
		got = append(got, v)
		var tids []string
		for _, tp := range trail {
			tids = append(tids, tp.ID)
		}
		if !slices.Equal(tids, want[v]) {
			t.Errorf("visitor %s: trail %v, want %v", v, tids, want[v])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan with a store killed mid-stream: %v", err)
	}
	if len(got) != len(visitors) {
		t.Errorf("the scan gave %d visitors, want %d", len(got), len(visitors))
	}
	_, m := get(t, q.URL+"/metrics")
	if !regexp.MustCompile(`touchtrail_cluster_scatter_failed_total\{reason="(no_responders|timeout)"\} [1-9]`).MatchString(m) {
		t.Errorf("query node /metrics: the killed store's scan session is not counted as failed")
	}
	if after := export(t, q.URL, "format=ndjson"); after != before {
		t.Errorf("the export after the kill differs from the one before at %s", firstDiff(before, after))
	}

	// The replicas gone too (they leave the bucket; the dead store is
	// still listed): the scan fails naming every partition, never a part.
	r1.Stop()
	err = router.ScanTrails(ctx, collectortest.Site, time.Time{}, time.Time{}, func(event.VisitorID, []event.Touchpoint) error { return nil })
	var pe *cluster.PartitionsError
	if !errors.As(err, &pe) || !errors.Is(err, store.ErrUnavailable) || !slices.Equal(pe.Missing, cluster.Missing{0, 1, 2, 3}) {
		t.Errorf("r1 stopped, k dead: scan error %v; want a PartitionsError naming 0-3", err)
	}
}
