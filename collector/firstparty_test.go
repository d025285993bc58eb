package collector_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/js"
)

// First-party paths: the snippet and its add-ons at the configured path and
// beside it, sending to the configured ingest path, which ingests as
// /v1/events does; the defaults keep working, and POST / is /v1/events for a
// data-api given as an origin.
func TestFirstPartyPaths(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.SnippetPath, c.IngestPath = "/assets/app.js", "/api/e"
	}})
	c := client{t, col.URL}
	for path, src := range map[string][]byte{
		"/assets/app.js": js.Tracker, "/assets/t-engage.js": js.Engage, "/assets/t-chat.js": js.Chat,
		"/t.js": js.Tracker, "/t-engage.js": js.Engage,
	} {
		a := c.get(path, "")
		if a.status != 200 || a.header.Get("ETag") == "" {
			t.Fatalf("GET %s: %d", path, a.status)
		}
		if bytes.Contains(src, []byte(`"/v1/events"`)) {
			if bytes.Contains(a.body, []byte(`"/v1/events"`)) || !bytes.Contains(a.body, []byte(`"/api/e"`)) {
				t.Errorf("GET %s does not send to /api/e", path)
			}
			if want := bytes.ReplaceAll(src, []byte(`"/v1/events"`), []byte(`"/api/e"`)); !bytes.Equal(a.body, want) {
				t.Errorf("GET %s: more than the ingest path changed", path)
			}
		}
	}
	ev := func(id string) []byte {
		return fmt.Appendf(nil, `{"site":"test","events":[{"id":%q,"type":"pageview","visitor":%q,"url":"https://shop.example/"}]}`, id, visitorA)
	}
	for i, path := range []string{"/api/e", "/", "/v1/events"} {
		mustAccept(t, c.do(http.MethodPost, path, ev(fmt.Sprint("fp", i)), map[string]string{"Content-Type": "text/plain"}), 1)
	}
	if a := c.do(http.MethodOptions, "/api/e", nil, map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}); a.status/100 != 2 {
		t.Errorf("preflight of /api/e: %d", a.status)
	}
	if a := c.get("/", ""); a.status != http.StatusNotFound {
		t.Errorf("GET /: %d, want 404", a.status)
	}
	if a := c.get("/api/e", ""); a.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/e: %d, want 405", a.status)
	}
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 3 {
		t.Errorf("%d touchpoints, want 3 (one through each path)", len(tr.Touchpoints))
	}
	// Counted under their routes: 3 posts and 1 preflight as events, 5
	// scripts as snippet.
	m := scrape(t, c)
	if got := m[`touchtrail_http_requests_total{class="2xx",route="events"}`]; got != 4 {
		t.Errorf("events requests %v, want 4", got)
	}
	if got := m[`touchtrail_http_requests_total{class="2xx",route="snippet"}`]; got != 5 {
		t.Errorf("snippet requests %v, want 5", got)
	}
}

func TestFirstPartyPathsValidated(t *testing.T) {
	base := collectortest.Config()
	for _, tc := range []struct{ snippet, ingest, want string }{
		{"assets/app.js", "", "absolute path"},
		{"/assets/", "", "absolute path"},
		{"/a/../t.js", "", "absolute path"},
		{"/a b.js", "", "only letters"},
		{`/a".js`, "", "only letters"},
		{"", "/v1/events", "taken"},
		{"/ui/app.js", "", "taken"},
		{"/t.js", "", "taken"},
		{"/x.js", "/x.js", "both"},
	} {
		c := base
		c.SnippetPath, c.IngestPath = tc.snippet, tc.ingest
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("snippet %q ingest %q: %v, want %q", tc.snippet, tc.ingest, err, tc.want)
		}
	}
}

// Referrer spam is dropped and counted (outcome spam), a subdomain of a
// listed domain too, and a site's own additions; a normal referrer is kept.
func TestReferrerSpamDropped(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.Sites[0].SpamReferrers = []string{"seo-offers.example"}
	}})
	c := client{t, col.URL}
	ev := func(id, ref string) string {
		return fmt.Sprintf(`{"id":%q,"type":"pageview","visitor":%q,"url":"https://shop.example/","referrer":%q}`, id, visitorA, ref)
	}
	a := c.post(`{"site":"test","events":[`+ev("s1", "https://semalt.com/")+","+ev("s2", "http://best.SEO.darodar.com/x")+","+
		ev("s3", "https://www.seo-offers.example/")+","+ev("ok1", "https://www.google.com/")+","+ev("ok2", "")+`]}`, nil)
	mustAccept(t, a, 2)
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	var ids []string
	for _, tp := range tr.Touchpoints {
		ids = append(ids, tp["id"].(string))
	}
	if slices.Sort(ids); !slices.Equal(ids, []string{"ok1", "ok2"}) {
		t.Errorf("stored %v, want ok1 ok2", ids)
	}
	if m := scrape(t, c); m[`touchtrail_events_total{outcome="spam"}`] != 3 {
		t.Errorf(`touchtrail_events_total{outcome="spam"} = %v, want 3`, m[`touchtrail_events_total{outcome="spam"}`])
	}
}

// With keep-bots, spam is stored, flagged as bot traffic.
func TestReferrerSpamKeptFlagged(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{KeepBots: true})
	c := client{t, col.URL}
	mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[{"id":"k1","type":"pageview","visitor":%q,"url":"https://shop.example/","referrer":"https://semalt.com/"}]}`, visitorA), nil), 1)
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 1 || tr.Touchpoints[0]["bot"] != true {
		t.Fatalf("trail %v: want the spam visit kept with bot true", tr.Touchpoints)
	}
}

// Engagement reports arrive in the trail after their page view and show
// up in the journey endpoints: per page in a visitor's journey, as
// quick_exit_help in its friction and the site's, and in …/engagement.
func TestEngagementInJourneyEndpoints(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	now := time.Now().UnixMilli()
	ev := func(id, typ, path string, ms int64, extra string) string {
		return fmt.Sprintf(`{"id":%q,"type":%q,"visitor":%q,"seq":%d,"ts":%d,"sent":%d,"url":"https://shop.example%s"%s}`,
			id, typ, visitorA, ms/100+1, now-60000+ms, now, path, extra)
	}
	mustAccept(t, c.post(`{"site":"test","events":[`+
		ev("p1", "pageview", "/faq/returns", 0, "")+","+
		ev("e1", "engagement", "/faq/returns", 3000, `,"engaged_ms":2800,"scroll":5`)+","+
		ev("p2", "pageview", "/search?q=refund", 3100, "")+","+
		ev("s1", "search", "/search?q=refund", 3200, `,"query":"refund"`)+","+
		ev("e2", "engagement", "/search?q=refund", 40000, `,"engaged_ms":30000,"scroll":100`)+`]}`, nil), 5)

	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	var order []string
	for _, tp := range tr.Touchpoints {
		order = append(order, tp["id"].(string))
	}
	if !slices.Equal(order, []string{"p1", "e1", "p2", "s1", "e2"}) {
		t.Errorf("trail order %v", order)
	}
	if p := tr.Touchpoints[1]["props"].(map[string]any); tr.Touchpoints[1]["type"] != "engagement" || p["engaged_ms"] != "2800" || p["scroll"] != "5" {
		t.Errorf("engagement touchpoint %v", tr.Touchpoints[1])
	}

	var j struct {
		Friction   []string `json:"friction"`
		Stages     []string `json:"stages"`
		Engagement []struct {
			Page                 string  `json:"page"`
			Views                int     `json:"views"`
			MedianEngagedSeconds float64 `json:"median_engaged_seconds"`
			MeanScroll           float64 `json:"mean_scroll"`
			QuickExits           int     `json:"quick_exits"`
		} `json:"engagement"`
	}
	c.get("/v1/sites/test/visitors/"+visitorA+"/journey", collectortest.ReadToken).json(t, &j)
	if !slices.Contains(j.Friction, "quick_exit_help") {
		t.Errorf("journey friction %v: want quick_exit_help", j.Friction)
	}
	if !slices.Equal(j.Stages, []string{"ask", "explore"}) {
		t.Errorf("stages %v: engagement must not be a stage", j.Stages)
	}
	if len(j.Engagement) != 2 || j.Engagement[0].Page != "/faq/returns" || j.Engagement[0].MedianEngagedSeconds != 2.8 ||
		j.Engagement[0].QuickExits != 1 || j.Engagement[1].Page != "/search" || j.Engagement[1].MeanScroll != 100 {
		t.Errorf("journey engagement %+v", j.Engagement)
	}

	var fr struct {
		Signals []struct {
			Signal   string `json:"signal"`
			Visitors int    `json:"visitors"`
		} `json:"signals"`
	}
	c.get("/v1/sites/test/friction", collectortest.ReadToken).json(t, &fr)
	found := false
	for _, s := range fr.Signals {
		if s.Signal == "quick_exit_help" {
			found = s.Visitors == 1
		}
	}
	if !found {
		t.Errorf("site friction %+v: want quick_exit_help for 1 visitor", fr.Signals)
	}

	var en struct {
		Visitors int `json:"visitors"`
		Help     struct {
			Views      int `json:"views"`
			QuickExits int `json:"quick_exits"`
		} `json:"help"`
		Pages []struct {
			Page string `json:"page"`
		} `json:"pages"`
	}
	a := c.get("/v1/sites/test/engagement?top=1", collectortest.ReadToken)
	a.json(t, &en)
	if a.status != 200 || en.Visitors != 1 || en.Help.Views != 1 || en.Help.QuickExits != 1 || len(en.Pages) != 1 {
		t.Errorf("engagement %d %s", a.status, a.body)
	}
	if a := c.get("/v1/sites/test/engagement?top=x", collectortest.ReadToken); a.status != http.StatusBadRequest {
		t.Errorf("top=x: %d", a.status)
	}

	// A bad engagement is rejected with the field named.
	a = c.post(`{"site":"test","events":[`+ev("e3", "engagement", "/", 50000, `,"engaged_ms":"lots","scroll":5`)+`]}`, nil)
	if !bytes.Contains(a.body, []byte("engaged_ms")) {
		t.Errorf("bad engagement: %d %s", a.status, a.body)
	}
}
