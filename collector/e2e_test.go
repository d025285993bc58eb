package collector_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
)

const chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"

// client sends requests the way a browser or a backend would.
type client struct {
	t    *testing.T
	base string
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", a.status, err, a.body)
	}
}

func (c client) do(method, path string, body []byte, header map[string]string) answer {
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
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	checkAgainstSpec(c.t, req, a) // every answer against the OpenAPI document
	return a
}

func (c client) post(body string, header map[string]string) answer {
	c.t.Helper()
	if header == nil {
		header = map[string]string{}
	}
	if _, ok := header["Content-Type"]; !ok {
		header["Content-Type"] = "text/plain;charset=UTF-8"
	}
	return c.do(http.MethodPost, "/v1/events", []byte(body), header)
}

func (c client) get(path, token string) answer {
	c.t.Helper()
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return c.do(http.MethodGet, path, nil, h)
}

type ingestAnswer struct {
	Accepted int `json:"accepted"`
	Rejected []struct {
		Index int    `json:"index"`
		Error string `json:"error"`
	} `json:"rejected"`
	Dropped int `json:"dropped"`
}

type trailAnswer struct {
	Visitor     string           `json:"visitor"`
	Touchpoints []map[string]any `json:"touchpoints"`
	Next        string           `json:"next"`
}

func mustAccept(t *testing.T, a answer, want int) {
	t.Helper()
	if a.status != http.StatusAccepted {
		t.Fatalf("status %d, want 202: %s", a.status, a.body)
	}
	var ia ingestAnswer
	a.json(t, &ia)
	if ia.Accepted != want || len(ia.Rejected) != 0 {
		t.Fatalf("accepted %d rejected %v, want %d accepted: %s", ia.Accepted, ia.Rejected, want, a.body)
	}
}

const visitorA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// testGeoDB builds a real GeoIP2 City database with known networks.
func testGeoDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	geotest.WriteCityDB(t, path, map[string]geotest.City{
		"81.2.69.0/24":    {Country: "GB", Region: "ENG", City: "London"},
		"2001:db8::/32":   {Country: "DE", Region: "BE", City: "Berlin"},
		"203.0.113.0/24":  {Country: "AU", Region: "NSW", City: "Sydney"},
		"198.51.100.0/24": {Country: "US", Region: "CA", City: "San Francisco"},
	})
	return path
}

func behindProxy(c *collector.Config) { c.ProxyHeader = "X-Forwarded-For" }

// Three events of one visitor sent out of order in two batches by a client
// whose clock is 5 minutes fast come back in true order, with derived
// timestamps, device and geo.
func TestEndToEndOrderedEnrichedTrail(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{GeoDB: testGeoDB(t), Config: behindProxy})
	c := client{t, col.URL}
	skew := 5 * time.Minute
	now := time.Now()
	// True times of the three touchpoints, and the client's (fast) clock.
	happened := []time.Time{now.Add(-30 * time.Second), now.Add(-20 * time.Second), now.Add(-10 * time.Second)}
	ms := func(t time.Time) int64 { return t.Add(skew).UnixMilli() }
	sent := ms(now) // both batches leave the client now
	ev := func(i int, typ, extra string) string {
		return fmt.Sprintf(`{"id":"e%d","type":%q,"visitor":%q,"seq":%d,"ts":%d,"sent":%d,"url":"https://shop.example/p%d?utm_source=news&utm_medium=email"%s}`,
			i, typ, visitorA, i+1, ms(happened[i]), sent, i, extra)
	}
	ip := map[string]string{"X-Forwarded-For": "81.2.69.160"}
	// Batch one holds the third and the first touchpoint, batch two the second.
	mustAccept(t, c.post(fmt.Sprintf(`{"site":%q,"events":[%s,%s]}`, collectortest.Site,
		ev(2, "search", `,"query":"returns","results":0`), ev(0, "pageview", `,"referrer":"https://www.google.com/"`)), ip), 2)
	mustAccept(t, c.post(fmt.Sprintf(`{"site":%q,"events":[%s]}`, collectortest.Site, ev(1, "chat_open", `,"widget":"intercom"`)), ip), 1)

	a := c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken)
	if a.status != http.StatusOK {
		t.Fatalf("trail: %d %s", a.status, a.body)
	}
	var tr trailAnswer
	a.json(t, &tr)
	if len(tr.Touchpoints) != 3 {
		t.Fatalf("trail has %d touchpoints, want 3: %s", len(tr.Touchpoints), a.body)
	}
	wantTypes := []string{"pageview", "chat_open", "search"}
	for i, tp := range tr.Touchpoints {
		if tp["type"] != wantTypes[i] || tp["id"] != fmt.Sprintf("e%d", i) {
			t.Errorf("touchpoint %d: %v %v, want %s e%d", i, tp["type"], tp["id"], wantTypes[i], i)
		}
		derived, err := time.Parse(time.RFC3339Nano, tp["time"].(string))
		if err != nil {
			t.Fatal(err)
		}
		// The derived time corrects the 5-minute skew to within the
		// request's own latency.
		if d := derived.Sub(happened[i]); d < 0 || d > 5*time.Second {
			t.Errorf("touchpoint %d derived %s, happened %s (off by %s)", i, derived, happened[i], d)
		}
		for k, want := range map[string]string{"browser": "Chrome", "os": "Linux", "device": "desktop",
			"country": "GB", "region": "ENG", "city": "London"} {
			if tp[k] != want {
				t.Errorf("touchpoint %d: %s = %v, want %q", i, k, tp[k], want)
			}
		}
		if _, ok := tp["ip"]; ok {
			t.Errorf("touchpoint %d exposes an ip: %v", i, tp)
		}
	}
	if first := tr.Touchpoints[0]; first["channel"] != "email" || first["utm_source"] != "news" {
		t.Errorf("first touchpoint channel %v utm_source %v, want email / news", first["channel"], first["utm_source"])
	}
}

func TestResentBatchStoredOnce(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	var evs []string
	for i := range 5 {
		evs = append(evs, fmt.Sprintf(`{"id":"r%d","type":"pageview","visitor":%q,"seq":%d,"url":"https://shop.example/%d"}`, i, visitorA, i, i))
	}
	body := fmt.Sprintf(`{"site":"test","events":[%s]}`, strings.Join(evs, ","))
	mustAccept(t, c.post(body, nil), 5)
	time.Sleep(5 * time.Millisecond) // a retry arrives later: other received / derived times
	mustAccept(t, c.post(body, nil), 5)
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 5 {
		t.Fatalf("trail has %d touchpoints after sending the batch twice, want 5", len(tr.Touchpoints))
	}
}

func TestQueryAPIAuth(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[{"id":"x","type":"pageview","visitor":%q}]}`, visitorA), nil), 1)
	trail := "/v1/sites/test/visitors/" + visitorA + "/trail"
	check := func(name string, a answer, want int) {
		t.Helper()
		if a.status != want {
			t.Errorf("%s: status %d, want %d: %s", name, a.status, want, a.body)
		}
		var e struct{ Error string }
		if want >= 400 {
			a.json(t, &e)
			if e.Error == "" {
				t.Errorf("%s: no error message: %s", name, a.body)
			}
		}
	}
	check("no token", c.get(trail, ""), http.StatusUnauthorized)
	check("wrong token", c.get(trail, "not-a-token-at-all"), http.StatusUnauthorized)
	check("other site's read token", c.get(trail, collectortest.OtherRead), http.StatusForbidden)
	check("read token", c.get(trail, collectortest.ReadToken), http.StatusOK)
	check("admin token reads", c.get(trail, collectortest.AdminToken), http.StatusOK)
	del := func(token string) answer {
		return c.do(http.MethodDelete, "/v1/sites/test/visitors/"+visitorA, nil, map[string]string{"Authorization": "Bearer " + token})
	}
	check("delete with read token", del(collectortest.ReadToken), http.StatusForbidden)
	check("delete without token", c.do(http.MethodDelete, "/v1/sites/test/visitors/"+visitorA, nil, nil), http.StatusUnauthorized)
	check("metrics without token", c.get("/metrics", ""), http.StatusUnauthorized)
	check("metrics with token", c.get("/metrics", collectortest.ReadToken), http.StatusOK)
}

func TestIngestLimitsAndBadInput(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.MaxBodyBytes = 4096
		c.RatePerIP = -1
	}})
	c := client{t, col.URL}
	errMsg := func(a answer) string {
		var e struct{ Error string }
		a.json(t, &e)
		return e.Error
	}
	big := fmt.Sprintf(`{"site":"test","events":[{"id":"b","type":"pageview","visitor":%q,"title":%q}]}`, visitorA, strings.Repeat("x", 5000))
	if a := c.post(big, nil); a.status != http.StatusRequestEntityTooLarge || errMsg(a) == "" {
		t.Errorf("body over the limit: %d %s, want 413 with a message", a.status, a.body)
	}
	if a := c.post(`{"site":"test","events":[{"id":`, nil); a.status != http.StatusBadRequest || !strings.Contains(errMsg(a), "malformed") {
		t.Errorf("malformed JSON: %d %s, want 400 saying malformed", a.status, a.body)
	}
	if a := c.post(`{"site":"nope","events":[]}`, nil); a.status != http.StatusNotFound {
		t.Errorf("unknown site: %d %s, want 404", a.status, a.body)
	}
	// A batch of 10 with one invalid event: 9 accepted, that one rejected by index.
	var evs []string
	for i := range 10 {
		typ := "pageview"
		if i == 6 {
			typ = "teleport"
		}
		evs = append(evs, fmt.Sprintf(`{"id":"m%d","type":%q,"visitor":%q,"seq":%d}`, i, typ, visitorA, i))
	}
	a := c.post(fmt.Sprintf(`{"site":"test","events":[%s]}`, strings.Join(evs, ",")), nil)
	var ia ingestAnswer
	a.json(t, &ia)
	if a.status != http.StatusAccepted || ia.Accepted != 9 || len(ia.Rejected) != 1 || ia.Rejected[0].Index != 6 ||
		!strings.Contains(ia.Rejected[0].Error, "type") {
		t.Errorf("batch with one bad event: %d %s, want 202, 9 accepted, index 6 rejected", a.status, a.body)
	}
	// gzip bodies are accepted.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintf(zw, `{"site":"test","events":[{"id":"gz","type":"pageview","visitor":%q}]}`, visitorA)
	zw.Close()
	mustAccept(t, c.do(http.MethodPost, "/v1/events", gz.Bytes(), map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/json"}), 1)
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 10 {
		t.Errorf("trail has %d touchpoints, want the 9 accepted + 1 gzip", len(tr.Touchpoints))
	}
}

func TestRateLimit(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.RatePerIP, c.RateBurst = 0.5, 3
	}})
	c := client{t, col.URL}
	body := fmt.Sprintf(`{"site":"test","events":[{"id":"rl","type":"pageview","visitor":%q}]}`, visitorA)
	var last answer
	for range 4 {
		last = c.post(body, nil)
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Fatalf("4th request within the burst of 3: %d (Retry-After %q), want 429 with Retry-After", last.status, last.header.Get("Retry-After"))
	}
	// A write key is not limited per IP.
	a := c.post(body, map[string]string{"Authorization": "Bearer " + collectortest.WriteKey})
	if a.status != http.StatusAccepted {
		t.Errorf("trusted sender: %d %s, want 202", a.status, a.body)
	}
}

func TestCORSAllowedOrigins(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.Sites[0].Origins = []string{"https://shop.example"}
	}})
	c := client{t, col.URL}
	body := fmt.Sprintf(`{"site":"test","events":[{"id":"o","type":"pageview","visitor":%q}]}`, visitorA)
	a := c.post(body, map[string]string{"Origin": "https://shop.example"})
	if a.status != http.StatusAccepted || a.header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Errorf("allowed origin: %d, ACAO %q", a.status, a.header.Get("Access-Control-Allow-Origin"))
	}
	if a := c.post(body, map[string]string{"Origin": "https://evil.example"}); a.status != http.StatusForbidden {
		t.Errorf("foreign origin: %d, want 403", a.status)
	}
	pre := c.do(http.MethodOptions, "/v1/events?site=test", nil, map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
	if pre.status != http.StatusNoContent || !strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %v", pre.status, pre.header)
	}
}

// No raw IP is ever stored: after ingesting from known addresses, neither
// their text nor their binary forms occur in any file of the Badger dir.
func TestNoRawIPOnDisk(t *testing.T) {
	dir := t.TempDir()
	col := collectortest.Start(t, collectortest.Options{Dir: dir, GeoDB: testGeoDB(t), Config: behindProxy})
	c := client{t, col.URL}
	ips := []string{"81.2.69.160", "2001:db8::1234:5678"}
	for i, ip := range ips {
		var evs []string
		for j := range 50 {
			evs = append(evs, fmt.Sprintf(`{"id":"ip%d-%d","type":"pageview","visitor":"%032x","url":"https://shop.example/%d"}`, i, j, i*1000+j+1, j))
		}
		mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[%s]}`, strings.Join(evs, ",")), map[string]string{"X-Forwarded-For": ip}), 50)
	}
	col.Stop() // flush everything to disk
	needles := [][]byte{[]byte("81.2.69.160"), {81, 2, 69, 160}, []byte("2001:db8::1234:5678"),
		{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78}}
	files := 0
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s contains the client IP %q", path, n)
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("walk %s: %v (%d files)", dir, err, files)
	}
}

func TestEraseVisitor(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	const visitorB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[
		{"id":"1","type":"pageview","visitor":%[1]q,"seq":1},
		{"id":"2","type":"identify","visitor":%[1]q,"seq":2,"user":"u-42"},
		{"id":"3","type":"pageview","visitor":%[2]q,"seq":1}]}`, visitorA, visitorB), nil), 3)
	if a := c.get("/v1/sites/test/users/u-42/trail", collectortest.ReadToken); a.status != http.StatusOK {
		t.Fatalf("user trail before erase: %d %s", a.status, a.body)
	}
	a := c.do(http.MethodDelete, "/v1/sites/test/visitors/"+visitorA, nil, map[string]string{"Authorization": "Bearer " + collectortest.AdminToken})
	if a.status != http.StatusOK {
		t.Fatalf("erase: %d %s", a.status, a.body)
	}
	if a := c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken); a.status != http.StatusNotFound {
		t.Errorf("erased visitor's trail: %d %s, want 404", a.status, a.body)
	}
	if a := c.get("/v1/sites/test/users/u-42/trail", collectortest.ReadToken); a.status != http.StatusNotFound {
		t.Errorf("user trail after erase: %d %s, want 404", a.status, a.body)
	}
	var vs struct{ Visitors []struct{ Visitor string } }
	c.get("/v1/sites/test/visitors", collectortest.ReadToken).json(t, &vs)
	if len(vs.Visitors) != 1 || vs.Visitors[0].Visitor != visitorB {
		t.Errorf("active visitors after erase: %+v, want only %s", vs.Visitors, visitorB)
	}
}

func TestHealthAndErrorsAreJSON(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/nope": 404, "/v1/sites/test/nope": 401} {
		a := c.get(path, "")
		if a.status != want || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %q, want %d JSON", path, a.status, a.header.Get("Content-Type"), want)
		}
	}
}
