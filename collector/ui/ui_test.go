package ui_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/collector/ui"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// The pages' range, and the API's for the same days (its to is exclusive).
const (
	uiRange  = "from=2026-11-01&to=2026-11-07"
	apiRange = "from=2026-11-01&to=2026-11-08"
)

// Every number on every page equals the query API's answer to the same
// question, and the API's equals the planted truth (collector tests).
func TestPagesShowTheAPIsNumbers(t *testing.T) {
	col, visitors, truth := shop(t, 500, collectortest.Options{})
	b := newBrowser(t, col.URL)
	b.signIn(collectortest.ReadToken)
	tok := collectortest.ReadToken

	t.Run("map", func(t *testing.T) {
		for _, q := range []string{"", "&segment=returning", "&channel=email", "&segment=new&channel=search"} {
			html := b.page("/ui/s/test/?" + uiRange + q)
			var m journey.MapResult
			api(t, col.URL, "/v1/sites/test/map?"+apiRange+q, tok, &m)
			if !strings.Contains(html, fmt.Sprintf(">%d visitors active", m.Visitors)) && !strings.Contains(html, fmt.Sprintf(">%s visitors active", commas(m.Visitors))) {
				t.Errorf("map%s: the page does not say %d visitors", q, m.Visitors)
			}
			cards := strings.Split(html, `<li class="stage" id="stage-`)[1:]
			if len(cards) != journey.StageCount {
				t.Fatalf("map%s: %d stage cards", q, len(cards))
			}
			for i, st := range m.Stages {
				card := cards[i]
				if !strings.HasPrefix(card, st.Stage.String()) {
					t.Fatalf("card %d is not %s", i, st.Stage)
				}
				for k, want := range map[string]int{"visitors": st.Visitors, "continued": st.Continued, "left": st.Left, "responses": st.Feedback.Responses} {
					if got := dataV(t, card, k); got != want {
						t.Errorf("map%s %s %s: page %d, API %d", q, st.Stage, k, got, want)
					}
				}
				top := attrs(card, "data-top")
				for _, lc := range st.Top {
					if top[lc.Touchpoint] != lc.Visitors {
						t.Errorf("map%s %s top %q: page %d, API %d", q, st.Stage, lc.Touchpoint, top[lc.Touchpoint], lc.Visitors)
					}
				}
				fr := attrs(card, "data-signal")
				for _, f := range st.Friction {
					if fr[f.Signal] != f.Visitors {
						t.Errorf("map%s %s friction %s: page %d, API %d", q, st.Stage, f.Signal, fr[f.Signal], f.Visitors)
					}
				}
				if len(top) != len(st.Top) || len(fr) != len(st.Friction) {
					t.Errorf("map%s %s: %d top and %d friction rows, API %d and %d", q, st.Stage, len(top), len(fr), len(st.Top), len(st.Friction))
				}
			}
			flows := attrs(html, "data-flow")
			for _, f := range m.Flows {
				if k := f.From.String() + "-" + f.To.String(); flows[k] != f.Visitors {
					t.Errorf("map%s flow %s: page %d, API %d", q, k, flows[k], f.Visitors)
				}
			}
			if len(flows) != len(m.Flows) {
				t.Errorf("map%s: %d flows on the page, API %d", q, len(flows), len(m.Flows))
			}
		}
	})

	t.Run("funnel", func(t *testing.T) {
		steps := url.QueryEscape(journeytest.FunnelSteps)
		html := b.page("/ui/s/test/funnel?" + uiRange + "&within=24h&steps=" + steps)
		var f journey.FunnelResult
		api(t, col.URL, "/v1/sites/test/funnel?"+apiRange+"&within=24h&steps="+steps, tok, &f)
		rows := strings.Split(html, `<tr data-step="`)[1:]
		if len(rows) != len(f.Steps) {
			t.Fatalf("%d funnel rows, API %d steps", len(rows), len(f.Steps))
		}
		reached := truth.Reached
		for i, st := range f.Steps {
			if dataV(t, rows[i], "visitors") != st.Visitors || dataV(t, rows[i], "drop") != st.DropOff || dataV(t, rows[i], "median") != int(st.MedianSeconds) {
				t.Errorf("funnel step %s: page %.200s; API %+v", st.Step, rows[i], st)
			}
			if st.Visitors != truth.Funnel[i] {
				t.Errorf("funnel step %s: %d, planted %d", st.Step, st.Visitors, truth.Funnel[i])
			}
			// Each drop-off example reached the step before, not this one.
			ex := regexp.MustCompile(`/visitors/([0-9a-f]{32})"`).FindAllStringSubmatch(rows[i], -1)
			if i > 0 && st.DropOff > 0 && len(ex) == 0 {
				t.Errorf("funnel step %s: %d dropped off and no example", st.Step, st.DropOff)
			}
			for _, m := range ex {
				id, _ := event.ParseVisitor(m[1])
				if reached[id] != i {
					t.Errorf("funnel step %s: example %s reached %d steps, not %d", st.Step, m[1], reached[id], i)
				}
			}
		}
	})

	t.Run("paths", func(t *testing.T) {
		start := url.QueryEscape(journeytest.PathStart)
		html := b.page(fmt.Sprintf("/ui/s/test/paths?%s&depth=%d&start=%s", uiRange, journeytest.PathDepth, start))
		var p journey.PathsResult
		api(t, col.URL, fmt.Sprintf("/v1/sites/test/paths?%s&depth=%d&top=10&start=%s", apiRange, journeytest.PathDepth, start), tok, &p)
		got := attrs(html, "data-path")
		want := map[string]int{}
		for _, pc := range p.Paths {
			want[strings.Join(pc.Path, " > ")] = pc.Visitors
		}
		if !journeytest.SameCounts(got, want) || !journeytest.SameCounts(got, truth.Paths) {
			t.Errorf("paths on the page %v, API %v, planted %v", got, want, truth.Paths)
		}
		if dataV(t, html, "visitors") != p.Visitors {
			t.Errorf("paths: page %d visitors, API %d", dataV(t, html, "visitors"), p.Visitors)
		}
	})

	t.Run("friction", func(t *testing.T) {
		html := b.page("/ui/s/test/friction?" + uiRange)
		var fr journey.FrictionResult
		api(t, col.URL, "/v1/sites/test/friction?"+apiRange, tok, &fr)
		rows := strings.Split(html, `<tr data-signal="`)[1:]
		if len(rows) != len(fr.Signals) {
			t.Fatalf("%d friction rows, API %d", len(rows), len(fr.Signals))
		}
		for i, s := range fr.Signals {
			if !strings.HasPrefix(rows[i], s.Signal+`" data-v="`+fmt.Sprint(s.Visitors)+`"`) {
				t.Errorf("friction %s: page row %.80s, API %d", s.Signal, rows[i], s.Visitors)
			}
			var ex []string
			for _, m := range regexp.MustCompile(`/visitors/([0-9a-f]{32})"`).FindAllStringSubmatch(rows[i], -1) {
				ex = append(ex, m[1])
			}
			if !slices.Equal(ex, s.Examples) {
				t.Errorf("friction %s: examples %v, API %v", s.Signal, ex, s.Examples)
			}
		}
		// The ask stage's numbers are the API's.
		var ss journey.SelfServiceResult
		api(t, col.URL, "/v1/sites/test/selfservice?top=10&"+apiRange, tok, &ss)
		if dataV(t, html, "helped") != ss.Helped || dataV(t, html, "self_served") != ss.SelfServed || ss.Helped == 0 {
			t.Errorf("self-service: page %d of %d, API %d of %d", dataV(t, html, "self_served"), dataV(t, html, "helped"), ss.SelfServed, ss.Helped)
		}
		self := attrs(html, "data-self")
		for _, it := range append(ss.Pages, ss.Terms...) {
			if n, ok := self[it.Key]; !ok || n != it.SelfServed {
				t.Errorf("self-service %q: page %d, API %d", it.Key, n, it.SelfServed)
			}
		}
		var sat journey.SatisfactionResult
		api(t, col.URL, "/v1/sites/test/satisfaction?"+apiRange, tok, &sat)
		byStage := attrs(html, "data-sat")
		for _, st := range sat.ByStage {
			if byStage[st.Stage.String()] != st.Responses {
				t.Errorf("satisfaction in %s: page %d, API %d", st.Stage, byStage[st.Stage.String()], st.Responses)
			}
		}
		steps := attrs(html, "data-abandon")
		for step, n := range fr.AbandonedAtStep {
			if steps[fmt.Sprint(step)] != n {
				t.Errorf("abandoned at step %d: page %d, API %d", step, steps[fmt.Sprint(step)], n)
			}
		}
	})

	t.Run("recent visitors", func(t *testing.T) {
		html := b.page("/ui/s/test/visitors")
		var page struct {
			Visitors []struct {
				Visitor  string
				LastSeen time.Time `json:"last_seen"`
			}
		}
		api(t, col.URL, "/v1/sites/test/visitors?from=2026-10-09&to=2026-11-09&limit=10000", tok, &page)
		last := map[string]time.Time{}
		for _, v := range page.Visitors {
			if v.LastSeen.After(last[v.Visitor]) {
				last[v.Visitor] = v.LastSeen
			}
		}
		ids := make([]string, 0, len(last))
		for id := range last {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(a, b string) int { return last[b].Compare(last[a]) })
		var shown []string
		for _, m := range regexp.MustCompile(`<tr data-visitor="([0-9a-f]{32})"`).FindAllStringSubmatch(html, -1) {
			shown = append(shown, m[1])
		}
		if len(shown) != 50 || !slices.Equal(shown, ids[:50]) {
			t.Errorf("recent visitors %v…, want the API's 50 last seen, newest first: %v…", shown[:min(3, len(shown))], ids[:3])
		}
	})

	t.Run("timelines", func(t *testing.T) {
		for _, v := range visitors[:15] {
			html := b.page("/ui/s/test/visitors/" + v.ID.String())
			var j journey.Journey
			api(t, col.URL, "/v1/sites/test/visitors/"+v.ID.String()+"/journey", tok, &j)
			if dataV(t, html, "touchpoints") != j.Touchpoints || strings.Count(html, `<li class="session"`) != len(j.Sessions) ||
				strings.Count(html, `<li class="touch"`) != j.Touchpoints {
				t.Errorf("visitor %s: page differs from the API's %d touchpoints in %d sessions", v.ID, j.Touchpoints, len(j.Sessions))
			}
			chips := regexp.MustCompile(`<span class="chip flag" data-signal="([a-z_]+)"`).FindAllStringSubmatch(html, -1)
			var sig []string
			for _, c := range chips {
				sig = append(sig, c[1])
			}
			if !slices.Equal(sig, j.Friction) {
				t.Errorf("visitor %s: signals %v, API %v", v.ID, sig, j.Friction)
			}
			// Each signal of the journey marks a touchpoint.
			for _, s := range j.Friction {
				if !strings.Contains(html, `<li class="touch" data-type="`) || !regexp.MustCompile(`class="touch" data-type="[a-z_]+" data-signal="(?:[a-z_]+ )*`+s+`(?: [a-z_]+)*"`).MatchString(html) {
					t.Errorf("visitor %s: no touchpoint marked %s", v.ID, s)
				}
			}
		}
		for user := range truth.Users {
			html := b.page("/ui/s/test/user?id=" + url.QueryEscape(user))
			var uj struct {
				Visitors []string
				journey.Journey
			}
			api(t, col.URL, "/v1/sites/test/users/"+user+"/journey", tok, &uj)
			if dataV(t, html, "touchpoints") != uj.Touchpoints || strings.Count(html, `<li class="session"`) != len(uj.Sessions) {
				t.Errorf("user %s: page differs from the API's %d touchpoints in %d sessions", user, uj.Touchpoints, len(uj.Sessions))
			}
			for _, v := range uj.Visitors {
				if !strings.Contains(html, "/ui/s/test/visitors/"+v+`"`) {
					t.Errorf("user %s: no link to its visitor %s", user, v)
				}
			}
			break
		}
	})
}

// commas groups digits as English does.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Signing in and out: the token goes in a form, never a URL; the session
// cookie is HttpOnly, SameSite=Strict, Secure behind HTTPS; every page
// carries a strict CSP and refuses framing.
func TestSignInAndHeaders(t *testing.T) {
	col, _, _ := shop(t, 20, collectortest.Options{})
	b := newBrowser(t, col.URL)

	r := b.get("/ui/s/test/funnel?from=2026-11-01")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/signin?next="+url.QueryEscape("/ui/s/test/funnel?from=2026-11-01") {
		t.Fatalf("signed out: %d to %q, want the sign-in page", r.status, r.header.Get("Location"))
	}
	r = b.get("/ui/signin?next=" + url.QueryEscape("/ui/s/test/funnel"))
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
	} {
		if r.header.Get(h) != want {
			t.Errorf("%s: %q, want %q", h, r.header.Get(h), want)
		}
	}
	css := regexp.MustCompile(`<link rel="stylesheet" href="(/ui/static/style.css\?v=[0-9a-f]{12})">`).FindStringSubmatch(r.body)
	if css == nil {
		t.Fatalf("no versioned style sheet in %s", r.body)
	}
	if c := b.get(unescape(css[1])); c.status != http.StatusOK || !strings.Contains(c.header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(c.header.Get("Content-Type"), "text/css") || c.header.Get("Content-Security-Policy") == "" {
		t.Errorf("style sheet: %d %q %q", c.status, c.header.Get("Cache-Control"), c.header.Get("Content-Type"))
	}
	if c := b.get("/ui/static/style.css?v=old"); !strings.Contains(c.header.Get("Cache-Control"), "max-age=300") {
		t.Errorf("an old version of the style sheet is cached for %q", c.header.Get("Cache-Control"))
	}
	if c := b.get("/ui/static/../ui.go"); c.status != http.StatusNotFound {
		t.Errorf("outside the static files: %d", c.status)
	}
	if !strings.Contains(r.body, `method="post" action="/ui/signin"`) || !strings.Contains(r.body, `type="password" name="token"`) ||
		strings.Contains(r.body, "<script") {
		t.Fatalf("sign-in page: %s", r.body)
	}

	wrong := b.do(http.MethodPost, "/ui/signin", url.Values{"token": {"not-a-token-at-all"}}, nil)
	if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, "That token is not valid.") || len(wrong.header.Values("Set-Cookie")) > 0 {
		t.Errorf("wrong token: %d, cookies %v", wrong.status, wrong.header.Values("Set-Cookie"))
	}
	if r := b.do(http.MethodPost, "/ui/signin", url.Values{"token": {collectortest.ReadToken}}, map[string]string{"Origin": "http://evil.example"}); r.status != http.StatusForbidden {
		t.Errorf("sign-in posted from another origin: %d, want 403", r.status)
	}
	if r := b.do(http.MethodPost, "/ui/signin", url.Values{"token": {collectortest.ReadToken}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); r.status != http.StatusForbidden {
		t.Errorf("sign-in posted from another site (Sec-Fetch-Site): %d, want 403", r.status)
	}

	r = b.do(http.MethodPost, "/ui/signin", url.Values{"token": {collectortest.ReadToken}, "next": {"/ui/s/test/funnel"}}, map[string]string{"Origin": col.URL})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/s/test/funnel" {
		t.Fatalf("sign in: %d to %q", r.status, r.header.Get("Location"))
	}
	ck := r.header.Get("Set-Cookie")
	for _, want := range []string{"tt_session=", "Path=/ui/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(ck, collectortest.ReadToken) || strings.Contains(ck, "Secure") {
		t.Errorf("session cookie %q: holds the token or is Secure over plain HTTP", ck)
	}
	if !strings.Contains(b.page("/ui/s/test/funnel"), "Signed in as read") {
		t.Error("the funnel page does not say who is signed in")
	}
	if b.get("/ui/s/other/").status != http.StatusForbidden || b.get("/ui/s/nosuch/").status != http.StatusNotFound {
		t.Error("a site the token may not read must be 403, an unknown one 404")
	}
	if r := b.get("/ui/").header.Get("Location"); r != "/ui/s/test/" {
		t.Errorf("/ui/ with one readable site goes to %q", r)
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/ui//evil.example", "/v1/sites/test/map"} {
		r := newBrowser(t, col.URL).do(http.MethodPost, "/ui/signin", url.Values{"token": {collectortest.ReadToken}, "next": {next}}, nil)
		if r.header.Get("Location") != "/ui/" {
			t.Errorf("next %q: sent to %q, want /ui/", next, r.header.Get("Location"))
		}
	}

	// Behind an HTTPS proxy the cookie is Secure.
	s := newBrowser(t, col.URL).do(http.MethodPost, "/ui/signin", url.Values{"token": {collectortest.ReadToken}}, map[string]string{"X-Forwarded-Proto": "https"})
	if !strings.Contains(s.header.Get("Set-Cookie"), "Secure") {
		t.Errorf("behind HTTPS: cookie %q is not Secure", s.header.Get("Set-Cookie"))
	}

	// Sign-out needs the session's CSRF token, and ends the session.
	if r := b.do(http.MethodPost, "/ui/signout", url.Values{"csrf": {"forged"}}, nil); r.status != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d", r.status)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(b.page("/ui/s/test/"))
	if r := b.do(http.MethodPost, "/ui/signout", url.Values{"csrf": {csrf[1]}}, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/signin?out" {
		t.Fatalf("sign-out: %d %q", r.status, r.header.Get("Location"))
	}
	if r := b.get("/ui/s/test/"); r.status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want the sign-in redirect", r.status)
	}

	// The token is not a cookie-less key to the API either way round: a
	// session cookie opens no API endpoint.
	if r := b.get("/v1/sites/test/map"); r.status != http.StatusUnauthorized {
		t.Errorf("API with a UI cookie only: %d", r.status)
	}
}

// An admin erases a visitor from its timeline: a confirmation page, a form
// with the CSRF token, and the visitor is gone. A read token cannot.
func TestErase(t *testing.T) {
	col, visitors, _ := shop(t, 30, collectortest.Options{})
	v := visitors[3].ID.String()
	reader := newBrowser(t, col.URL)
	reader.signIn(collectortest.ReadToken)
	if strings.Contains(reader.page("/ui/s/test/visitors/"+v), "/erase") {
		t.Error("a read token sees the erase button")
	}
	if r := reader.get("/ui/s/test/visitors/" + v + "/erase"); r.status != http.StatusForbidden {
		t.Errorf("a read token opens the confirmation: %d", r.status)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(reader.page("/ui/s/test/"))[1]
	if r := reader.do(http.MethodPost, "/ui/s/test/visitors/"+v+"/erase", url.Values{"csrf": {csrf}}, nil); r.status != http.StatusForbidden {
		t.Errorf("a read token erases: %d", r.status)
	}

	admin := newBrowser(t, col.URL)
	admin.signIn(collectortest.AdminToken)
	if !strings.Contains(admin.page("/ui/s/test/visitors/"+v), `href="/ui/s/test/visitors/`+v+`/erase"`) {
		t.Fatal("no erase button for an admin")
	}
	confirm := admin.page("/ui/s/test/visitors/" + v + "/erase")
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(confirm)
	if token == nil || !strings.Contains(confirm, `method="post" action="/ui/s/test/visitors/`+v+`/erase"`) {
		t.Fatalf("confirmation page: %s", confirm)
	}
	for name, form := range map[string]url.Values{"no token": {}, "another session's": {"csrf": {csrf}}} {
		if r := admin.do(http.MethodPost, "/ui/s/test/visitors/"+v+"/erase", form, nil); r.status != http.StatusForbidden {
			t.Errorf("erase with %s CSRF token: %d", name, r.status)
		}
	}
	if r := admin.do(http.MethodPost, "/ui/s/test/visitors/"+v+"/erase", url.Values{"csrf": {token[1]}}, map[string]string{"Origin": "http://evil.example"}); r.status != http.StatusForbidden {
		t.Errorf("erase posted from another origin: %d", r.status)
	}
	if admin.get("/ui/s/test/visitors/"+v).status != http.StatusOK {
		t.Fatal("the visitor went before it was erased")
	}
	r := admin.do(http.MethodPost, "/ui/s/test/visitors/"+v+"/erase", url.Values{"csrf": {token[1]}}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/s/test/visitors?erased="+v {
		t.Fatalf("erase: %d %q", r.status, r.header.Get("Location"))
	}
	if !strings.Contains(admin.page(r.header.Get("Location")), "Visitor "+v+" was erased.") {
		t.Error("no notice after erasing")
	}
	if admin.get("/ui/s/test/visitors/"+v).status != http.StatusNotFound {
		t.Error("the erased visitor's timeline still shows")
	}
	var tr struct{ Touchpoints []any }
	api(t, col.URL, "/v1/sites/test/visitors/"+v+"/trail", collectortest.ReadToken, &tr)
	if len(tr.Touchpoints) != 0 {
		t.Errorf("the API still has %d touchpoints of the erased visitor", len(tr.Touchpoints))
	}
}

// The language: Accept-Language first, then the switch (remembered); the
// Arabic pages are right to left; numbers and dates follow the locale.
func TestLanguages(t *testing.T) {
	col, _, _ := shop(t, 1001, collectortest.Options{})
	b := newBrowser(t, col.URL)
	b.signIn(collectortest.ReadToken)
	check := func(html, lang, dir string, wants ...string) {
		t.Helper()
		if !strings.Contains(html, `<html lang="`+lang+`" dir="`+dir+`">`) {
			t.Errorf("want lang %s dir %s: %.120s", lang, dir, html)
		}
		for _, w := range wants {
			if !strings.Contains(html, w) {
				t.Errorf("%s page lacks %q", lang, w)
			}
		}
	}
	check(b.page("/ui/s/test/?"+uiRange), "en", "ltr", "Journey map", "1,001 visitors active", "Nov 1, 2026")
	b.lang = "ar-EG,ar;q=0.9"
	check(b.page("/ui/s/test/?"+uiRange), "ar", "rtl", "خريطة الرحلة", "١٬٠٠١ زائر نشط", "١ نوفمبر ٢٠٢٦")
	b.lang = "ro-RO"
	check(b.page("/ui/s/test/?"+uiRange), "ro", "ltr", "Harta călătoriei", "1.001 vizitatori activi", "1 nov. 2026")
	// The switch wins over Accept-Language, and is remembered.
	r := b.get("/ui/s/test/friction?lang=ar&" + uiRange)
	check(r.body, "ar", "rtl", "نقاط الاحتكاك")
	if !strings.Contains(r.header.Get("Set-Cookie"), "tt_lang=ar") {
		t.Errorf("the switch sets no cookie: %q", r.header.Get("Set-Cookie"))
	}
	check(b.page("/ui/s/test/paths?"+uiRange), "ar", "rtl", "المسارات")
	// Sequences read right to left, and their arrows point that way.
	if html := b.page("/ui/s/test/paths?" + uiRange); !strings.Contains(html, " ← ") || strings.Contains(html, " → ") {
		t.Error("Arabic paths are not joined by ←")
	}
	if !strings.Contains(b.page("/ui/s/test/paths?"+uiRange), `href="/ui/s/test/paths?from=2026-11-01&amp;lang=ro&amp;to=2026-11-07" lang="ro"`) {
		t.Error("the switch does not keep the page's query")
	}
}

// Every message is in the three languages, with the same verbs.
func TestCatalog(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	for key, tr := range ui.CollectorUIMessages() {
		for i, s := range tr {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: language %d empty", key, i)
			}
			if a, b := verbs.FindAllString(tr[0], -1), verbs.FindAllString(s, -1); !slices.Equal(a, b) {
				t.Errorf("%s: verbs %v in English, %v in language %d", key, a, b, i)
			}
		}
	}
}

// The UI can be turned off: /ui/ is then an unknown path.
func TestDisabled(t *testing.T) {
	col, _, _ := shop(t, 5, collectortest.Options{Config: func(c *collector.Config) { c.DisableUI = true }})
	r := newBrowser(t, col.URL).get("/ui/signin")
	if r.status != http.StatusNotFound || !strings.Contains(r.body, `"error"`) {
		t.Errorf("disabled UI: %d %s", r.status, r.body)
	}
}

// Each page weighs at most 60 KB over the wire (gzip, as browsers ask),
// in each language, on the demo-sized data set.
func TestPageSizes(t *testing.T) {
	col, visitors, truth := shop(t, 2000, collectortest.Options{})
	b := newBrowser(t, col.URL)
	b.signIn(collectortest.AdminToken)
	var rich event.VisitorID
	for _, v := range visitors {
		if len(v.Trail) > 12 {
			rich = v.ID
			break
		}
	}
	var user string
	for u := range truth.Users {
		user = u
		break
	}
	const budget = 60 << 10
	for _, lang := range []string{"en", "ar", "ro"} {
		for _, p := range []string{"/ui/s/test/", "/ui/s/test/funnel", "/ui/s/test/paths?start=pageview&depth=6", "/ui/s/test/friction",
			"/ui/s/test/visitors", "/ui/s/test/visitors/" + rich.String(), "/ui/s/test/user?id=" + user, "/ui/signin", "/ui/static/style.css"} {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			r := b.do(http.MethodGet, p+sep+"lang="+lang, nil, map[string]string{"Accept-Encoding": "gzip"})
			if r.status != http.StatusOK {
				t.Fatalf("%s: %d", p, r.status)
			}
			if r.wire > budget {
				t.Errorf("%s in %s: %d bytes over the wire, budget %d", p, lang, r.wire, budget)
			}
			t.Logf("%-50s %s %6d bytes (%s)", p, lang, r.wire, r.header.Get("Content-Encoding"))
		}
	}
}

// Bad input answers an error page with its status, counted in the
// collector's touchtrail_http_errors_total{route="ui"}.
func TestBadInput(t *testing.T) {
	col, _, _ := shop(t, 20, collectortest.Options{})
	b := newBrowser(t, col.URL)
	b.signIn(collectortest.ReadToken)
	cases := map[string]int{
		"/ui/s/test/?from=yesterday":                               400,
		"/ui/s/test/?from=2026-11-05&to=2026-11-01":                400,
		"/ui/s/test/?segment=old":                                  400,
		"/ui/s/test/?channel=tv":                                   400,
		"/ui/s/test/?channel=internal":                             400,
		"/ui/s/test/friction?from=2020-01-01&to=2026-11-07":        400,
		"/ui/s/test/funnel?steps=teleport":                         400,
		"/ui/s/test/funnel?within=-1h":                             400,
		"/ui/s/test/funnel?steps=checkout_step:0":                  400,
		"/ui/s/test/funnel?steps=" + strings.Repeat("search,", 21): 400,
		"/ui/s/test/paths?depth=99":                                400,
		"/ui/s/test/paths?start=nothing:here":                      400,
		"/ui/s/test/user":                                          400,
		"/ui/s/test/user?id=nobody":                                404,
		"/ui/s/test/visitors/00000000000000000000000000000000":     404,
		"/ui/s/test/nosuchpage":                                    404,
		"/ui/nosuch":                                               404,
	}
	for path, want := range cases {
		r := b.get(path)
		if r.status != want || !strings.Contains(r.body, "<h1>Something went wrong</h1>") {
			t.Errorf("%s: %d, want %d with an error page", path, r.status, want)
		}
		if r.header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: error page without the CSP", path)
		}
	}
	if r := b.get("/ui/s/test/?from=yesterday"); !strings.Contains(r.body, "from: want YYYY-MM-DD") {
		t.Errorf("the 400 page does not say what was wrong: %s", r.body)
	}
	m := (&browserish{tb: t, base: col.URL, c: http.DefaultClient}).do(http.MethodGet, "/metrics", nil, map[string]string{"Authorization": "Bearer " + collectortest.ReadToken})
	for status, n := range map[int]int{400: 14, 404: 4} { // the 400 twice
		if !strings.Contains(m.body, fmt.Sprintf(`touchtrail_http_errors_total{route="ui",status="%d"} %d`, status, n)) {
			t.Errorf("metrics do not count %d ui answers of status %d: %s", n, status, regexp.MustCompile(`touchtrail_http_errors_total\{route="ui".*`).FindAllString(m.body, -1))
		}
	}
}

// An admin erases a user — every visitor stitched to it — from the user's
// timeline; a read token cannot.
func TestEraseUser(t *testing.T) {
	col, _, truth := shop(t, 30, collectortest.Options{})
	var user string
	for u := range truth.Users {
		user = u
		break
	}
	ids := truth.Users[user]
	reader := newBrowser(t, col.URL)
	reader.signIn(collectortest.ReadToken)
	if strings.Contains(reader.page("/ui/s/test/user?id="+user), "/user/erase") {
		t.Error("a read token sees the erase button of a user")
	}
	if r := reader.get("/ui/s/test/user/erase?id=" + user); r.status != http.StatusForbidden {
		t.Errorf("a read token opens the user's confirmation: %d", r.status)
	}
	admin := newBrowser(t, col.URL)
	admin.signIn(collectortest.AdminToken)
	if !strings.Contains(admin.page("/ui/s/test/user?id="+user), `href="/ui/s/test/user/erase?id=`+user+`"`) {
		t.Fatal("no erase button on the user's timeline for an admin")
	}
	confirm := admin.page("/ui/s/test/user/erase?id=" + user)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(confirm)
	if csrf == nil || !strings.Contains(confirm, `<input type="hidden" name="id" value="`+user+`">`) {
		t.Fatalf("confirmation: %s", confirm)
	}
	if r := admin.do(http.MethodPost, "/ui/s/test/user/erase", url.Values{"id": {user}}, nil); r.status != http.StatusForbidden {
		t.Errorf("erase without the CSRF token: %d", r.status)
	}
	r := admin.do(http.MethodPost, "/ui/s/test/user/erase", url.Values{"id": {user}, "csrf": {csrf[1]}}, nil)
	if r.status != http.StatusSeeOther || !strings.Contains(admin.page(r.header.Get("Location")), "User "+user+" was erased.") {
		t.Fatalf("erase user: %d %q", r.status, r.header.Get("Location"))
	}
	if admin.get("/ui/s/test/user?id="+user).status != http.StatusNotFound {
		t.Error("the erased user's timeline still shows")
	}
	for _, v := range ids {
		if admin.get("/ui/s/test/visitors/"+v.String()).status != http.StatusNotFound {
			t.Errorf("visitor %s of the erased user still shows", v)
		}
	}
}

// Guessing tokens is slowed: after 10 wrong tokens from one address, the
// next try is refused (429, Retry-After) whatever it holds.
func TestSignInLimit(t *testing.T) {
	col, _, _ := shop(t, 5, collectortest.Options{})
	b := newBrowser(t, col.URL)
	for i := range 10 {
		if r := b.do(http.MethodPost, "/ui/signin", url.Values{"token": {fmt.Sprint("guess-", i)}}, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, r.status)
		}
	}
	r := b.do(http.MethodPost, "/ui/signin", url.Values{"token": {collectortest.ReadToken}}, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || len(r.header.Values("Set-Cookie")) > 0 {
		t.Fatalf("after 10 guesses: %d, Retry-After %q, cookies %v", r.status, r.header.Get("Retry-After"), r.header.Values("Set-Cookie"))
	}
	// A good sign-in costs nothing: another browser on the same address
	// that signs in first is not slowed by its own success.
	col2, _, _ := shop(t, 5, collectortest.Options{})
	for range 12 {
		newBrowser(t, col2.URL).signIn(collectortest.ReadToken)
	}
}

// When the collector's scan slots are all taken, the pages that scan say
// so (503, Retry-After) and the others still answer.
func TestBusy(t *testing.T) {
	st, err := badger.Open(badger.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u, err := ui.New(ui.Config{}, ui.Deps{Store: st, Sites: []string{"test"}, Log: slog.New(slog.DiscardHandler),
		Authenticate: func(tok []byte) (ui.Identity, bool) {
			return ui.Identity{Name: "t"}, string(tok) == "a-token-of-16-chars"
		},
		ScanSlot: func() (func(), error) { return nil, errors.New("all 4 taken") },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(u.Handler())
	t.Cleanup(srv.Close)
	b := newBrowser(t, srv.URL)
	b.signIn("a-token-of-16-chars")
	for _, p := range []string{"/ui/s/test/", "/ui/s/test/funnel", "/ui/s/test/paths", "/ui/s/test/friction",
		"/ui/s/test/visitors/00000000000000000000000000000001", "/ui/s/test/user?id=u"} {
		if r := b.get(p); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "busy") {
			t.Errorf("%s with every slot taken: %d %q", p, r.status, r.header.Get("Retry-After"))
		}
	}
	if r := b.get("/ui/s/test/visitors"); r.status != http.StatusOK {
		t.Errorf("recent visitors (no scan): %d", r.status)
	}
}

// A visitor with thousands of touchpoints gets a timeline in pages of at
// most 200 touchpoints, each within the size budget; following "Earlier
// sessions" from the newest page shows every session once.
func TestLongTimeline(t *testing.T) {
	col, _, _ := shop(t, 5, collectortest.Options{})
	var v event.VisitorID
	v[0] = 0xab
	var recs []store.Record
	var slab []byte
	add := func(i int, at time.Time, path string) {
		us := at.UnixMicro()
		tp := event.Touchpoint{ID: fmt.Sprint("long-", i), Type: event.TypePageview, Site: collectortest.Site, Visitor: v,
			Seq: uint32(i + 1), TS: us, Sent: us, Received: us, Derived: us, URL: "https://shop.example" + path, Results: -1,
			Channel: event.ChannelDirect}
		recs = append(recs, store.NewRecord(&tp, &slab))
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for s := range 600 { // 600 sessions of 2 page views, an hour apart
		add(n, start.Add(time.Duration(s)*time.Hour), "/a")
		add(n+1, start.Add(time.Duration(s)*time.Hour+time.Minute), "/b")
		n += 2
	}
	for i := range 400 { // then one session of 400
		add(n, start.Add(700*time.Hour+time.Duration(i)*time.Second), fmt.Sprint("/p/", i))
		n++
	}
	if _, err := col.Store.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, col.URL)
	b.signIn(collectortest.ReadToken)
	seen := map[string]int{}
	next := "/ui/s/test/visitors/" + v.String()
	pages := 0
	for next != "" {
		r := b.do(http.MethodGet, next, nil, map[string]string{"Accept-Encoding": "gzip"})
		if r.status != http.StatusOK || r.wire > 60<<10 {
			t.Fatalf("%s: %d, %d bytes", next, r.status, r.wire)
		}
		html := b.page(next)
		if c := strings.Count(html, `<li class="touch"`); c > 200 {
			t.Fatalf("%s: %d touchpoints on one page", next, c)
		}
		for _, m := range regexp.MustCompile(`data-session="(\d+)"`).FindAllStringSubmatch(html, -1) {
			seen[m[1]]++
		}
		pages++
		next = ""
		if m := regexp.MustCompile(`<a href="([^"]+)" rel="prev">`).FindStringSubmatch(html); m != nil {
			next = unescape(m[1])
		}
		if pages == 1 && !strings.Contains(html, "Only the first 200 touchpoints of this session are shown.") {
			t.Error("the long session is cut without saying so")
		}
	}
	if len(seen) != 601 || pages < 7 {
		t.Fatalf("%d sessions seen in %d pages, want 601", len(seen), pages)
	}
	for s, c := range seen {
		if c != 1 {
			t.Errorf("session %s shown %d times", s, c)
		}
	}
	// Later goes back the other way.
	html := b.page("/ui/s/test/visitors/" + v.String() + "?upto=100")
	if !strings.Contains(html, `rel="next"`) || !strings.Contains(html, "Sessions 1 to 100 of 601") {
		t.Errorf("page ending at session 100: %s", regexp.MustCompile(`Sessions [^<]*`).FindString(html))
	}
}
