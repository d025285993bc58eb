package compat_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evanw/esbuild/pkg/api"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/browsertest"
	"github.com/touchtrail/touchtrail/internal/testwait"
)

// chrome is the package's one headless Chromium (internal/browsertest).
var chrome = browsertest.Browser{UA: chromeUA}

// browser returns a new tab of its own browser context, closed with the test.
func browser(t *testing.T) context.Context {
	tab, cancel := chrome.Tab(t)
	t.Cleanup(cancel)
	return tab
}

func stopBrowser() { chrome.Close() }

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatal(err)
	}
}

// page serves html at / and scripts by path, from another origin than the
// collector's.
func page(t *testing.T, html string, scripts map[string][]byte) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for path, body := range scripts {
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

// onlyVisitor returns the one visitor the site has seen: Plausible and
// Umami events are cookieless, their visitor derived by the collector.
func onlyVisitor(t *testing.T, col *collectortest.Collector, wantTouchpoints int) []map[string]any {
	t.Helper()
	var tps []map[string]any
	seen := false
	testwait.Until(8*time.Second, func() bool {
		var vs struct {
			Visitors []struct {
				Visitor string `json:"visitor"`
			} `json:"visitors"`
		}
		getJSON(t, col, "/v1/sites/test/visitors", &vs)
		if len(vs.Visitors) > 1 {
			t.Fatalf("%d visitors, want one: %+v", len(vs.Visitors), vs)
		}
		if len(vs.Visitors) == 0 {
			return false
		}
		var tr userTrail
		getJSON(t, col, "/v1/sites/test/visitors/"+vs.Visitors[0].Visitor+"/trail", &tr)
		seen, tps = true, tr.Touchpoints
		return len(tps) >= wantTouchpoints
	}) // the caller checks what arrived
	if !seen {
		t.Fatal("no visitor stored")
	}
	return tps
}

// plausibleBundle bundles the plausible-tracker npm package, as published,
// into a script that sets window.Plausible (what a site's bundler does).
func plausibleBundle(t *testing.T) []byte {
	t.Helper()
	dir := clientsDir(t)
	res := api.Build(api.BuildOptions{
		Stdin: &api.StdinOptions{
			Contents:   `import Plausible from 'plausible-tracker'; window.Plausible = Plausible;`,
			ResolveDir: dir,
		},
		Bundle: true, Format: api.FormatIIFE, Target: api.ES2017, Write: false,
	})
	if len(res.Errors) > 0 {
		t.Fatalf("bundling plausible-tracker: %v", res.Errors)
	}
	return res.OutputFiles[0].Contents
}

func TestPlausibleTrackerInChromium(t *testing.T) {
	col := start(t, nil)
	html := `<!doctype html><html><head><title>Shop</title><script src="/plausible.js"></script>
<script>
const p = Plausible({domain: 'shop.example', apiHost: '` + col.URL + `', trackLocalhost: true});
p.trackPageview();
function signup() { p.trackEvent('Signup', {props: {plan: 'pro'}}); }
function nextPage() { history.pushState({}, '', '/pricing?utm_source=news&utm_medium=email'); p.trackPageview(); }
</script></head><body>
<button id="signup" onclick="signup()">Sign up</button><button id="next" onclick="nextPage()">Pricing</button>
</body></html>`
	shop := page(t, html, map[string][]byte{"/plausible.js": plausibleBundle(t)})
	tab := browser(t)
	pause := chromedp.Sleep(150 * time.Millisecond)
	do(t, tab, chromedp.Navigate(shop.URL+"/shop"), chromedp.WaitVisible("#signup"), pause,
		chromedp.Click("#next"), pause, chromedp.Click("#signup"), pause)
	tps := onlyVisitor(t, col, 3)
	if got := summary(tps); got != "pageview url="+shop.URL+"/shop\npageview url="+shop.URL+"/pricing?utm_source=news&utm_medium=email\ncustom url="+shop.URL+"/pricing?utm_source=news&utm_medium=email name=Signup" {
		t.Fatalf("trail:\n%s", got)
	}
	if tps[2]["props"].(map[string]any)["plan"] != "pro" || tps[1]["channel"] != "email" || tps[0]["browser"] != "Chrome" {
		t.Errorf("props, channel or enrichment missing: %v", tps)
	}
}

func TestUmamiTrackerInChromium(t *testing.T) {
	col := start(t, nil)
	tracker, err := os.ReadFile(filepath.Join(clientsDir(t), "vendor", "umami-"+umamiVersion+".js"))
	if err != nil {
		t.Fatal(err)
	}
	html := `<!doctype html><html><head><title>Menu</title>
<script defer src="/umami.js" data-website-id="` + umamiWebsite + `" data-host-url="` + col.URL + `"></script>
</head><body>
<button id="signup" data-umami-event="Signup" data-umami-event-plan="pro">Sign up</button>
<a id="next" href="#" onclick="event.preventDefault(); history.pushState({}, '', '/pricing?utm_source=news')">Pricing</a>
</body></html>`
	shop := page(t, html, map[string][]byte{"/umami.js": tracker})
	tab := browser(t)
	do(t, tab, chromedp.Navigate(shop.URL+"/menu"), chromedp.WaitVisible("#signup"), chromedp.Sleep(300*time.Millisecond),
		chromedp.Click("#signup"), chromedp.Sleep(300*time.Millisecond),
		chromedp.Click("#next"), chromedp.Sleep(700*time.Millisecond)) // the tracker waits 300 ms after a route change
	tps := onlyVisitor(t, col, 3)
	want := strings.Join([]string{
		"pageview url=" + shop.URL + "/menu",
		"custom url=" + shop.URL + "/menu name=Signup",
		"pageview url=" + shop.URL + "/pricing?utm_source=news",
	}, "\n")
	if got := summary(tps); got != want {
		t.Fatalf("trail:\n%s\nwant\n%s", got, want)
	}
	if tps[0]["title"] != "Menu" || tps[1]["props"].(map[string]any)["plan"] != "pro" || tps[0]["browser"] != "Chrome" {
		t.Errorf("title, props or enrichment missing: %v", tps)
	}
}
