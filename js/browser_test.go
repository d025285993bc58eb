package js_test

// Real-browser tests: headless Chromium (Debian's chromium package) driven
// by chromedp loads pages that paste the snippet, and a real collector on
// loopback with a real Badger directory stores what it sends.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/browsertest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/js"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// chrome is the package's one headless Chromium (internal/browsertest).
var chrome = browsertest.Browser{UA: visitorUA, Extra: []chromedp.ExecAllocatorOption{chromedp.Flag("disable-quic", true)}}

// browser returns a new tab of its own browser context.
func browser(t *testing.T) (context.Context, context.CancelFunc) { return chrome.Tab(t) }

func TestMain(m *testing.M) {
	code := m.Run()
	chrome.Close()
	os.Exit(code)
}

// site serves a shop that pastes the snippet (attrs are extra data-
// attributes) from script: "/t.js", or "/t-chat.js" to count clicks on its
// chat button. The site serves both itself, so the page loads while the
// collector is down.
func site(t *testing.T, api, script, attrs string) *httptest.Server {
	t.Helper()
	html := `<!doctype html><html><head><title>Shop</title>
<script>window.touchtrail=window.touchtrail||function(){(touchtrail.q=touchtrail.q||[]).push(arguments)}</script>
<script defer data-site="test" data-api="` + api + `" ` + attrs + ` src="` + script + `"></script>
</head><body>
<a id="pricing" href="/pricing" onclick="event.preventDefault(); history.pushState({}, '', '/pricing'); document.title = 'Pricing'">Pricing</a>
<form id="search" role="search" onsubmit="event.preventDefault()"><input id="q" name="term"><button id="go">Search</button></form>
<button id="chat" data-touchtrail-chat="support">Chat with us</button>
<button id="step1" onclick="touchtrail('checkout_step', {step: 1, name: 'cart'})">Cart</button>
<button id="step2" onclick="touchtrail('checkout_step', {step: 2, name: 'shipping'})">Shipping</button>
<button id="step3" onclick="touchtrail('checkout_step', {step: 3, name: 'payment', value: 49.5, currency: 'EUR'})">Pay</button>
</body></html>`
	mux := http.NewServeMux()
	for path, body := range map[string][]byte{"/t.js": js.Tracker, "/t-chat.js": js.Chat} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(body)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// trail polls the collector's query API until the visitor's trail holds n
// touchpoints (or a few seconds pass) and returns it.
func trail(t *testing.T, col *collectortest.Collector, visitor string, n int) []map[string]any {
	t.Helper()
	var tr struct{ Touchpoints []map[string]any }
	testwait.Until(8*time.Second, func() bool {
		req, _ := http.NewRequest("GET", col.URL+"/v1/sites/test/visitors/"+visitor+"/trail", nil)
		req.Header.Set("Authorization", "Bearer "+collectortest.ReadToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		tr.Touchpoints = nil
		err = json.NewDecoder(resp.Body).Decode(&tr)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		return len(tr.Touchpoints) >= n
	}) // the caller checks what arrived
	return tr.Touchpoints
}

func summary(tps []map[string]any) string {
	var s []string
	for _, tp := range tps {
		x := tp["type"].(string)
		for _, k := range []string{"url", "query", "widget", "step", "score"} {
			if v, ok := tp[k]; ok {
				x += fmt.Sprintf(" %s=%v", k, v)
			}
		}
		s = append(s, x)
	}
	return strings.Join(s, "\n")
}

// The journey: land with a campaign → SPA route change → search form → chat
// → checkout steps 1, 2, 3 → feedback 2/5 → close the tab. The trail holds
// exactly those touchpoints, in that order, from a desktop Chrome.
func TestBrowserJourney(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	shop := site(t, col.URL, "/t-chat.js", "")
	tab, closeTab := browser(t)
	pause := chromedp.Sleep(60 * time.Millisecond) // real people are slower than this
	do(t, tab, chromedp.Navigate(shop.URL+"/shop?utm_source=news"), chromedp.WaitVisible("#pricing"), pause,
		chromedp.Click("#pricing"), pause,
		chromedp.SendKeys("#q", "returns policy"), chromedp.Click("#go"), pause,
		chromedp.Click("#chat"), pause,
		chromedp.Click("#step1"), pause, chromedp.Click("#step2"), pause, chromedp.Click("#step3"), pause)
	visitor := eval[string](t, tab, `localStorage.tt_v`)
	cookie := eval[string](t, tab, `document.cookie`)
	if len(visitor) != 32 || !strings.Contains(cookie, "tt_v="+visitor) {
		t.Fatalf("visitor %q, cookie %q: want the id in localStorage and the cookie", visitor, cookie)
	}
	// Feedback, then the tab closes at once: only the pagehide beacon can
	// deliver it (the batch timer has not fired).
	eval[any](t, tab, `touchtrail('feedback', {score: 2, scale: 5, comment: 'slow delivery'}), null`)
	closeTab()

	tps := trail(t, col, visitor, 8)
	want := []string{"pageview", "pageview", "search", "chat_open", "checkout_step", "checkout_step", "checkout_step", "feedback"}
	if len(tps) != len(want) {
		t.Fatalf("trail:\n%s\nwant %v", summary(tps), want)
	}
	for i, tp := range tps {
		if tp["type"] != want[i] {
			t.Fatalf("touchpoint %d is %v, want %s; trail:\n%s", i, tp["type"], want[i], summary(tps))
		}
		if tp["browser"] != "Chrome" || tp["device"] != "desktop" || tp["os"] != "Linux" {
			t.Errorf("touchpoint %d device %v %v %v, want Chrome desktop Linux", i, tp["browser"], tp["device"], tp["os"])
		}
	}
	first := tps[0]
	if !strings.HasSuffix(first["url"].(string), "/shop?utm_source=news") || first["utm_source"] != "news" {
		t.Errorf("first page view %v: want the campaign", first)
	}
	if !strings.HasSuffix(tps[1]["url"].(string), "/pricing") || tps[1]["referrer"] != first["url"] || tps[1]["title"] != "Pricing" {
		t.Errorf("SPA page view %v", tps[1])
	}
	if tps[2]["query"] != "returns policy" || tps[3]["widget"] != "support" {
		t.Errorf("search %v, chat %v", tps[2], tps[3])
	}
	for i, step := range []float64{1, 2, 3} {
		if tps[4+i]["step"] != step {
			t.Errorf("checkout touchpoint %d: step %v, want %v", 4+i, tps[4+i]["step"], step)
		}
	}
	if tps[6]["value"] != 49.5 || tps[6]["currency"] != "EUR" {
		t.Errorf("payment step %v", tps[6])
	}
	if fb := tps[7]; fb["score"] != 2.0 || fb["scale"] != 5.0 || fb["comment"] != "slow delivery" {
		t.Errorf("feedback %v", fb)
	}
}

// With the collector down, touchpoints wait in localStorage; after it is
// back and the page reloads they arrive, each exactly once.
func TestBrowserOfflineQueue(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	shop := site(t, col.URL, "/t-chat.js", "")
	tab, closeTab := browser(t)
	defer closeTab()
	do(t, tab, chromedp.Navigate(shop.URL+"/shop"), chromedp.WaitVisible("#chat"))
	visitor := eval[string](t, tab, `localStorage.tt_v`)
	if tps := trail(t, col, visitor, 1); len(tps) != 1 {
		t.Fatalf("first page view not delivered: %s", summary(tps))
	}
	col.Stop()
	do(t, tab, chromedp.Click("#chat"), chromedp.Click("#step1"))
	eval[any](t, tab, `touchtrail('newsletter_signup', {plan: 'weekly'}), null`)
	// The batch timer fires, the fetch fails, the batch waits in localStorage.
	queued := func() int { return eval[int](t, tab, `JSON.parse(localStorage.tt_q || '[]').length`) }
	if !testwait.Until(10*time.Second, func() bool { return queued() >= 3 }) {
		t.Fatalf("%d events in the offline queue, want the 3 touchpoints", queued())
	}
	col.Restart(t)
	do(t, tab, chromedp.Reload(), chromedp.WaitVisible("#chat"))
	tps := trail(t, col, visitor, 5)
	ids := map[string]int{}
	for _, tp := range tps {
		ids[tp["id"].(string)]++
	}
	if len(tps) != 5 || len(ids) != 5 {
		t.Fatalf("after the restart the trail is:\n%s\nwant page view, chat, step 1, custom, page view once each", summary(tps))
	}
	if tps[3]["type"] != "custom" || tps[3]["name"] != "newsletter_signup" {
		t.Errorf("custom event %v", tps[3])
	}
	// The queue empties once the collector confirms.
	if !testwait.Until(5*time.Second, func() bool { return queued() == 0 }) {
		t.Errorf("%d events still queued after delivery", queued())
	}
}

// With data-respect-dnt and Do-Not-Track (or GPC) on, no request leaves
// the page; without them the same page does send.
func TestBrowserDoNotTrack(t *testing.T) {
	var hits atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sink.Close()
	shop := site(t, sink.URL, "/t.js", "data-respect-dnt")
	for _, signal := range []string{"doNotTrack", "globalPrivacyControl"} {
		tab, closeTab := browser(t)
		value := `'1'`
		if signal == "globalPrivacyControl" {
			value = "true"
		}
		script := fmt.Sprintf(`Object.defineProperty(Navigator.prototype, %q, {get: () => %s})`, signal, value)
		do(t, tab, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
			return chromedp.Void{}, err
		})
		do(t, tab, chromedp.Navigate(shop.URL+"/shop?q=shoes"), chromedp.WaitVisible("#chat"),
			chromedp.Click("#chat"), chromedp.Click("#pricing"), chromedp.Sleep(1500*time.Millisecond))
		closeTab()
		time.Sleep(300 * time.Millisecond)
		if n := hits.Load(); n != 0 {
			t.Fatalf("%s on: %d requests reached the collector, want none", signal, n)
		}
	}
	// The control: the same page without the signal sends.
	tab, closeTab := browser(t)
	do(t, tab, chromedp.Navigate(shop.URL+"/shop"), chromedp.WaitVisible("#chat"), chromedp.Sleep(300*time.Millisecond))
	closeTab()
	if hits.Load() == 0 {
		t.Fatal("without Do-Not-Track the page sent nothing either: the test proves nothing")
	}
}

// Cookieless mode writes no cookie and no storage, and two page views of
// the same browser on the same day land in one trail.
func TestBrowserCookieless(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	shop := site(t, col.URL, "/t.js", `data-mode="cookieless"`)
	tab, closeTab := browser(t)
	defer closeTab()
	do(t, tab, chromedp.Navigate(shop.URL+"/first"), chromedp.WaitVisible("#chat"), chromedp.Sleep(200*time.Millisecond),
		chromedp.Navigate(shop.URL+"/second"), chromedp.WaitVisible("#chat"), chromedp.Sleep(200*time.Millisecond))
	if c := eval[string](t, tab, `document.cookie`); c != "" {
		t.Errorf("cookie written in cookieless mode: %q", c)
	}
	if n := eval[int](t, tab, `localStorage.length + sessionStorage.length`); n != 0 {
		t.Errorf("%d storage entries written in cookieless mode", n)
	}
	var visitors []store.VisitorDay
	testwait.Until(5*time.Second, func() bool {
		page, err := col.Store.Visitors(context.Background(), "test", store.VisitorQuery{})
		if err != nil {
			t.Fatal(err)
		}
		visitors = page.Visitors
		return len(visitors) == 1 && visitors[0].Count == 2
	})
	if len(visitors) != 1 || visitors[0].Count != 2 {
		t.Fatalf("visitors %+v: want one visitor with both page views", visitors)
	}
	tps := trail(t, col, visitors[0].Visitor.String(), 2)
	if len(tps) != 2 || !strings.HasSuffix(tps[0]["url"].(string), "/first") || !strings.HasSuffix(tps[1]["url"].(string), "/second") {
		t.Fatalf("cookieless trail:\n%s", summary(tps))
	}
}

// identify through the snippet, with the user_hash the site's backend
// computed: stored when it matches the site's identify secret, refused
// (and not stored) when it does not.
func TestBrowserIdentifyWithUserHash(t *testing.T) {
	const secret = "identify-secret-0123456789"
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		for i := range c.Sites {
			if c.Sites[i].ID == collectortest.Site {
				c.Sites[i].IdentifySecret = secret
			}
		}
	}})
	shop := site(t, col.URL, "/t.js", "")
	tab, closeTab := browser(t)
	do(t, tab, chromedp.Navigate(shop.URL+"/account"), chromedp.WaitVisible("#chat"))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("u-42"))
	good := hex.EncodeToString(m.Sum(nil))
	eval[any](t, tab, fmt.Sprintf(`touchtrail('identify', 'u-42', {user_hash: %q}), touchtrail('identify', 'u-666', {user_hash: %q}), null`, good, good))
	visitor := eval[string](t, tab, `localStorage.tt_v`)
	do(t, tab, chromedp.Sleep(1500*time.Millisecond))
	closeTab()
	trail(t, col, visitor, 2)
	time.Sleep(300 * time.Millisecond) // a refused identify would have arrived by now
	tps := trail(t, col, visitor, 2)
	if len(tps) != 2 || tps[1]["type"] != "identify" || tps[1]["user"] != "u-42" {
		t.Fatalf("trail:\n%s\nwant the page view and the verified identify of u-42 only", summary(tps))
	}
}

// visitorUA is the user agent the test browser sends: desktop Chrome on
// Linux, the version of Debian's Chromium.
const visitorUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
