package js_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/js"
)

// feedbackSite serves two pages that load the tracker and t-feedback.js: an
// English checkout whose "Place order" button asks for a 1–5 rating when
// clicked, and an Arabic FAQ article (right to left) whose end, when
// scrolled to, asks whether it helped — each prompt in the page's words.
func feedbackSite(t *testing.T, api, trackerAttrs string) *httptest.Server {
	t.Helper()
	head := `<script>window.touchtrail=window.touchtrail||function(){(touchtrail.q=touchtrail.q||[]).push(arguments)}</script>
<script defer data-site="test" data-api="` + api + `" ` + trackerAttrs + ` src="/t.js"></script>`
	// The checkout page is a support page too: it loads t-chat.js, which
	// knows the ticket type.
	chatHead := strings.Replace(head, `src="/t.js"`, `src="/t-chat.js"`, 1)
	pages := map[string]string{
		"/checkout": `<!doctype html><html lang="en"><head><title>Checkout</title>` + chatHead + `
<script defer src="/t-feedback.js" data-question="How was your checkout?" data-thanks="Thanks for telling us!" data-of="out of"></script>
</head><body><h1>Checkout</h1>
<button id="place" data-touchtrail-feedback="checkout" data-touchtrail-feedback-on="click"
  onclick="touchtrail('checkout_step', {step: 3, name: 'payment'})">Place order</button></body></html>`,
		"/ar/faq/returns": `<!doctype html><html lang="ar" dir="rtl"><head><title>الإرجاع</title>` + head + `
<script defer src="/t-feedback.js" data-helpful="هل كانت هذه المقالة مفيدة؟" data-yes="نعم" data-no="لا" data-thanks="شكرًا لك" data-close="إغلاق"></script>
</head><body><h1>سياسة الإرجاع</h1><article><p style="height:2400px">يمكنك إرجاع المنتجات خلال ثلاثين يومًا.</p>
<p id="end" data-touchtrail-feedback="faq" data-touchtrail-feedback-kind="helpful" data-touchtrail-feedback-on="view">—</p></article></body></html>`,
	}
	mux := http.NewServeMux()
	for path, body := range map[string][]byte{"/t.js": js.Tracker, "/t-chat.js": js.Chat, "/t-feedback.js": js.Feedback} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(body)
		})
	}
	for path, html := range pages {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, html)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const dialog = `document.querySelector('[role=dialog]')`

// rawKey presses a key as a keyboard does: a raw key down (no text), which
// is what moves the focus on Tab.
func rawKey(key string, code int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: typ, Key: key, Code: key,
				WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code}); err != nil {
				return err
			}
		}
		return nil
	})
}

var tabKey = rawKey("Tab", 9)

// The prompt appears at the configured moment and not before, is used with
// the keyboard alone, records one feedback in the visitor's trail with the
// touchpoint it follows, and is not shown again; in Arabic it speaks the
// page's words and sits on the left.
func TestBrowserFeedbackPrompt(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	shop := feedbackSite(t, col.URL, "")
	tab, closeTab := browser(t)
	defer closeTab()

	// Checkout: nothing until the order is placed.
	do(t, tab, chromedp.Navigate(shop.URL+"/checkout"), chromedp.WaitVisible("#place"), chromedp.Sleep(1200*time.Millisecond))
	if eval[bool](t, tab, dialog+` != null`) {
		t.Fatal("the click prompt is shown before the click")
	}
	do(t, tab, chromedp.Click("#place"), chromedp.WaitVisible(`[role=dialog]`))
	if q := eval[string](t, tab, `document.getElementById(`+dialog+`.getAttribute('aria-labelledby')).textContent`); q != "How was your checkout?" {
		t.Errorf("the dialog is labelled %q", q)
	}
	if l := eval[string](t, tab, `document.activeElement.getAttribute('aria-label')`); l != "1 out of 5" {
		t.Errorf("focus on %q, want the first rating", l)
	}
	// Keyboard only: three tabs to "4", Enter.
	do(t, tab, tabKey, tabKey, tabKey)
	if l := eval[string](t, tab, `document.activeElement.textContent`); l != "4" {
		t.Fatalf("after three tabs the focus is on %q", l)
	}
	do(t, tab, chromedp.KeyEvent(kb.Enter), chromedp.Sleep(100*time.Millisecond))
	if s := eval[string](t, tab, `document.querySelector('[role=status]').textContent`); s != "Thanks for telling us!" {
		t.Errorf("after rating the prompt says %q", s)
	}
	if n := eval[int](t, tab, `document.querySelectorAll('[role=dialog] button').length`); n != 1 {
		t.Errorf("%d buttons left after rating, want the close button only", n)
	}
	visitor := eval[string](t, tab, `localStorage.tt_v`)
	// The page's own contact form reports a ticket through the snippet's API.
	eval[any](t, tab, `touchtrail('ticket', {ticket: 'WEB-7', status: 'opened', ticket_channel: 'form', subject: 'Missing parcel'}), null`)

	// Not again: another page view, another click.
	do(t, tab, chromedp.Navigate(shop.URL+"/checkout"), chromedp.WaitVisible("#place"), chromedp.Click("#place"), chromedp.Sleep(1500*time.Millisecond))
	if eval[bool](t, tab, dialog+` != null`) {
		t.Fatal("the prompt is shown again within its period")
	}
	tps := trail(t, col, visitor, 6)
	var fbs []map[string]any
	for _, tp := range tps {
		if tp["type"] == "feedback" {
			fbs = append(fbs, tp)
		}
	}
	if len(fbs) != 1 {
		t.Fatalf("%d feedback touchpoints, want 1; trail:\n%s", len(fbs), summary(tps))
	}
	var ticket map[string]any
	for _, tp := range tps {
		if tp["type"] == "ticket" {
			ticket = tp
		}
	}
	if ticket == nil || ticket["ticket"] != "WEB-7" || ticket["status"] != "opened" || ticket["ticket_channel"] != "form" || ticket["subject"] != "Missing parcel" {
		t.Errorf("the page's ticket: %v", ticket)
	}
	props, _ := fbs[0]["props"].(map[string]any)
	if fbs[0]["score"] != 4.0 || fbs[0]["scale"] != 5.0 || props["touchpoint"] != "checkout" || props["prompt"] != "csat" ||
		!strings.HasSuffix(fbs[0]["url"].(string), "/checkout") {
		t.Errorf("feedback %v", fbs[0])
	}

	// Arabic, right to left, a fresh visitor: shown when the article's end
	// is scrolled to; answered "no" by keyboard.
	ar, closeAr := browser(t)
	defer closeAr()
	do(t, ar, chromedp.Navigate(shop.URL+"/ar/faq/returns"), chromedp.WaitVisible("h1"), chromedp.Sleep(1200*time.Millisecond))
	if eval[bool](t, ar, dialog+` != null`) {
		t.Fatal("the view prompt is shown before its marker is seen")
	}
	do(t, ar, chromedp.ScrollIntoView("#end"), chromedp.WaitVisible(`[role=dialog]`))
	if q := eval[string](t, ar, dialog+`.querySelector('p').textContent`); q != "هل كانت هذه المقالة مفيدة؟" {
		t.Errorf("the Arabic prompt asks %q", q)
	}
	if dir := eval[string](t, ar, `getComputedStyle(`+dialog+`).direction`); dir != "rtl" {
		t.Errorf("the prompt's direction is %q", dir)
	}
	if left := eval[bool](t, ar, dialog+`.getBoundingClientRect().right < innerWidth/2`); !left {
		t.Errorf("in a right-to-left page the prompt is not on the left: %v", eval[any](t, ar, `JSON.stringify(`+dialog+`.getBoundingClientRect())`))
	}
	if l := eval[string](t, ar, `document.querySelector('[role=dialog] [aria-label]').getAttribute('aria-label')`); l != "إغلاق" {
		t.Errorf("the close button is named %q", l)
	}
	do(t, ar, tabKey) // نعم → لا
	if l := eval[string](t, ar, `document.activeElement.textContent`); l != "لا" {
		t.Fatalf("focus on %q, want لا", l)
	}
	do(t, ar, chromedp.KeyEvent(kb.Enter), chromedp.Sleep(100*time.Millisecond))
	arVisitor := eval[string](t, ar, `localStorage.tt_v`)
	do(t, ar, chromedp.Navigate(shop.URL+"/ar/faq/returns"), chromedp.WaitVisible("h1"), chromedp.ScrollIntoView("#end"), chromedp.Sleep(1200*time.Millisecond))
	if eval[bool](t, ar, dialog+` != null`) {
		t.Fatal("the Arabic prompt is shown again")
	}
	tps = trail(t, col, arVisitor, 3)
	fbs = nil
	for _, tp := range tps {
		if tp["type"] == "feedback" {
			fbs = append(fbs, tp)
		}
	}
	if len(fbs) != 1 {
		t.Fatalf("%d feedback touchpoints in Arabic, want 1; trail:\n%s", len(fbs), summary(tps))
	}
	props, _ = fbs[0]["props"].(map[string]any)
	if fbs[0]["score"] != 0.0 || fbs[0]["scale"] != 1.0 || props["touchpoint"] != "faq" || props["prompt"] != "helpful" {
		t.Errorf("Arabic feedback %v", fbs[0])
	}
}

// Under Do-Not-Track or Global Privacy Control, on a site that respects
// them, no prompt is ever shown (and nothing is sent); the control shows it.
func TestBrowserFeedbackRespectsDNT(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	shop := feedbackSite(t, col.URL, "data-respect-dnt")
	for _, signal := range []string{"doNotTrack", "globalPrivacyControl", ""} {
		tab, closeTab := browser(t)
		if signal != "" {
			value := `'1'`
			if signal == "globalPrivacyControl" {
				value = "true"
			}
			script := fmt.Sprintf(`Object.defineProperty(Navigator.prototype, %q, {get: () => %s})`, signal, value)
			do(t, tab, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
				_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
				return chromedp.Void{}, err
			})
		}
		do(t, tab, chromedp.Navigate(shop.URL+"/checkout"), chromedp.WaitVisible("#place"), chromedp.Click("#place"), chromedp.Sleep(400*time.Millisecond))
		shown := eval[bool](t, tab, dialog+` != null`)
		if shown != (signal == "") {
			t.Errorf("%q: prompt shown %v", signal, shown)
		}
		if shown { // Escape dismisses it
			do(t, tab, rawKey("Escape", 27))
			if eval[bool](t, tab, dialog+` != null`) {
				t.Error("Escape does not close the prompt")
			}
		}
		closeTab()
	}
}

// On a cookieless site the prompt keeps nothing in the browser.
func TestBrowserFeedbackCookieless(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	shop := feedbackSite(t, col.URL, `data-mode="cookieless"`)
	tab, closeTab := browser(t)
	defer closeTab()
	do(t, tab, chromedp.Navigate(shop.URL+"/checkout"), chromedp.WaitVisible("#place"), chromedp.Click("#place"), chromedp.WaitVisible(`[role=dialog]`),
		tabKey, chromedp.KeyEvent(kb.Enter), chromedp.Sleep(100*time.Millisecond))
	if n := eval[int](t, tab, `localStorage.length`); n != 0 {
		t.Errorf("cookieless: %d localStorage keys: %v", n, eval[any](t, tab, `Object.keys(localStorage)`))
	}
	if c := eval[string](t, tab, `document.cookie`); c != "" {
		t.Errorf("cookieless: cookie %q", c)
	}
}
