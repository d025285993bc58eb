package sdk_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/sdk"
)

// A browser's visitor id from the snippet's cookie and a server-side
// checkout step land in one trail; the middleware records HTML page views
// only.
func TestCookieStitchesServerTouchpoints(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := newClient(t, col.URL, nil)
	const browserVisitor = "5f0c3a1e9b2d4c6e8f0a1b2c3d4e5f60"
	html := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/checkout/done", func(w http.ResponseWriter, r *http.Request) {
		if err := c.CheckoutStep(sdk.VisitorID(r), sdk.Step{Step: 3, Name: "order placed", Value: 99.5, Currency: "EUR"}); err != nil {
			t.Error(err)
		}
		html(w, "<h1>Thank you</h1>")
	})
	mux.HandleFunc("/app.css", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "body{}") })
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/checkout/done", http.StatusFound) })
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		html(w, "<h1>Not found</h1>")
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"ok":true}`) })
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) { html(w, "<p>sent</p>") })
	app := httptest.NewServer(sdk.Middleware(c, mux))
	defer app.Close()
	get := func(method, path string, cookie bool) {
		t.Helper()
		req, _ := http.NewRequest(method, app.URL+path, nil)
		if cookie {
			req.AddCookie(&http.Cookie{Name: sdk.CookieName, Value: browserVisitor})
		}
		req.Header.Set("Referer", "https://www.bing.com/")
		req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get("GET", "/checkout/done", true) // checkout step + page view
	get("GET", "/app.css", true)       // static asset
	get("GET", "/old", true)           // a redirect is not a page view
	get("GET", "/missing", true)       // nor an error page
	get("GET", "/api", true)           // nor JSON
	get("POST", "/form", true)         // nor a POST
	get("GET", "/form", false)         // no cookie: no visitor
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tps := trail(t, col, browserVisitor)
	if len(tps) != 2 {
		for _, tp := range tps {
			t.Logf("%s %s", tp.Type, tp.URL)
		}
		t.Fatalf("%d touchpoints in the browser's trail, want checkout + page view", len(tps))
	}
	types := map[event.Type]event.Touchpoint{}
	for _, tp := range tps {
		types[tp.Type] = tp
	}
	if k := types[event.TypeCheckoutStep]; k.Step != 3 || k.Value != 99.5 || k.Currency != "EUR" || k.Name != "order placed" {
		t.Errorf("checkout %+v", k)
	}
	p := types[event.TypePageview]
	if !strings.HasPrefix(p.URL, "http://127.0.0.1:") || !strings.HasSuffix(p.URL, "/checkout/done") || p.Referrer != "https://www.bing.com/" {
		t.Errorf("page view %+v", p)
	}
	if p.Browser != "Safari" || p.OS != "macOS" {
		t.Errorf("page view device %s on %s: want the browser's (from the trusted ua field), not Go's", p.Browser, p.OS)
	}
	if st := c.Stats(); st.Sent != 2 {
		t.Errorf("stats %+v, want 2 sent", st)
	}
}

// Without the cookie, a configured fallback names the visitor.
func TestMiddlewareVisitorFallback(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := newClient(t, col.URL, nil)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!doctype html><title>Orders</title>")) // sniffed as text/html
	})
	h := sdk.Middleware(c, page, sdk.MiddlewareOptions{
		Visitor:        func(r *http.Request) string { return r.Header.Get("X-Session") },
		ClientIPHeader: "X-Forwarded-For",
	})
	req := httptest.NewRequest("GET", "http://shop.example/orders?page=2", nil)
	req.Header.Set("X-Session", "session-42")
	req.Header.Set("X-Forwarded-For", "81.2.69.160, 10.0.0.1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tps := trail(t, col, "session-42")
	if len(tps) != 1 || tps[0].URL != "http://shop.example/orders?page=2" {
		t.Fatalf("trail %+v", tps)
	}
}
