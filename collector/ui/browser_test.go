package ui_test

// Real-browser tests: headless Chromium (Debian's chromium package) driven
// by chromedp signs in and opens every page in English, Arabic and
// Romanian at 1280 and 375 px, against a real collector on loopback with a
// real Badger directory. Screenshots go to testout/ (not committed) for a
// person to look at; TOUCHTRAIL_SCREENSHOTS=1 also refreshes the two in
// screenshots/ that the README shows.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/browsertest"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// chrome is the package's one headless Chromium (internal/browsertest).
var chrome = browsertest.Browser{UA: visitorUA, Extra: []chromedp.ExecAllocatorOption{chromedp.Flag("hide-scrollbars", true)}}

// browser returns a new tab of its own browser context.
func browser(t *testing.T) (context.Context, context.CancelFunc) { return chrome.Tab(t) }

func TestMain(m *testing.M) {
	code := m.Run()
	chrome.Close()
	os.Exit(code)
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
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

// console collects the tab's console messages of type error and the
// uncaught exceptions (CSP violations and failed loads are errors).
type console struct {
	mu   sync.Mutex
	errs []string
}

func watchConsole(ctx context.Context) *console {
	c := &console{}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				c.mu.Lock()
				c.errs = append(c.errs, m.String()+" at "+m.URL)
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *console) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.errs
	c.errs = nil
	return e
}

// screenshot saves the viewport (or the full page) as PNG, scaled. The
// pages test saves viewports (full pages with TOUCHTRAIL_SCREENSHOTS=1).
func screenshot(t *testing.T, ctx context.Context, path string, full bool, scale float64) {
	t.Helper()
	params := page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng, CaptureBeyondViewport: &full}
	if scale != 1 || full {
		w := eval[float64](t, ctx, "document.documentElement.scrollWidth")
		h := eval[float64](t, ctx, "window.innerHeight")
		if full {
			h = eval[float64](t, ctx, "document.documentElement.scrollHeight")
		}
		params.Clip = &page.Viewport{Width: w, Height: h, Scale: scale}
	}
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	b, err := chromedp.Run(c, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, tg, page.CaptureScreenshot, params)
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	})
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A reader signs in and sees every page in the three languages, wide and
// narrow: no console error, nothing wider than the window, Arabic right to
// left with the first stage on the right, every chart named and described,
// with a table beside it.
func TestBrowserPages(t *testing.T) {
	col, visitors, truth := shop(t, 600, collectortest.Options{})
	tab, closeTab := browser(t)
	defer closeTab()
	con := watchConsole(tab)

	// Sign in through the form; the token never shows in an address.
	out := filepath.Join("testout", "screenshots")
	do(t, tab, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(col.URL+"/ui/s/test/friction"), chromedp.WaitVisible("#token"))
	screenshot(t, tab, filepath.Join(out, "signin-en-1280.png"), false, 1)
	do(t, tab, chromedp.SendKeys("#token", collectortest.ReadToken), chromedp.Submit("#token"), chromedp.WaitVisible("#table-friction"))
	if u := eval[string](t, tab, "location.href"); strings.Contains(u, collectortest.ReadToken) || !strings.HasSuffix(u, "/ui/s/test/friction") {
		t.Fatalf("after sign-in at %s, want the page asked for and no token", u)
	}
	if c := eval[string](t, tab, "document.cookie"); c != "" && strings.Contains(c, "tt_session") {
		t.Fatalf("the session cookie is readable by script: %q", c)
	}

	// Keyboard: the first Tab reaches the skip link, shown on focus; Enter
	// follows it; further Tabs walk the navigation and the filters.
	do(t, tab, chromedp.Navigate(col.URL+"/ui/s/test/"), chromedp.WaitVisible("#table-map"), chromedp.KeyEvent("\t"))
	if got := eval[string](t, tab, `document.activeElement.className + ' ' + (document.activeElement.getBoundingClientRect().left >= 0)`); got != "skip true" {
		t.Errorf("first Tab: focus on %q, want the visible skip link", got)
	}
	do(t, tab, chromedp.KeyEvent("\r"))
	if h := eval[string](t, tab, "location.hash"); h != "#main" {
		t.Errorf("Enter on the skip link: at %q", h)
	}
	do(t, tab, chromedp.Navigate(col.URL+"/ui/s/test/"), chromedp.WaitVisible("#table-map"))
	var reached []string
	for range 22 { // a date input takes four Tabs
		do(t, tab, chromedp.KeyEvent("\t"))
		reached = append(reached, eval[string](t, tab, "document.activeElement.tagName + (document.activeElement.name ? ':' + document.activeElement.name : '')"))
	}
	for _, want := range []string{"A", "INPUT:from", "INPUT:to", "SELECT:segment", "SELECT:channel", "BUTTON"} {
		if !slices.Contains(reached, want) {
			t.Errorf("Tab never reaches %s: %v", want, reached)
		}
	}

	var rich journeytest.Visitor // a visitor with several friction signals
	for _, v := range visitors {
		if len(truth.VisitorSignals[v.ID]) > len(truth.VisitorSignals[rich.ID]) {
			rich = v
		}
	}
	var user string
	for u := range truth.Users {
		if user == "" || u < user {
			user = u
		}
	}
	pages := []struct{ name, path, ready string }{
		{"map", "/ui/s/test/", "#table-map"},
		{"funnel", "/ui/s/test/funnel", "#table-funnel"},
		{"paths", "/ui/s/test/paths", "#table-paths"},
		{"friction", "/ui/s/test/friction", "#table-friction"},
		{"visitors", "/ui/s/test/visitors", "#table-visitors"},
		{"timeline", "/ui/s/test/visitors/" + rich.ID.String(), ".sessions"},
		{"user", "/ui/s/test/user?id=" + user, ".sessions"},
	}
	for _, lang := range []string{"en", "ar", "ro"} {
		for _, width := range []int64{1280, 375} {
			for _, p := range pages {
				name := fmt.Sprintf("%s-%s-%d", p.name, lang, width)
				sep := "?"
				if strings.Contains(p.path, "?") {
					sep = "&"
				}
				do(t, tab, chromedp.EmulateViewport(width, 900), chromedp.Navigate(col.URL+p.path+sep+"lang="+lang), chromedp.WaitVisible(p.ready))
				c := eval[pageChecks](t, tab, checksJS)
				wantDir := map[string]string{"en": "ltr", "ar": "rtl", "ro": "ltr"}[lang]
				if c.Dir != wantDir || c.Lang != lang {
					t.Errorf("%s: dir %q lang %q, want %q %q", name, c.Dir, c.Lang, wantDir, lang)
				}
				if c.Over > 0 {
					t.Errorf("%s: the page is %d px wider than the window", name, c.Over)
				}
				if len(c.Untitled) > 0 {
					t.Errorf("%s: charts without a text alternative: %v", name, c.Untitled)
				}
				if c.Charts > 0 && c.Tables == 0 {
					t.Errorf("%s: %d charts and no data table", name, c.Charts)
				}
				if c.Unlabelled > 0 {
					t.Errorf("%s: %d form controls without a label", name, c.Unlabelled)
				}
				if len(c.LowContrast) > 0 {
					t.Errorf("%s: text below WCAG AA contrast: %v", name, c.LowContrast)
				}
				if p.name == "map" && width == 1280 && (lang == "ar") != (c.DiscoverRight > 0) {
					t.Errorf("%s: discover is %.0f px right of engage; the first stage belongs on the %s", name, c.DiscoverRight,
						map[bool]string{true: "right", false: "left"}[lang == "ar"])
				}
				if p.name == "paths" && lang == "ar" {
					// A URL path inside Arabic text keeps its order: "/pricing",
					// not "pricing/".
					if d := eval[float64](t, tab, `(() => {
						const w = document.createTreeWalker(document.querySelector('#table-paths'), NodeFilter.SHOW_TEXT);
						for (let n; (n = w.nextNode());) {
							const i = n.textContent.indexOf('/pricing');
							if (i < 0) continue;
							const at = k => { const r = document.createRange(); r.setStart(n, k); r.setEnd(n, k + 1); return r.getBoundingClientRect().left; };
							return at(i + 1) - at(i);
						}
						return 0;
					})()`); d <= 0 {
						t.Errorf("%s: /pricing is drawn right to left (p %.0f px from the slash)", name, d)
					}
				}
				screenshot(t, tab, filepath.Join(out, name+".png"), os.Getenv("TOUCHTRAIL_SCREENSHOTS") == "1", 1)
				if errs := con.take(); len(errs) > 0 {
					t.Errorf("%s: console errors: %v", name, errs)
				}
			}
		}
	}
	if os.Getenv("TOUCHTRAIL_SCREENSHOTS") == "1" {
		for _, p := range []struct {
			file, path, ready string
			height            int64
		}{
			{"map.png", "/ui/s/test/?lang=en", "#table-map", 1180},
			{"timeline.png", pages[5].path + "?lang=en", ".sessions", 900},
		} {
			do(t, tab, chromedp.EmulateViewport(1280, p.height), chromedp.Navigate(col.URL+p.path), chromedp.WaitVisible(p.ready))
			screenshot(t, tab, filepath.Join("screenshots", p.file), false, 0.6)
		}
	}
	_ = journey.StageCount
}

// pageChecks is what checksJS reports of a page.
type pageChecks struct {
	Dir, Lang     string
	Over          int      // px the document is wider than the window
	Untitled      []string // charts without role=img, a title and a description
	Charts        int
	Tables        int
	Unlabelled    int      // form controls without a label
	LowContrast   []string // contrastJS
	DiscoverRight float64  // px the discover column lies right of engage's
}

// checksJS measures a page in one round trip.
const checksJS = `(() => {
	const stage = id => document.getElementById(id)?.getBoundingClientRect().left || 0;
	return {
		Dir: document.documentElement.dir, Lang: document.documentElement.lang,
		Over: document.documentElement.scrollWidth - window.innerWidth,
		Untitled: [...document.querySelectorAll('svg.chart')].filter(s => {
			const ids = (s.getAttribute('aria-labelledby') || '').split(' ');
			return s.getAttribute('role') !== 'img' || ids.length < 2 ||
				!ids.every(id => (document.getElementById(id)?.textContent || '').trim()) || s.querySelector(':scope > title') === null;
		}).map(s => s.id),
		Charts: document.querySelectorAll('svg.chart').length,
		Tables: document.querySelectorAll('table').length,
		Unlabelled: [...document.querySelectorAll('input:not([type=hidden]), select')].filter(e => !e.labels || e.labels.length === 0).length,
		LowContrast: ` + contrastJS + `,
		DiscoverRight: stage('stage-discover') - stage('stage-engage'),
	};
})()`

// contrastJS lists the visible texts whose contrast with their background
// is below WCAG AA: 4.5:1, or 3:1 for large text; chart texts are checked
// against the white they are drawn on.
const contrastJS = `(() => {
	const lum = c => {
		const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map(v => {
			v /= 255;
			return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
		});
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
	const bg = el => {
		for (let e = el; e; e = e.parentElement) {
			const a = getComputedStyle(e).backgroundColor.match(/[\d.]+/g);
			if (a && (a.length < 4 || +a[3] > 0.5)) return getComputedStyle(e).backgroundColor;
		}
		return 'rgb(255, 255, 255)';
	};
	const low = [];
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n; (n = walk.nextNode());) {
		const el = n.parentElement;
		if (!n.textContent.trim() || el.closest('svg') || el.closest('.skip') || el.getClientRects().length === 0) continue;
		const cs = getComputedStyle(el);
		const size = parseFloat(cs.fontSize), large = size >= 24 || (size >= 18.66 && +cs.fontWeight >= 700);
		const r = ratio(cs.color, bg(el));
		if (r < (large ? 3 : 4.5)) low.push(n.textContent.trim().slice(0, 30) + ' ' + r.toFixed(2));
	}
	for (const t of document.querySelectorAll('svg.chart text')) {
		const r = ratio(getComputedStyle(t).fill, 'rgb(255, 255, 255)');
		if (r < 4.5) low.push('chart: ' + t.textContent.slice(0, 30) + ' ' + r.toFixed(2));
	}
	return low;
})()`

// An admin erases a visitor in the browser: the button, the confirmation,
// the form with its CSRF token under SameSite=Strict, and the notice.
func TestBrowserErase(t *testing.T) {
	col, visitors, _ := shop(t, 20, collectortest.Options{})
	v := visitors[2].ID.String()
	tab, closeTab := browser(t)
	defer closeTab()
	con := watchConsole(tab)
	do(t, tab, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(col.URL+"/ui/s/test/visitors/"+v), chromedp.WaitVisible("#token"),
		chromedp.SendKeys("#token", collectortest.AdminToken), chromedp.Submit("#token"), chromedp.WaitVisible(".sessions"),
		chromedp.Click("a.danger"), chromedp.WaitVisible("button.danger"), chromedp.Click("button.danger"), chromedp.WaitVisible("#table-visitors"))
	if got := eval[string](t, tab, "document.querySelector('.notice').textContent"); got != "Visitor "+v+" was erased." {
		t.Fatalf("after erasing: notice %q", got)
	}
	if n := eval[int](t, tab, "document.querySelectorAll('tr[data-visitor=\""+v+"\"]').length"); n != 0 {
		t.Error("the erased visitor is still among the recent visitors")
	}
	do(t, tab, chromedp.Navigate(col.URL+"/ui/s/test/visitors/"+v), chromedp.WaitVisible("h1"))
	if h := eval[string](t, tab, "document.querySelector('h1').textContent"); h != "Something went wrong" {
		t.Errorf("the erased visitor's timeline: %q", h)
	}
	for _, e := range con.take() {
		if !strings.Contains(e, "404") { // the erased visitor's page is a 404, which Chromium logs
			t.Errorf("console error: %s", e)
		}
	}
}

// The console watcher hears what the pages test says is absent: a CSP
// violation (an image from elsewhere) is a console error.
func TestBrowserHearsCSPViolations(t *testing.T) {
	col, _, _ := shop(t, 5, collectortest.Options{})
	tab, closeTab := browser(t)
	defer closeTab()
	con := watchConsole(tab)
	do(t, tab, chromedp.Navigate(col.URL+"/ui/signin"), chromedp.WaitVisible("#token"))
	if errs := con.take(); len(errs) > 0 {
		t.Fatalf("sign-in page: console errors %v", errs)
	}
	eval[bool](t, tab, `document.body.insertAdjacentHTML('beforeend', '<img src="http://127.0.0.1:9/x.png">'); true`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range con.take() {
			if strings.Contains(e, "Content Security Policy") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no console error for an image the CSP forbids")
}

// visitorUA is the user agent the test browser sends: desktop Chrome on
// Linux, the version of Debian's Chromium.
const visitorUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
