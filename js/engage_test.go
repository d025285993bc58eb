package js_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
)

// engageSite serves pages that load the tracker and t-engage.js from the
// collector: "/" (tall: 4,000 px) and "/next". The first notes in
// localStorage, by its own clock, when "/" was ready (the deferred scripts
// have run), first hidden, first visible again and left: the times the
// test measures.
func engageSite(t *testing.T, col string) *httptest.Server {
	t.Helper()
	head := `<!doctype html><html><head><title>Article</title>
<script defer src="` + col + `/t-engage.js"></script>
<script defer data-site="test" src="` + col + `/t.js"></script></head>`
	marks := `<script>
var mark = (k) => localStorage['t_' + k] || (localStorage['t_' + k] = performance.timeOrigin + performance.now());
document.addEventListener('DOMContentLoaded', () => mark('ready'));
document.addEventListener('visibilitychange', () => mark(document.hidden ? 'hidden' : 'visible'));
addEventListener('pagehide', () => mark('left'));
</script>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/":
			w.Write([]byte(head + marks + `<body style="margin:0"><div id="top" style="height:4000px">An article.</div></body></html>`))
		case "/next":
			w.Write([]byte(head + `<body><p id="next">Next.</p></body></html>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// windowState minimizes or restores the tab's window: a minimized window's
// page is hidden (document.hidden), as a background tab's is.
func windowState(state cdpbrowser.WindowState) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		w, err := cdp.Call(ctx, tg, cdpbrowser.GetWindowForTarget, cdpbrowser.GetWindowForTargetParams{})
		if err != nil {
			return chromedp.Void{}, err
		}
		_, err = cdp.Call(ctx, tg, cdpbrowser.SetWindowBounds, cdpbrowser.SetWindowBoundsParams{WindowID: w.WindowID, Bounds: &cdpbrowser.Bounds{WindowState: state}})
		return chromedp.Void{}, err
	}
}

// engagements returns the engagement touchpoints of the visitor's trail
// once n have arrived, with the types of the whole trail.
func engagements(t *testing.T, col *collectortest.Collector, visitor string, n int) (ms []float64, scroll []int, types []string) {
	t.Helper()
	testwait.Until(8*time.Second, func() bool {
		ms, scroll, types = nil, nil, nil
		for _, tp := range trail(t, col, visitor, 0) {
			types = append(types, tp["type"].(string))
			if tp["type"] != "engagement" {
				continue
			}
			p := tp["props"].(map[string]any)
			m, _ := strconv.ParseFloat(p["engaged_ms"].(string), 64)
			s, _ := strconv.Atoi(p["scroll"].(string))
			ms, scroll = append(ms, m), append(scroll, s)
		}
		return len(ms) >= n
	}) // the caller checks what arrived
	return
}

func within10(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.1*want {
		t.Errorf("%s: %.0f ms engaged, want %.0f ms ± 10 %%", what, got, want)
	} else {
		t.Logf("%s: %.0f ms engaged for %.0f ms measured (%+.1f %%)", what, got, want, 100*(got-want)/want)
	}
}

// A page kept visible for a measured time, then left, reports that time
// within 10 %, in one engagement touchpoint right after its page view; the
// scroll depth is the scrolled position.
func TestEngagementVisibleTimeAndScroll(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	srv := engageSite(t, col.URL)
	tab, cancel := browser(t)
	defer cancel()
	do(t, tab, chromedp.EmulateViewport(1000, 500), chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible("#top"),
		chromedp.Sleep(1500*time.Millisecond))
	// Scrolling is activity too, and the depth is where the window's
	// bottom got to: (1500 + 500) / 4000.
	eval[any](t, tab, `window.scrollTo(0, 1500), 0`)
	do(t, tab, chromedp.Sleep(1500*time.Millisecond))
	depth := eval[float64](t, tab, `Math.round((scrollY + innerHeight) * 100 / document.documentElement.scrollHeight)`)
	visitor := eval[string](t, tab, `localStorage.tt_v`)
	do(t, tab, chromedp.Navigate(srv.URL+"/next"), chromedp.WaitVisible("#next"))
	start, end := eval[float64](t, tab, `+localStorage.t_ready`), eval[float64](t, tab, `+localStorage.t_left`)
	ms, scroll, types := engagements(t, col, visitor, 1)
	if len(ms) != 1 {
		t.Fatalf("%d engagement touchpoints, want 1: trail %v", len(ms), types)
	}
	if len(types) < 3 || types[0] != "pageview" || types[1] != "engagement" || types[2] != "pageview" {
		t.Errorf("trail %v: want the engagement right after its page view", types)
	}
	within10(t, "visible page", ms[0], end-start)
	if depth != 50 || float64(scroll[0]) != depth {
		t.Errorf("scroll %d%%, want the scrolled position %.0f%% (50)", scroll[0], depth)
	}
}

// Time in a hidden (minimized) window adds nothing: visible 1.5 s, hidden
// 3 s, visible 1 s, then left. Hiding reports what was seen so far; the
// report on leaving holds the visible time only.
func TestEngagementHiddenAddsNothing(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	srv := engageSite(t, col.URL)
	tab, cancel := browser(t)
	defer cancel()
	do(t, tab, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible("#top"))
	visitor := eval[string](t, tab, `localStorage.tt_v`)
	do(t, tab, chromedp.Sleep(1500*time.Millisecond), windowState(cdpbrowser.WindowStateMinimized))
	if !eval[bool](t, tab, `document.hidden`) {
		t.Fatal("the minimized window's page is not hidden")
	}
	do(t, tab, chromedp.Sleep(3*time.Second), windowState(cdpbrowser.WindowStateNormal), chromedp.Sleep(time.Second))
	do(t, tab, chromedp.Navigate(srv.URL+"/next"), chromedp.WaitVisible("#next"))
	at := func(k string) float64 { return eval[float64](t, tab, `+localStorage.t_`+k) }
	t0, t1, t2, t3 := at("ready"), at("hidden"), at("visible"), at("left")
	if t2-t1 < 2900 {
		t.Fatalf("hidden for %.0f ms only", t2-t1)
	}
	ms, _, types := engagements(t, col, visitor, 2)
	if len(ms) != 2 {
		t.Fatalf("%d engagement touchpoints, want 2 (hidden, left): trail %v", len(ms), types)
	}
	within10(t, "when hidden", ms[0], t1-t0)
	within10(t, "when left", ms[1], (t1-t0)+(t3-t2))
}
