package collector_test

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// The compatibility APIs over HTTP: switches, credentials, limits, and the
// browser rules Plausible and Umami share with the snippet. The real
// client libraries are in collector/compat's tests.

const (
	umamiSite     = "5f1c8c43-1d0b-4b7a-9d7e-2b8c7a3e2f10"
	posthogPublic = "phc_public_0123456789"
	googlebotUA   = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

func compatOn(mod func(*collector.Config)) func(*collector.Config) {
	return func(c *collector.Config) {
		c.Compat = collector.CompatConfig{Segment: true, PostHog: true, Plausible: true, Umami: true}
		c.Sites[0].Domains = []string{"shop.example"}
		c.Sites[0].UmamiWebsites = []string{umamiSite}
		c.Sites[0].PostHogKeys = []string{posthogPublic}
		if mod != nil {
			mod(c)
		}
	}
}

func basic(user string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"))
}

// visitorCount returns how many visitors the test site has seen.
func visitorCount(t *testing.T, c client) int {
	t.Helper()
	var vs struct {
		Visitors []json.RawMessage `json:"visitors"`
	}
	c.get("/v1/sites/test/visitors", collectortest.ReadToken).json(t, &vs)
	return len(vs.Visitors)
}

func TestCompatSwitchedOffByDefault(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	for _, path := range []string{"/v1/batch", "/v1/track", "/capture/", "/batch/", "/i/v0/e/", "/api/event", "/api/send"} {
		if a := c.compat(http.MethodPost, path, []byte(`{}`), map[string]string{"Authorization": basic(collectortest.WriteKey)}); a.status != http.StatusNotFound {
			t.Errorf("POST %s with the compatibility APIs off: %d %s, want 404", path, a.status, a.body)
		}
	}
}

func TestCompatKeepsOwnAPI(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: compatOn(nil)})
	c := client{t, col.URL}
	mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[{"id":"own-1","type":"pageview","visitor":%q,"url":"https://shop.example/"}]}`, visitorA), nil), 1)
	a := c.compat(http.MethodPost, "/v1/track", []byte(`{"userId":"u-1","event":"Signed Up","messageId":"seg-1"}`),
		map[string]string{"Authorization": basic(collectortest.WriteKey), "Content-Type": "application/json"})
	if a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"success":true`)) {
		t.Fatalf("POST /v1/track: %d %s", a.status, a.body)
	}
	if n := visitorCount(t, c); n != 2 {
		t.Fatalf("%d visitors after one /v1/events and one /v1/track, want 2", n)
	}
	var tr trailAnswer
	if a := c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken); a.status != http.StatusOK {
		t.Fatalf("/v1/sites/… with /v1/<segment> routes mounted: %d %s", a.status, a.body)
	} else {
		a.json(t, &tr)
	}
	if len(tr.Touchpoints) != 1 || tr.Touchpoints[0]["id"] != "own-1" {
		t.Fatalf("own trail: %v", tr.Touchpoints)
	}
	// The userId stitched the track's visitor to the user.
	var ut trailAnswer
	c.get("/v1/sites/test/users/u-1/trail", collectortest.ReadToken).json(t, &ut)
	if len(ut.Touchpoints) != 2 || ut.Touchpoints[0]["type"] != "identify" || ut.Touchpoints[1]["name"] != "Signed Up" {
		t.Fatalf("user trail of u-1: %v", ut.Touchpoints)
	}
}

func TestSegmentCredentialsAndLimits(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: compatOn(nil)})
	c := client{t, col.URL}
	auth := map[string]string{"Authorization": basic(collectortest.WriteKey), "Content-Type": "application/json"}
	one := `{"type":"track","anonymousId":"a-1","event":"E","messageId":"%s"}`
	type result struct {
		Success  bool `json:"success"`
		Accepted int  `json:"accepted"`
		Rejected []struct {
			Index int    `json:"index"`
			Error string `json:"error"`
		} `json:"rejected"`
	}
	f := func(name, path string, header map[string]string, body []byte, status int, errPart string) answer {
		t.Helper()
		a := c.compat(http.MethodPost, path, body, header)
		if a.status != status || !bytes.Contains(a.body, []byte(errPart)) {
			t.Errorf("%s: %d %s, want %d with %q", name, a.status, a.body, status, errPart)
		}
		return a
	}
	f("no key", "/v1/track", map[string]string{"Content-Type": "application/json"}, fmt.Appendf(nil, one, "m0"), 401, "Basic auth user name")
	f("wrong key", "/v1/track", map[string]string{"Authorization": basic("not-a-write-key-000")}, fmt.Appendf(nil, one, "m0"), 401, "invalid write key")
	f("key in body", "/v1/track", nil, []byte(`{"writeKey":"`+collectortest.WriteKey+`","anonymousId":"a-1","event":"E","messageId":"m1"}`), 200, `"accepted":1`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintf(zw, `{"batch":[`+one+`,`+one+`]}`, "m2", "m3")
	zw.Close()
	f("gzip batch", "/v1/batch", map[string]string{"Authorization": basic(collectortest.WriteKey), "Content-Encoding": "gzip"}, gz.Bytes(), 200, `"accepted":2`)
	big := fmt.Sprintf(`{"type":"track","anonymousId":"a-1","event":"Big","properties":{"x":%q}}`, strings.Repeat("x", 33<<10))
	f("message over 32 KB", "/v1/track", auth, []byte(big), 400, "message larger than 32768 bytes")
	a := f("one bad message of two", "/v1/batch", auth, []byte(`{"batch":[`+big+`,`+fmt.Sprintf(one, "m4")+`]}`), 200, `"success":true`)
	var r result
	a.json(t, &r)
	if r.Accepted != 1 || len(r.Rejected) != 1 || r.Rejected[0].Index != 0 {
		t.Errorf("one bad message of two: %+v", r)
	}
	// Over 500 KB: refused on the announced length, before the body is
	// sent (a raw connection: Go's client would fail writing the rest)...
	raw := dial(t, col.Addr)
	raw.write(fmt.Sprintf("POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", basic(collectortest.WriteKey), 600<<10))
	if _, body := raw.mustAnswer(2*time.Second, http.StatusRequestEntityTooLarge); !strings.Contains(body, "larger than 512000 bytes") {
		t.Errorf("batch announced over 500 KB: %s", body)
	}
	// ... or once gunzipped: a small gzip body that inflates past it.
	huge := `{"batch":[` + strings.Repeat(fmt.Sprintf(one, "m5")+",", 520<<10/len(one)) + fmt.Sprintf(one, "m6") + `]}`
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	zw.Write([]byte(huge))
	zw.Close()
	f("batch over 500 KB once gunzipped", "/v1/batch", map[string]string{"Authorization": basic(collectortest.WriteKey), "Content-Encoding": "gzip"}, gz.Bytes(), 413, "Segment's limit is 512000")
	f("not JSON", "/v1/batch", auth, []byte(`{"batch":`), 400, "malformed")
	f("validation", "/v1/track", auth, []byte(`{"anonymousId":"a-1","event":"E","timestamp":"yesterday"}`), 400, "ts:")
	if a := c.compat(http.MethodGet, "/v1/batch", nil, auth); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "POST, OPTIONS" {
		t.Errorf("GET /v1/batch: %d Allow %q", a.status, a.header.Get("Allow"))
	}
	// Four events stored (m1, m2, m3, m4), all of one anonymous visitor.
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+hexOf(t, "a-1")+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 4 {
		t.Fatalf("trail of a-1 has %d touchpoints, want 4", len(tr.Touchpoints))
	}
}

func hexOf(t *testing.T, visitor string) string {
	t.Helper()
	v, err := event.ParseVisitor(visitor)
	if err != nil {
		t.Fatal(err)
	}
	return v.String()
}

// TestCompatBrowserRules: Plausible, Umami and PostHog with a public key
// take the snippet's rules — allowed origins, Do-Not-Track, bots, the rate
// limit — and a write key is not needed or used.
func TestCompatBrowserRules(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: compatOn(func(c *collector.Config) {
		c.Sites[0].Origins = []string{"https://shop.example"}
		c.RespectDNT = true
		c.PublicMetrics = true
	})})
	c := client{t, col.URL}
	origin := map[string]string{"Origin": "https://shop.example", "Content-Type": "text/plain"}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range origin {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	plausible := []byte(`{"n":"pageview","u":"https://shop.example/","d":"shop.example","r":null}`)
	umami := []byte(`{"type":"event","payload":{"website":"` + umamiSite + `","hostname":"shop.example","url":"/","title":"Home"}}`)
	posthog := []byte(`{"api_key":"` + posthogPublic + `","event":"$pageview","distinct_id":"d-1","properties":{"$current_url":"https://shop.example/"}}`)
	for _, tc := range []struct {
		name, path string
		body       []byte
		ok         int
	}{
		{"plausible", "/api/event", plausible, 202},
		{"umami", "/api/send", umami, 200},
		{"posthog public key", "/i/v0/e/", posthog, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Cookieless visitors are per address and user agent: one per API.
			origin := with(map[string]string{"User-Agent": chromeUA + " " + tc.name})
			with := func(extra map[string]string) map[string]string {
				h := with(extra)
				if _, ok := extra["User-Agent"]; !ok {
					h["User-Agent"] = origin["User-Agent"]
				}
				return h
			}
			before := visitorCount(t, c)
			if a := c.compat(http.MethodPost, tc.path, tc.body, with(map[string]string{"Origin": "https://evil.example"})); a.status != http.StatusForbidden {
				t.Errorf("another origin: %d %s, want 403", a.status, a.body)
			}
			if a := c.compat(http.MethodPost, tc.path, tc.body, with(map[string]string{"DNT": "1"})); a.status != tc.ok {
				t.Errorf("DNT: %d %s, want %d (answered, not stored)", a.status, a.body, tc.ok)
			}
			if a := c.compat(http.MethodPost, tc.path, tc.body, with(map[string]string{"User-Agent": googlebotUA})); a.status != tc.ok {
				t.Errorf("bot: %d %s, want %d (answered, not stored)", a.status, a.body, tc.ok)
			}
			if n := visitorCount(t, c); n != before {
				t.Fatalf("a refused origin, DNT or a bot stored something: %d visitors, had %d", n, before)
			}
			a := c.compat(http.MethodPost, tc.path, tc.body, origin)
			if a.status != tc.ok || a.header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
				t.Fatalf("allowed origin: %d %s, CORS %q", a.status, a.body, a.header.Get("Access-Control-Allow-Origin"))
			}
			if n := visitorCount(t, c); n != before+1 {
				t.Fatalf("%d visitors after an allowed event, want %d", n, before+1)
			}
		})
	}
	if a := c.compat(http.MethodPost, "/api/event", []byte(`{"n":"pageview","u":"https://x.example/","d":"x.example"}`), origin); a.status != http.StatusNotFound {
		t.Errorf("unknown domain: %d %s", a.status, a.body)
	}
	if a := c.compat(http.MethodPost, "/api/send", []byte(`{"type":"event","payload":{"website":"nope","url":"/"}}`), origin); a.status != http.StatusNotFound {
		t.Errorf("unknown website: %d %s", a.status, a.body)
	}
	if a := c.compat(http.MethodPost, "/capture/", []byte(`{"api_key":"phc_unknown","event":"x","distinct_id":"d"}`), origin); a.status != http.StatusUnauthorized {
		t.Errorf("unknown PostHog key: %d %s", a.status, a.body)
	}
	// A PostHog backend with the site's write key is trusted: no origin.
	if a := c.compat(http.MethodPost, "/batch/", []byte(`{"api_key":"`+collectortest.WriteKey+`","batch":[{"event":"x","distinct_id":"d-2"}]}`), nil); a.status != http.StatusOK {
		t.Errorf("PostHog with a write key: %d %s", a.status, a.body)
	}
	pre := c.compat(http.MethodOptions, "/api/send", nil, map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "content-type,x-umami-cache"})
	if pre.status != http.StatusNoContent || !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "X-Umami-Cache") {
		t.Errorf("preflight: %d %v", pre.status, pre.header)
	}
	m := c.get("/metrics", "")
	for _, want := range []string{`touchtrail_http_requests_total{class="2xx",route="plausible"}`, `touchtrail_ingest_refused_total{reason="origin"} 3`, `route="umami"`, `route="posthog"`} {
		if !bytes.Contains(m.body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestCompatRateLimit(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: compatOn(func(c *collector.Config) {
		c.RatePerIP, c.RateBurst = 0.01, 2
	})})
	c := client{t, col.URL}
	body := []byte(`{"n":"pageview","u":"https://shop.example/","d":"shop.example"}`)
	for i := range 2 {
		if a := c.compat(http.MethodPost, "/api/event", body, nil); a.status != http.StatusAccepted {
			t.Fatalf("request %d: %d %s", i, a.status, a.body)
		}
	}
	if a := c.compat(http.MethodPost, "/api/event", body, nil); a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Fatalf("over the rate: %d %s Retry-After %q", a.status, a.body, a.header.Get("Retry-After"))
	}
}

// posthog-js posts a gzipped array to /i/v0/e/?compression=gzip-js as
// text/plain, the project key in each event's properties.
func TestPostHogJSShape(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: compatOn(nil)})
	c := client{t, col.URL}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintf(zw, `[{"event":"$pageview","uuid":"0190a1b2-0000-7000-8000-000000000001","properties":{"token":%q,"distinct_id":"d-js","$current_url":"https://shop.example/a","title":"A"}},
	{"event":"$autocapture","properties":{"token":%q,"distinct_id":"d-js"}}]`, posthogPublic, posthogPublic)
	zw.Close()
	a := c.compat(http.MethodPost, "/i/v0/e/?compression=gzip-js&ver=1.200.0", gz.Bytes(), map[string]string{"Content-Type": "text/plain"})
	if a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"accepted":1,"ignored":1`)) {
		t.Fatalf("gzip-js: %d %s", a.status, a.body)
	}
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+hexOf(t, "d-js")+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 1 || tr.Touchpoints[0]["title"] != "A" || tr.Touchpoints[0]["browser"] != "Chrome" {
		t.Fatalf("trail: %v", tr.Touchpoints)
	}
	if a := c.compat(http.MethodPost, "/e/?compression=base64", []byte("data=e30="), nil); a.status != http.StatusUnsupportedMediaType {
		t.Fatalf("base64 form body: %d %s, want 415", a.status, a.body)
	}
}

func TestCompatConfigValidate(t *testing.T) {
	f := func(name string, mod func(*collector.Config), wantErr string) {
		t.Helper()
		cfg := collectortest.Config()
		mod(&cfg)
		err := cfg.Validate()
		if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("%s: %v, want %q", name, err, wantErr)
		}
	}
	f("distinct", func(c *collector.Config) {
		c.Sites[0].Domains, c.Sites[1].Domains = []string{"a.example"}, []string{"b.example"}
	}, "")
	f("one domain, two sites", func(c *collector.Config) {
		c.Sites[0].Domains, c.Sites[1].Domains = []string{"shop.example"}, []string{"www.Shop.example"}
	}, `domain "shop.example" belongs to both`)
	f("one Umami website, two sites", func(c *collector.Config) {
		c.Sites[0].UmamiWebsites, c.Sites[1].UmamiWebsites = []string{"w"}, []string{"w"}
	}, "umami website")
	f("one PostHog key, two sites", func(c *collector.Config) {
		c.Sites[0].PostHogKeys, c.Sites[1].PostHogKeys = []string{"phc_a"}, []string{"phc_a"}
	}, "posthog key")
	f("empty domain", func(c *collector.Config) { c.Sites[0].Domains = []string{" "} }, "empty domain")
	f("first-party path of Plausible's", func(c *collector.Config) {
		c.Compat.Plausible, c.IngestPath = true, "/api/event"
	}, `ingest_path "/api/event" is also the path of the plausible API`)
	f("first-party path, the API off", func(c *collector.Config) { c.IngestPath = "/api/event" }, "")
}

// A browser's PostHog identify on a site with an identify secret needs the
// user's hash, as the snippet's does; both visitors are then stitched.
func TestPostHogBrowserIdentifyVerified(t *testing.T) {
	const secret = "identify-secret-0123456789"
	col := collectortest.Start(t, collectortest.Options{Config: compatOn(func(c *collector.Config) { c.Sites[0].IdentifySecret = secret })})
	c := client{t, col.URL}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("u-9"))
	good := hex.EncodeToString(m.Sum(nil))
	body := func(hash string) []byte {
		return fmt.Appendf(nil, `{"api_key":%q,"event":"$identify","distinct_id":"u-9","properties":{"$anon_distinct_id":"a-9","$set":{"user_hash":%q}}}`, posthogPublic, hash)
	}
	if a := c.compat(http.MethodPost, "/capture/", body(strings.Repeat("0", 64)), nil); a.status != http.StatusBadRequest || !bytes.Contains(a.body, []byte("user_hash")) {
		t.Fatalf("forged hash: %d %s, want 400", a.status, a.body)
	}
	if a := c.compat(http.MethodPost, "/capture/", body(good), nil); a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"accepted":2`)) {
		t.Fatalf("verified identify: %d %s", a.status, a.body)
	}
	var ut struct {
		Visitors []string `json:"visitors"`
	}
	c.get("/v1/sites/test/users/u-9/trail", collectortest.ReadToken).json(t, &ut)
	if len(ut.Visitors) != 2 {
		t.Fatalf("user u-9 stitches %v, want two visitors", ut.Visitors)
	}
}

// compat sends a request to a compatibility route. These routes speak
// other providers' protocols and are not part of our OpenAPI document, so
// their answers do not go through client.do's checks.
func (c client) compat(method, path string, body []byte, header map[string]string) answer {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("User-Agent", chromeUA)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// Each single-message Segment endpoint takes its type from its path.
func TestSegmentSingleEndpoints(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: compatOn(nil)})
	c := client{t, col.URL}
	auth := map[string]string{"Authorization": basic(collectortest.WriteKey), "Content-Type": "application/json"}
	for path, body := range map[string]string{
		"/v1/page":     `{"anonymousId":"s-1","messageId":"p","name":"Home","properties":{"url":"https://shop.example/"}}`,
		"/v1/screen":   `{"anonymousId":"s-1","messageId":"sc","name":"Cart"}`,
		"/v1/identify": `{"anonymousId":"s-1","userId":"u-s","messageId":"i"}`,
		"/v1/group":    `{"anonymousId":"s-1","messageId":"g","groupId":"acme"}`,
		"/v1/alias":    `{"previousId":"s-0","userId":"u-s","messageId":"al"}`,
	} {
		if a := c.compat(http.MethodPost, path, []byte(body), auth); a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"rejected":[]`)) {
			t.Errorf("POST %s: %d %s", path, a.status, a.body)
		}
	}
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+hexOf(t, "s-1")+"/trail", collectortest.ReadToken).json(t, &tr)
	types := map[string]string{}
	for _, tp := range tr.Touchpoints {
		types[fmt.Sprint(tp["id"])] = fmt.Sprint(tp["type"])
	}
	for id, want := range map[string]string{"p": "pageview", "sc": "pageview", "i": "identify", "g": "custom"} {
		if types[id] != want {
			t.Errorf("message %s stored as %q, want %s (trail %v)", id, types[id], want, types)
		}
	}
	var ut struct {
		Visitors []string `json:"visitors"`
	}
	c.get("/v1/sites/test/users/u-s/trail", collectortest.ReadToken).json(t, &ut)
	if len(ut.Visitors) != 3 { // s-1 (identify), u-s (its own), s-0 (alias)
		t.Errorf("user u-s stitches %v, want 3 visitors", ut.Visitors)
	}
}
