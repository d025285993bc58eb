package js_test

// A multilingual shop of our own in real Chromium: an Arabic right-to-left
// section under /ar/ whose search form navigates to a results page, an FAQ
// whose search form has no action, a chat button, a Romanian checkout in
// RON, and a back navigation to a page kept in the back/forward cache.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/js"
)

// shop serves the multilingual site; pages load the snippet from the site
// itself, pointed at the collector api.
func shop(t *testing.T, api string) *httptest.Server {
	t.Helper()
	head := func(lang, dir, title, scripts string) string {
		return `<!doctype html><html lang="` + lang + `" dir="` + dir + `"><head><meta charset="utf-8"><title>` + title + `</title>
<script>window.touchtrail=window.touchtrail||function(){(touchtrail.q=touchtrail.q||[]).push(arguments)}</script>
` + strings.ReplaceAll(scripts, "API", api) + `
<script>addEventListener('pageshow', (e) => { window.restored = e.persisted; })</script>
</head><body>`
	}
	tracker := `<script defer data-site="test" data-api="API" src="/t.js"></script>`
	pages := map[string]string{
		// The Arabic home page: a search form that navigates to the results.
		"/ar/": head("ar", "rtl", "المتجر", tracker) + `
<form id="search" role="search" action="/ar/search"><input id="q" name="q" type="search"><button id="go">ابحث</button></form>
<a id="faq" href="/ar/faq.html">الأسئلة الشائعة</a></body></html>`,
		"/ar/search": head("ar", "rtl", "نتائج البحث", tracker) + `
<p id="results">٣ نتائج</p>
<a id="related" href="/ar/search?q=%D8%A5%D8%B1%D8%AC%D8%A7%D8%B9">إرجاع</a>
<a id="faq" href="/ar/faq.html">الأسئلة الشائعة</a></body></html>`,
		// The FAQ: a search form without action (it reloads the page with
		// ?s=…), a chat button (a LiveAgent button wrapped in the attribute),
		// and t-chat.js, which the pages with a chat load.
		"/ar/faq.html": head("ar", "rtl", "الأسئلة الشائعة", `<script defer data-site="test" data-api="API" src="/t-chat.js"></script>`) + `
<form id="faqsearch"><input id="s" name="s" type="search"></form>
<div data-touchtrail-chat="liveagent"><button id="chat">دردشة</button></div>
<a id="checkout" href="/ro-RO/checkout">Coș</a></body></html>`,
		// The Romanian checkout, its step marked up for t-checkout.js (before
		// the tracker: its step joins the page view's request).
		"/ro-RO/checkout": head("ro", "ltr", "Coș de cumpărături", `<script defer src="/t-checkout.js"></script>`+tracker) + `
<div id="cart" data-touchtrail-checkout-step="1" data-touchtrail-checkout-name="coș" data-touchtrail-value="249.90" data-touchtrail-currency="RON">
Total: 249,90 lei</div></body></html>`,
	}
	mux := http.NewServeMux()
	for path, body := range map[string][]byte{"/t.js": js.Tracker, "/t-chat.js": js.Chat, "/t-checkout.js": js.Checkout} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(body)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// at waits until the tab shows path (and its query, when path has one),
// loaded.
func at(t *testing.T, tab context.Context, path string) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for {
		c, cancel := context.WithTimeout(tab, time.Second)
		got, err := chromedp.Run(c, chromedp.Evaluate[string](`document.readyState == 'complete' ? location.pathname + location.search : ''`))
		if !strings.Contains(path, "?") {
			got, _, _ = strings.Cut(got, "?")
		}
		cancel()
		if err == nil && got == path {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tab is at %q (%v), want %s", got, err, path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readable is a touchpoint's URL as a person reads it: path and query
// decoded.
func readable(t *testing.T, u any) string {
	t.Helper()
	s, _ := u.(string)
	p, err := url.Parse(s)
	if err != nil {
		t.Fatalf("url %q: %v", s, err)
	}
	q, _ := url.QueryUnescape(p.RawQuery)
	if q != "" {
		q = "?" + q
	}
	return p.Path + q
}

func TestBrowserMultilingualShop(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	site := shop(t, col.URL)
	tab, closeTab := browser(t)
	pause := chromedp.Sleep(300 * time.Millisecond) // people read; fetches finish
	// A typed URL: the Arabic home page.
	do(t, tab, chromedp.Navigate(site.URL+"/ar/"), chromedp.WaitVisible("#go"), pause)
	// Its search form navigates to the results page.
	do(t, tab, chromedp.SendKeys("#q", "شحن مجاني"), chromedp.Click("#go"))
	at(t, tab, "/ar/search")
	// A link to another search: reached otherwise, so counted there.
	do(t, tab, pause, chromedp.Click("#related"), pause)
	at(t, tab, "/ar/search")
	do(t, tab, chromedp.Click("#faq"))
	at(t, tab, "/ar/faq.html")
	// The FAQ's form has no action: Enter reloads the page with ?s=….
	do(t, tab, pause, chromedp.SendKeys("#s", "استرداد"+kb.Enter))
	at(t, tab, "/ar/faq.html?s=%D8%A7%D8%B3%D8%AA%D8%B1%D8%AF%D8%A7%D8%AF")
	do(t, tab, pause, chromedp.Click("#checkout"))
	at(t, tab, "/ro-RO/checkout")
	do(t, tab, pause)
	// Back, as the browser's button does: the FAQ comes from the bfcache.
	eval[any](t, tab, `history.back(), null`)
	at(t, tab, "/ar/faq.html?s=%D8%A7%D8%B3%D8%AA%D8%B1%D8%AF%D8%A7%D8%AF")
	if !eval[bool](t, tab, `window.restored === true`) {
		t.Fatal("the FAQ was loaded again, not restored from the back/forward cache: this test proves nothing about pageshow")
	}
	// chromedp's element queries lose track of a document restored from the
	// bfcache: click where the button is, as a person does.
	time.Sleep(300 * time.Millisecond)
	xy := eval[[]float64](t, tab, `(r => [r.x + r.width / 2, r.y + r.height / 2])(document.querySelector('#chat').getBoundingClientRect())`)
	do(t, tab, chromedp.MouseClickXY(xy[0], xy[1]), pause)
	visitor := eval[string](t, tab, `localStorage.tt_v`)
	closeTab()

	type want struct{ typ, url, what string }
	wants := []want{
		{"pageview", "/ar/", "المتجر"},
		{"search", "/ar/", "شحن مجاني"},
		{"pageview", "/ar/search?q=شحن مجاني", "نتائج البحث"},
		{"pageview", "/ar/search?q=إرجاع", "نتائج البحث"},
		{"search", "/ar/search?q=إرجاع", "إرجاع"},
		{"pageview", "/ar/faq.html", "الأسئلة الشائعة"},
		{"search", "/ar/faq.html", "استرداد"},
		{"pageview", "/ro-RO/checkout", "Coș de cumpărături"},
		{"checkout_step", "/ro-RO/checkout", "1 coș 249.9 RON"},
		{"pageview", "/ar/faq.html?s=استرداد", "الأسئلة الشائعة"},
		{"chat_open", "/ar/faq.html?s=استرداد", "liveagent"},
	}
	trail(t, col, visitor, len(wants))
	// Let late duplicates (a beacon and its fetch) arrive: they must not
	// show up.
	time.Sleep(1500 * time.Millisecond)
	tps := trail(t, col, visitor, len(wants))
	var got []want
	for _, tp := range tps {
		w := want{typ: tp["type"].(string), url: readable(t, tp["url"])}
		switch w.typ {
		case "pageview":
			w.what, _ = tp["title"].(string)
		case "search":
			w.what, _ = tp["query"].(string)
		case "chat_open":
			w.what, _ = tp["widget"].(string)
		case "checkout_step":
			w.what = fmt.Sprintf("%v %v %v %v", tp["step"], tp["name"], tp["value"], tp["currency"])
		}
		got = append(got, w)
	}
	if !slices.Equal(got, wants) {
		var b strings.Builder
		for i := range max(len(got), len(wants)) {
			var g, w want
			if i < len(got) {
				g = got[i]
			}
			if i < len(wants) {
				w = wants[i]
			}
			mark := "  "
			if g != w {
				mark = "✗ "
			}
			fmt.Fprintf(&b, "%s%-14s %-28s %-20s   want %-14s %-28s %s\n", mark, g.typ, g.url, g.what, w.typ, w.url, w.what)
		}
		t.Fatalf("the trail is not what the visitor did:\n%s", b.String())
	}
	if tps[2]["referrer"] != tps[0]["url"] || tps[2]["channel"] != "internal" {
		t.Errorf("results page: referrer %v, channel %v; want the home page, internal", tps[2]["referrer"], tps[2]["channel"])
	}

	// The journey: stages through the locale prefixes, and its friction.
	req, _ := http.NewRequest("GET", col.URL+"/v1/sites/test/visitors/"+visitor+"/journey", nil)
	req.Header.Set("Authorization", "Bearer "+collectortest.ReadToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var j struct {
		Sessions []json.RawMessage
		Stages   []string
		Friction []string
	}
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		t.Fatal(err)
	}
	if len(j.Sessions) != 1 || !slices.Equal(j.Stages, []string{"explore", "ask", "buy", "ask"}) {
		t.Errorf("journey: %d sessions, stages %v; want 1 session, explore ask buy ask", len(j.Sessions), j.Stages)
	}
	if wantF := []string{"repeated_search", "search_then_chat", "help_then_chat", "checkout_abandoned"}; !slices.Equal(j.Friction, wantF) {
		t.Errorf("friction %v, want %v", j.Friction, wantF)
	}
}

// A search form whose results page has no snippet: the search still arrives
// (the pagehide beacon), after the page views. A fragment link is a page
// view (popstate).
func TestBrowserSearchSurvivesNavigation(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/t.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js.Tracker)
	})
	mux.HandleFunc("/help", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="ro"><head><meta charset="utf-8"><title>Ajutor</title>
<script defer data-site="test" data-api="`+col.URL+`" src="/t.js"></script></head><body>
<a id="returns" href="#retururi">Retururi</a>
<form role="search" action="/elsewhere"><input id="q" name="q"><button id="go">Caută</button></form>
<p id="retururi" style="margin-top:2000px">Retururi în 30 de zile</p></body></html>`)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Other</title><p id="done">no snippet here</p>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tab, closeTab := browser(t)
	defer closeTab()
	do(t, tab, chromedp.Navigate(srv.URL+"/help"), chromedp.WaitVisible("#go"), chromedp.Sleep(200*time.Millisecond),
		chromedp.Click("#returns"), chromedp.Sleep(200*time.Millisecond))
	visitor := eval[string](t, tab, `localStorage.tt_v`)
	do(t, tab, chromedp.SendKeys("#q", "retur în București"), chromedp.Click("#go"), chromedp.WaitVisible("#done"))
	tps := trail(t, col, visitor, 3)
	if len(tps) != 3 || tps[0]["type"] != "pageview" || readable(t, tps[1]["url"]) != "/help" || tps[1]["type"] != "pageview" ||
		!strings.HasSuffix(tps[1]["url"].(string), "/help#retururi") || tps[2]["type"] != "search" || tps[2]["query"] != "retur în București" {
		t.Fatalf("trail:\n%s\nwant page view /help, page view /help#retururi, search", summary(tps))
	}
}
