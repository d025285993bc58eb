package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// The test shop: journeytest's visitors active in the first week of
// November 2026, seen from noon on the 8th (the pages' default range is
// the last 7 days and today: all of them).
var (
	shopOpts = journeytest.Options{Site: collectortest.Site, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 7}
	shopNow  = time.Date(2026, 11, 8, 12, 0, 0, 0, time.UTC)
)

// shop starts a real collector (fasthttp on loopback, Badger in a
// temporary directory) holding n generated visitors.
func shop(tb testing.TB, n int, opts collectortest.Options) (*collectortest.Collector, []journeytest.Visitor, journeytest.Truth) {
	tb.Helper()
	visitors, truth := journeytest.Generate(5, n, shopOpts)
	opts.Now = func() time.Time { return shopNow }
	col := collectortest.Start(tb, opts)
	if err := journeytest.Load(context.Background(), col.Store, collectortest.Site, visitors); err != nil {
		tb.Fatal(err)
	}
	return col, visitors, truth
}

// browserish is an HTTP client with a cookie jar that does not follow
// redirects, as a browser's session would hold cookies.
type browserish struct {
	tb   testing.TB
	base string
	c    *http.Client
	lang string
}

func newBrowser(tb testing.TB, base string) *browserish {
	jar, _ := cookiejar.New(nil)
	return &browserish{tb: tb, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type reply struct {
	status int
	header http.Header
	body   string
	wire   int // bytes received (gzip when asked)
}

func (b *browserish) do(method, path string, form url.Values, header map[string]string) reply {
	b.tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.tb.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(raw), wire: len(raw)}
}

func (b *browserish) get(path string) reply { return b.do(http.MethodGet, path, nil, nil) }

// page gets a page that must answer 200.
func (b *browserish) page(path string) string {
	b.tb.Helper()
	r := b.get(path)
	if r.status != http.StatusOK {
		b.tb.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	return r.body
}

// signIn posts a token to the sign-in form and expects to be let in.
func (b *browserish) signIn(token string) {
	b.tb.Helper()
	r := b.do(http.MethodPost, "/ui/signin", url.Values{"token": {token}, "next": {"/ui/"}}, nil)
	if r.status != http.StatusSeeOther {
		b.tb.Fatalf("sign in: %d %s", r.status, r.body)
	}
}

// api gets a query API answer as JSON.
func api(tb testing.TB, base, path, token string, v any) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("API %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatal(err)
	}
}

// attrs finds every element carrying attribute key and returns its value
// with the element's data-v.
func attrs(html, key string) map[string]int {
	re := regexp.MustCompile(key + `="([^"]*)"[^>]*?data-v="([0-9.]+)"`)
	out := map[string]int{}
	for _, m := range re.FindAllStringSubmatch(html, -1) {
		n, _ := strconv.ParseFloat(m[2], 64)
		out[unescape(m[1])] = int(n)
	}
	return out
}

func unescape(s string) string {
	r := strings.NewReplacer("&gt;", ">", "&lt;", "<", "&amp;", "&", "&#34;", `"`, "&#39;", "'", "&#43;", "+")
	return r.Replace(s)
}

// dataV returns the data-v of the element with data-k=k inside the
// fragment.
func dataV(tb testing.TB, frag, k string) int {
	tb.Helper()
	m := regexp.MustCompile(`data-k="` + k + `"[^>]*?data-v="([0-9.]+)"`).FindStringSubmatch(frag)
	if m == nil {
		tb.Fatalf("no data-k=%q in %.300s…", k, frag)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	return int(n)
}
