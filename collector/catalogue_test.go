package collector_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// The hostile catalogue: requests a new user, a broken client or an
// attacker sends, each against the real server (fasthttp on loopback, real
// Badger, real enrichment), by category. Each case states its status and
// error, and how many events it may store (nothing, for a refusal); at the
// end the server must still be alive and correct.

// hostile is one case: a raw request and what it must get.
type hostile struct {
	cat, name string
	req       string // the raw bytes sent on a fresh connection
	status    int    // expected status; 0: the connection is closed, or answered 400, within `within`
	err       string // a substring of the JSON error, or of the first rejected event's error
	stored    int    // touchpoints it stores
	within    time.Duration
	check     func(t *testing.T, resp *http.Response, body string) // optional extra checks
	pipeline  []int                                                // pipelined requests: the status of each answer, in order
	sameIP    bool                                                 // from the rate-limit case's one address, not the case's own
}

// Building requests. Every case comes from its own client address (the
// collector trusts its loopback proxy), so the rate limit only bites
// where a case wants it.

func req(method, path string, headers []string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: collector.test\r\n", method, path)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" || method == "POST" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	return b.String()
}

func post(body string, headers ...string) string {
	return req("POST", "/v1/events", append([]string{"Content-Type: text/plain;charset=UTF-8"}, headers...), body)
}

func get(path string, headers ...string) string { return req("GET", path, headers, "") }

func readAs(token string) string { return "Authorization: Bearer " + token }

// batch wraps events (JSON objects) in a batch of site test.
func batch(events ...string) string {
	return `{"site":"test","events":[` + strings.Join(events, ",") + `]}`
}

// ev is a valid page view with id and visitor, plus extra fields.
func ev(id, visitor, extra string) string {
	return fmt.Sprintf(`{"id":%q,"type":"pageview","visitor":%q,"url":"https://shop.example/"%s}`, id, visitor, extra)
}

// vis makes a distinct valid visitor id per case.
func vis(n int) string { return fmt.Sprintf("%032x", 0xcafe0000+n) }

func gz(s string) string {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

func hostileCatalogue() []hostile {
	var cs []hostile
	add := func(cat, name, req string, status int, err string, stored int) {
		cs = append(cs, hostile{cat: cat, name: name, req: req, status: status, err: err, stored: stored})
	}
	v := 0
	next := func() string { v++; return vis(v) }
	ok := func(extra string) string { return batch(ev(fmt.Sprintf("ok%d", v+1), next(), extra)) }
	const (
		malformed = "malformed"
		too       = "larger than"
	)

	// Malformed and truncated JSON: 400, nothing stored.
	for name, body := range map[string]string{
		"empty object":          `{}`,
		"open brace":            `{`,
		"truncated batch":       `{"site":"test","events":[`,
		"truncated event":       `{"site":"test","events":[{"id":`,
		"truncated string":      `{"site":"test","events":[{"id":"abc`,
		"null":                  `null`,
		"array":                 `[]`,
		"string":                `"pageview"`,
		"number":                `123`,
		"no events":             `{"site":"test"}`,
		"events is an object":   `{"site":"test","events":{}}`,
		"events is a string":    `{"site":"test","events":"[]"}`,
		"site is a number":      `{"site":1,"events":[]}`,
		"trailing comma":        `{"site":"test","events":[],}`,
		"single quotes":         `{'site':'test','events':[]}`,
		"unquoted keys":         `{site:"test",events:[]}`,
		"comment":               `{"site":"test",/* hi */"events":[]}`,
		"trailing garbage":      `{"site":"test","events":[]}x`,
		"two objects":           `{"site":"test","events":[]}{"site":"test","events":[]}`,
		"byte order mark":       "\xef\xbb\xbf" + `{"site":"test","events":[]}`,
		"white space only":      "   \n\t ",
		"raw newline in string": "{\"site\":\"test\",\"events\":[{\"id\":\"a\nb\",\"type\":\"pageview\",\"visitor\":\"" + vis(0) + "\"}]}",
		"raw NUL in string":     "{\"site\":\"test\",\"events\":[{\"id\":\"a\x00b\",\"type\":\"pageview\",\"visitor\":\"" + vis(0) + "\"}]}",
		"bad escape":            `{"site":"te\qst","events":[]}`,
		"short unicode escape":  `{"site":"\u12","events":[]}`,
		"hex number":            batch(ev("x", vis(0), `,"seq":0x10`)),
		"leading zero":          batch(ev("x", vis(0), `,"seq":007`)),
		"plus sign":             batch(ev("x", vis(0), `,"seq":+1`)),
		"bare minus":            batch(ev("x", vis(0), `,"seq":-`)),
	} {
		add("malformed JSON", name, post(body), 400, malformed, 0)
	}
	add("malformed JSON", "empty body", post(""), 400, malformed, 0)
	add("malformed JSON", "empty batch is fine", post(batch()), 202, "", 0)

	// Deep nesting.
	add("deep nesting", "10,000 arrays", post(nested("[", "]", 10_000)), 400, malformed, 0)
	add("deep nesting", "10,000 objects", post(strings.Repeat(`{"a":`, 10_000)+"1"+strings.Repeat("}", 10_000)), 400, malformed, 0)
	add("deep nesting", "nested events array", post(`{"site":"test","events":`+nested("[", "]", 5000)+`}`), 400, malformed, 0)
	add("deep nesting", "nested props", post(batch(ev("n1", vis(0), `,"props":{"a":{"b":{"c":1}}}`))), 202, "props", 0)
	add("deep nesting", "object in a field", post(batch(ev("n2", vis(0), `,"title":{"a":[1,2,3]}`))), 202, "title", 0)
	add("deep nesting", "array as a prop", post(batch(ev("n3", vis(0), `,"tags":["a","b"]`))), 202, "props", 0)
	add("deep nesting", "array of 10,000 nulls", post(`{"site":"test","events":[`+strings.Repeat("null,", 9999)+`null]}`), 413, "too many events", 0)

	// Over-limit bodies and batches.
	big := strings.Repeat("x", 300<<10)
	add("limits", "body over 256 KiB", post(batch(ev("b1", vis(0), `,"title":"`+big+`"`))), 413, too, 0)
	add("limits", "announced 100 MB, sends little", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 104857600\r\n\r\n{", 413, too, 0)
	add("limits", "announced 2^63", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 9223372036854775807\r\n\r\n{", 413, too, 0)
	add("limits", "negative length", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: -5\r\n\r\n{}", 0, "", 0)
	chunk := strings.Repeat("y", 64<<10)
	var chunked strings.Builder
	chunked.WriteString("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
	for range 6 {
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	chunked.WriteString("0\r\n\r\n")
	add("limits", "chunked body over the limit", chunked.String(), 413, too, 0)
	var evs501, evs500 []string
	for i := range 501 {
		evs501 = append(evs501, fmt.Sprintf(`{"id":"m%d","type":"pageview","visitor":%q}`, i, vis(0)))
	}
	add("limits", "501 events", post(batch(evs501...)), 413, "too many events", 0)
	vBig := next()
	for i := range 500 {
		evs500 = append(evs500, fmt.Sprintf(`{"id":"k%d","type":"pageview","visitor":%q,"seq":%d}`, i, vBig, i))
	}
	add("limits", "500 events is the limit", post(batch(evs500...)), 202, "", 500)
	add("limits", "URL of 100 KB", post(batch(ev("u1", vis(0), `,"referrer":"https://x.example/`+strings.Repeat("a", 100<<10)+`"`))), 202, "referrer", 0)
	add("limits", "title of 2 KB", post(batch(ev("u2", vis(0), `,"title":"`+strings.Repeat("t", 2048)+`"`))), 202, "title", 0)
	add("limits", "id of 65 bytes", post(batch(ev(strings.Repeat("i", 65), vis(0), ""))), 202, "id", 0)

	// gzip bombs and encodings.
	add("gzip", "10 MB of zeros", post(gz(strings.Repeat("\x00", 10<<20)), "Content-Encoding: gzip"), 413, "inflates past", 0)
	add("gzip", "2 MB of white space", post(gz(`{"site":"test","events":[`+strings.Repeat(" ", 2<<20)+`]}`), "Content-Encoding: gzip"), 413, "inflates past", 0)
	add("gzip", "not gzip", post(batch(), "Content-Encoding: gzip"), 400, "bad gzip", 0)
	add("gzip", "truncated gzip", post(gz(ok(""))[:20], "Content-Encoding: gzip"), 400, "bad gzip", 0)
	add("gzip", "gzip of gzip", post(gz(gz(batch())), "Content-Encoding: gzip"), 400, malformed, 0)
	add("gzip", "brotli", post(batch(), "Content-Encoding: br"), 415, "not supported", 0)
	add("gzip", "deflate", post(batch(), "Content-Encoding: deflate"), 415, "not supported", 0)
	add("gzip", "two encodings", post(gz(gz(batch())), "Content-Encoding: gzip, gzip"), 415, "not supported", 0)
	add("gzip", "gzip of a good batch", post(gz(ok("")), "Content-Encoding: gzip"), 202, "", 1)
	add("gzip", "concatenated members", post(gz(`{"site":"test",`)+gz(`"events":[]}`), "Content-Encoding: gzip"), 202, "", 0)

	// Invalid UTF-8 and surrogates: replaced, one rule (U+FFFD).
	for name, s := range map[string]string{
		"invalid byte":          "a\xffb",
		"truncated sequence":    "a\xe6\x9d",
		"overlong slash":        "\xc0\xaf",
		"UTF-8 surrogate":       "\xed\xa0\x80",
		"lone high surrogate":   `a\ud800b`,
		"lone low surrogate":    `\udc00`,
		"reversed pair":         `\udc00\ud800`,
		"escaped NUL":           `a\u0000b`,
		"escaped ESC sequences": `\u001b[31mred`,
		"C1 control":            `\u0085`,
	} {
		add("UTF-8", name+" in a title", post(ok(`,"title":"`+s+`"`)), 202, "", 1)
	}
	add("UTF-8", "invalid byte in the site", post("{\"site\":\"te\xffst\",\"events\":[]}"), 404, "unknown site", 0)
	add("UTF-8", "invalid bytes as the visitor (hashed)", post(batch("{\"id\":\"x\",\"type\":\"pageview\",\"visitor\":\"\xff\xfe\"}")), 202, "", 1)
	add("UTF-8", "invalid byte in the type", post(batch("{\"id\":\"x\",\"type\":\"page\xffview\",\"visitor\":\""+vis(0)+"\"}")), 202, "type", 0)

	// NaN and huge numbers.
	for name, field := range map[string]string{
		"NaN value": `"value":NaN`, "Infinity value": `"value":Infinity`, "-Infinity value": `"value":-Infinity`,
		"nan seq": `"seq":nan`, "inf ts": `"ts":inf`, "NaN prop": `"price":NaN`,
	} {
		add("numbers", name, post(batch(ev("nn", vis(0), ","+field))), 400, malformed, 0)
	}
	for name, field := range map[string]string{
		"value 1e999":          `"type":"checkout_step","step":1,"value":1e999`,
		"seq 1e20":             `"seq":1e20`,
		"seq -1":               `"seq":-1`,
		"seq 2^32":             `"seq":4294967296`,
		"seq 1.5":              `"seq":1.5`,
		"seq of 100 digits":    `"seq":` + strings.Repeat("9", 100),
		"seq as text":          `"seq":"12abc"`,
		"score 1001":           `"type":"feedback","score":1001,"scale":5`,
		"results -2":           `"type":"search","query":"q","results":-2`,
		"step 70000":           `"type":"checkout_step","step":70000`,
		"negative cart value":  `"type":"checkout_step","step":1,"value":-5`,
		"value as object":      `"type":"checkout_step","step":1,"value":{}`,
		"ts 1e300":             `"ts":1e300`,
		"ts negative":          `"ts":-1`,
		"ts NaN as text":       `"ts":"NaN"`,
		"seq true":             `"seq":true`,
		"score beyond scale":   `"type":"feedback","score":9,"scale":5`,
		"step missing":         `"type":"checkout_step"`,
		"value of 400 digits":  `"type":"checkout_step","step":1,"value":1` + strings.Repeat("0", 400),
		"results 2^31":         `"type":"search","query":"q","results":2147483648`,
		"scale negative":       `"type":"feedback","score":1,"scale":-5`,
		"exponent of 10 chars": `"seq":1e1000000000`,
	} {
		// Later fields win over ev's type: the event is the one named.
		add("numbers", name, post(batch(`{"id":"num","visitor":"`+vis(0)+`","type":"pageview",`+field+`}`)), 202, "", 0)
	}
	add("numbers", "big but fine value", post(ok(`,"type":"checkout_step","step":1,"value":1e15,"currency":"EUR"`)), 202, "", 1)

	// Far past and future times.
	now := time.Now()
	ms := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	add("times", "ts a year ahead, no sent", post(batch(ev("t1", vis(0), fmt.Sprintf(`,"ts":%d`, ms(365*24*time.Hour))))), 202, "future", 0)
	add("times", "ts and sent a year ahead (skew past MaxFuture)", post(batch(ev("t2", vis(0), fmt.Sprintf(`,"ts":%d,"sent":%d`, ms(365*24*time.Hour), ms(365*24*time.Hour))))), 202, "future", 0)
	add("times", "ts and sent an hour ahead (skew corrected)", post(ok(fmt.Sprintf(`,"ts":%d,"sent":%d`, ms(time.Hour), ms(time.Hour)))), 202, "", 1)
	add("times", "ts 2 days after sent", post(batch(ev("t3", vis(0), fmt.Sprintf(`,"ts":%d,"sent":%d`, ms(48*time.Hour), ms(0))))), 202, "future", 0)
	add("times", "ts 1970", post(batch(ev("t4", vis(0), `,"ts":1000,"sent":`+fmt.Sprint(ms(0))))), 202, "retention", 0)
	add("times", "ts year 3000", post(batch(ev("t5", vis(0), `,"ts":"3000-01-01T00:00:00Z"`))), 202, "future", 0)
	add("times", "ts year 1", post(batch(ev("t6", vis(0), `,"ts":"0001-01-01T00:00:00Z"`))), 202, "", 0)
	add("times", "ts as words", post(batch(ev("t7", vis(0), `,"ts":"yesterday"`))), 202, "ts", 0)
	add("times", "ts as RFC 3339, an hour ago", post(ok(`,"ts":"`+now.Add(-time.Hour).UTC().Format(time.RFC3339)+`"`)), 202, "", 1)
	add("times", "sent as an array", post(batch(ev("t9", vis(0), `,"sent":[1]`))), 202, "sent", 0)
	add("times", "ts beyond Unix ms range", post(batch(ev("t10", vis(0), `,"ts":1e16`))), 202, "ts", 0)

	// Unknown types.
	for name, typ := range map[string]string{
		"teleport": `"teleport"`, "empty": `""`, "number": `5`, "null": `null`, "upper case": `"PAGEVIEW"`,
		"with NUL": `"pageview\u0000"`, "padded": `" pageview"`, "object": `{}`, "1 KB": `"` + strings.Repeat("p", 1024) + `"`,
	} {
		add("types", name, post(batch(`{"id":"ty","visitor":"`+vis(0)+`","type":`+typ+`}`)), 202, "type", 0)
	}
	add("types", "missing", post(batch(`{"id":"ty","visitor":"`+vis(0)+`"}`)), 202, "type", 0)
	add("types", "search without query", post(batch(`{"id":"ty","visitor":"`+vis(0)+`","type":"search"}`)), 202, "query", 0)
	add("types", "custom without name", post(batch(`{"id":"ty","visitor":"`+vis(0)+`","type":"custom"}`)), 202, "name", 0)
	add("types", "identify without user", post(batch(`{"id":"ty","visitor":"`+vis(0)+`","type":"identify"}`)), 202, "user", 0)
	add("types", "event not an object", post(batch(`"pageview"`, `42`, `null`, `[]`)), 202, "object", 0)

	// Bad site ids.
	for name, site := range map[string]string{
		"dot dot": `../test`, "slash": `te/st`, "trailing dot dot": `test/..`, "backslash": `te\\st`,
		"full-width": `ｔｅｓｔ`, "space": `te st`, "65 chars": strings.Repeat("s", 65), "upper case": `TEST`,
		"NUL": `test\u0000`, "percent": `te%73t`, "unknown": `nope`,
	} {
		add("sites", name, post(`{"site":"`+site+`","events":[`+ev("s", vis(0), "")+`]}`), 404, "unknown site", 0)
	}
	add("sites", "empty", post(`{"site":"","events":[]}`), 400, "missing site", 0)
	add("sites", "missing", post(`{"events":[`+ev("s", vis(0), "")+`]}`), 400, "missing site", 0)
	add("sites", "event of another site", post(batch(`{"id":"s","type":"pageview","visitor":"`+vis(0)+`","site":"other"}`)), 202, "differs", 0)
	add("sites", "other site with this site's write key", post(`{"site":"other","events":[`+ev("s", vis(0), "")+`]}`, readAs(collectortest.WriteKey)), 401, "invalid write key", 0)
	add("sites", "wrong write key", post(ok(""), readAs("not-a-write-key-0123456789")), 401, "invalid write key", 0)

	// Visitor ids: 32 hex characters or a UUID are the id itself; any other
	// string up to 128 bytes (a backend's session id) is hashed into one,
	// so slashes and dot dots mean nothing: stored under the hash.
	for name, vid := range map[string]string{
		"dot dot": `../../etc/passwd`, "slash": `aaaa/bbbb`, "33 hex": strings.Repeat("a", 33),
		"31 hex": strings.Repeat("a", 31), "not hex": strings.Repeat("z", 32), "unicode": `ａａａａ`, "with NUL": `aaaa\u0000`,
	} {
		add("visitors", name+" is hashed", post(batch(`{"id":"vh","type":"pageview","visitor":"`+vid+`"}`)), 202, "", 1)
	}
	for name, vid := range map[string]string{"empty": ``, "all zero": strings.Repeat("0", 32), "129 bytes": strings.Repeat("a", 129)} {
		add("visitors", name, post(batch(`{"id":"vi","type":"pageview","visitor":"`+vid+`"}`)), 202, "visitor", 0)
	}
	add("visitors", "number", post(batch(`{"id":"vi","type":"pageview","visitor":123}`)), 202, "visitor", 0)
	add("visitors", "missing", post(batch(`{"id":"vi","type":"pageview"}`)), 202, "visitor", 0)
	add("visitors", "UUID form", post(batch(`{"id":"vu","type":"pageview","visitor":"01234567-89ab-cdef-0123-456789abcdef"}`)), 202, "", 1)

	// Duplicate ids: accepted (a retry), stored once.
	vd := next()
	add("duplicates", "same id twice in a batch", post(batch(ev("dup", vd, ""), ev("dup", vd, ""))), 202, "", 1)
	add("duplicates", "the same batch again", post(batch(ev("dup", vd, ""), ev("dup", vd, ""))), 202, "", 0)
	add("duplicates", "same id, other visitor", post(batch(ev("dup", next(), ""))), 202, "", 1)
	add("duplicates", "empty id", post(batch(ev("", vis(0), ""))), 202, "id", 0)
	add("duplicates", "id as a number", post(batch(`{"id":7,"type":"pageview","visitor":"`+vis(0)+`"}`)), 202, "id", 0)

	// Props.
	var props []string
	for i := range 10_000 {
		props = append(props, fmt.Sprintf(`"p%d":"v"`, i))
	}
	add("props", "10,000 props", post(batch(ev("p1", vis(0), `,"props":{`+strings.Join(props, ",")+`}`))), 202, "props", 0)
	add("props", "10,000 unknown fields", post(batch(ev("p2", vis(0), ","+strings.Join(props, ",")))), 202, "props", 0)
	add("props", "33 props", post(batch(ev("p3", vis(0), `,"props":{`+strings.Join(props[:33], ",")+`}`))), 202, "props", 0)
	add("props", "32 props", post(ok(`,"props":{`+strings.Join(props[:32], ",")+`}`)), 202, "", 1)
	add("props", "key of 1 KB", post(batch(ev("p5", vis(0), `,"props":{"`+strings.Repeat("k", 1024)+`":"v"}`))), 202, "props", 0)
	add("props", "value of 100 KB", post(batch(ev("p6", vis(0), `,"props":{"k":"`+strings.Repeat("v", 100<<10)+`"}`))), 202, "props", 0)
	add("props", "props as an array", post(batch(ev("p7", vis(0), `,"props":["a"]`))), 202, "props", 0)
	add("props", "empty key", post(batch(ev("p8", vis(0), `,"props":{"":"v"}`))), 202, "props", 0)
	add("props", "props null", post(ok(`,"props":null`)), 202, "", 1)

	// Huge URLs and headers: fasthttp's 4 KiB read buffer.
	add("headers", "request URI of 100 KB", get("/v1/p.gif?site=test&url="+strings.Repeat("a", 100<<10)), 431, "too large", 0)
	add("headers", "header of 100 KB", post(ok(""), "X-Big: "+strings.Repeat("h", 100<<10)), 431, "too large", 0)
	add("headers", "user agent of 10 KB", post(ok(""), "User-Agent: "+strings.Repeat("u", 10<<10)), 431, "too large", 0)
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("X-H%d: v", i)
	}
	add("headers", "1,000 headers", post(ok(""), many...), 431, "too large", 0)
	add("headers", "header without colon", post(ok(""), "NoColon"), 400, "malformed", 0)
	add("headers", "space before colon", post(ok(""), "X-A : b"), 0, "", 0)
	add("headers", "NUL in a header", post(ok(""), "X-A: a\x00b"), 0, "", 0)
	add("headers", "two differing Content-Lengths", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nContent-Length: 20\r\n\r\n{}", 0, "", 0)
	add("headers", "Content-Length and chunked (smuggling)", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /nope HTTP/1.1\r\n\r\n", 0, "", 0)
	add("headers", "bad chunk size", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "", 0)
	add("headers", "wrong content type", post(ok(""), "Content-Type: application/x-www-form-urlencoded"), 415, "content type", 0)
	add("headers", "multipart", post(ok(""), "Content-Type: multipart/form-data; boundary=b"), 415, "content type", 0)

	// Wrong methods: 405 with Allow.
	for _, m := range []string{"GET", "PUT", "DELETE", "PATCH"} {
		add("methods", m+" /v1/events", req(m, "/v1/events", nil, ""), 405, "POST", 0)
	}
	add("methods", "POST the pixel", req("POST", "/v1/p.gif?site=test", nil, ""), 405, "method", 0)
	add("methods", "POST a query", req("POST", "/v1/sites/test/visitors", []string{readAs(collectortest.ReadToken)}, ""), 405, "method", 0)
	add("methods", "PUT a trail", req("PUT", "/v1/sites/test/visitors/"+vis(0)+"/trail", []string{readAs(collectortest.ReadToken)}, "{}"), 405, "method", 0)
	add("methods", "POST the snippet", req("POST", "/t.js", nil, ""), 405, "method", 0)
	add("methods", "unknown method", req("BREW", "/v1/events", nil, ""), 405, "POST", 0)

	// CORS: other origins.
	for name, o := range map[string]string{
		"evil": "https://evil.example", "null": "null", "other scheme": "http://shop.example",
		"suffix": "https://shop.example.evil.com", "other port": "https://shop.example:444", "sub domain": "https://www.shop.example",
	} {
		add("CORS", name, post(batch(ev("c", vis(0), "")), "Origin: "+o), 403, "origin", 0)
		add("CORS", name+" preflight", req("OPTIONS", "/v1/events?site=test", []string{"Origin: " + o, "Access-Control-Request-Method: POST"}, ""), 403, "not allowed", 0)
	}
	add("CORS", "allowed origin", post(ok(""), "Origin: https://shop.example"), 202, "", 1)

	// The query API: tokens.
	trail := "/v1/sites/test/visitors/" + vis(1) + "/trail"
	add("tokens", "no token", get(trail), 401, "token", 0)
	add("tokens", "wrong token", get(trail, readAs("wrong-token-0123456789")), 401, "token", 0)
	add("tokens", "other site's token", get(trail, readAs(collectortest.OtherRead)), 403, "may not read", 0)
	add("tokens", "Bearer without token", get(trail, "Authorization: Bearer "), 401, "token", 0)
	add("tokens", "token in the query", get(trail+"?token="+collectortest.ReadToken), 401, "token", 0)
	add("tokens", "Basic auth", get(trail, "Authorization: Basic cmVhZDpyZWFk"), 401, "token", 0)
	add("tokens", "write key as a token", get(trail, readAs(collectortest.WriteKey)), 401, "token", 0)
	add("tokens", "token prefix", get(trail, readAs(collectortest.ReadToken[:10])), 401, "token", 0)
	add("tokens", "token with a suffix", get(trail, readAs(collectortest.ReadToken+"x")), 401, "token", 0)
	add("tokens", "read token deletes", req("DELETE", "/v1/sites/test/visitors/"+vis(1), []string{readAs(collectortest.ReadToken)}, ""), 403, "admin", 0)
	add("tokens", "read token on an unknown site", get("/v1/sites/nope/visitors", readAs(collectortest.ReadToken)), 403, "may not read", 0)
	add("tokens", "admin token on an unknown site", get("/v1/sites/nope/visitors", readAs(collectortest.AdminToken)), 404, "unknown site", 0)
	add("tokens", "metrics without a token", get("/metrics"), 401, "token", 0)
	add("tokens", "lower-case bearer works", get(trail, "Authorization: bearer "+collectortest.ReadToken), 200, "", 0)

	// Path tricks.
	rt := readAs(collectortest.ReadToken)
	add("paths", "dot dot to another site", get("/v1/sites/test/../other/visitors", rt), 404, "not found", 0)
	add("paths", "encoded dot dot", get("/v1/sites/%2e%2e/other/visitors", rt), 404, "no such endpoint", 0)
	add("paths", "encoded slash in the site", get("/v1/sites/test%2Fother/visitors", rt), 403, "may not read", 0)
	add("paths", "bad escape", get("/v1/sites/%zz/visitors", rt), 400, "escape", 0)
	add("paths", "NUL in the site", get("/v1/sites/test%00/visitors", rt), 403, "may not read", 0)
	add("paths", "trailing segments", get(trail+"/x/y", rt), 404, "not found", 0)
	add("paths", "visitor with encoded slashes (hashed)", get("/v1/sites/test/visitors/aa%2F..%2F..%2Ftrail/trail", rt), 200, "", 0)
	add("paths", "user with dot dots", get("/v1/sites/test/users/..%2F..%2Fother/trail", rt), 404, "no visitor", 0)
	add("paths", "upper-case path", req("POST", "/V1/EVENTS", []string{"Content-Type: text/plain"}, "{}"), 404, "no such endpoint", 0)
	add("paths", "events with a trailing slash", req("POST", "/v1/events/", []string{"Content-Type: text/plain"}, "{}"), 404, "no such endpoint", 0)
	add("paths", "unknown query endpoint", get("/v1/sites/test/secrets", rt), 404, "not found", 0)
	add("paths", "absolute URI", req("GET", "http://evil.example/healthz", nil, ""), 200, "", 0)
	add("paths", "no such file", get("/etc/passwd"), 404, "no such endpoint", 0)
	add("paths", "encoded t in the site", get("/v1/sites/%74est/visitors", rt), 200, "", 0)

	// The pixel: always a GIF, stored only when valid.
	gif := func(t *testing.T, resp *http.Response, body string) {
		if resp.Header.Get("Content-Type") != "image/gif" || !strings.HasPrefix(body, "GIF89a") {
			t.Errorf("not a GIF: %q %q", resp.Header.Get("Content-Type"), body)
		}
	}
	pix := func(name, q string, stored int) {
		cs = append(cs, hostile{cat: "pixel", name: name, req: get("/v1/p.gif?" + q), status: 200, stored: stored, check: gif})
	}
	pix("no parameters", "", 0)
	pix("unknown site", "site=nope&type=pageview&visitor="+vis(0), 0)
	pix("unknown type", "site=test&type=teleport&visitor="+vis(0), 0)
	pix("dot dot visitor (hashed)", "site=test&type=pageview&visitor=..%2F..", 1)
	pix("ts NaN", "site=test&type=pageview&visitor="+vis(0)+"&ts=NaN", 0)
	pix("site twice: the last wins, as in JSON", "site=test&site=other&type=pageview&visitor="+vis(0), 1)
	pix("bad escape kept as text", "site=test&type=pageview&visitor="+vis(0)+"&url=%zz", 1)
	pix("100 params", "site=test&type=pageview&visitor="+vis(0)+strings.Repeat("&a=b", 100), 0)
	pix("valid", "site=test&type=pageview&url=https%3A%2F%2Fshop.example%2F&visitor="+next(), 1)
	pix("valid, reloaded in the same second", "site=test&type=pageview&url=https%3A%2F%2Fshop.example%2F&visitor="+vis(v), 0)
	pix("cookieless", "site=test&type=pageview&cookieless=1&url=https%3A%2F%2Fshop.example%2Fc", 1)
	pix("invalid UTF-8 in the URL", "site=test&type=pageview&visitor="+next()+"&title=%ff%fe", 1)

	// Bare LF and pipelining.
	lf := func(name, raw string) {
		cs = append(cs, hostile{cat: "framing", name: name, req: raw, status: 0, within: time.Second})
	}
	lf("bare-LF GET", "GET /healthz HTTP/1.1\nHost: x\n\n")
	lf("bare-LF POST", "POST /v1/events HTTP/1.1\nHost: x\nContent-Type: text/plain\nContent-Length: 2\n\n{}")
	lf("mixed line ends", "GET /healthz HTTP/1.1\r\nHost: x\n\n")
	lf("CR only", "GET /healthz HTTP/1.1\rHost: x\r\r")
	lf("TLS client hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
	lf("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	lf("no version", "GET /healthz\r\n\r\n")
	lf("garbage", "\x00\x01\x02\x03\r\n\r\n")
	lf("headers never end", "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	pipelined := func(name string, reqs []string, want []int) {
		stored := 0
		if want[1] == 202 {
			stored = 1
		}
		cs = append(cs, hostile{cat: "framing", name: name, req: strings.Join(reqs, ""), status: want[0], pipeline: want, stored: stored})
	}
	keep := func(s string) string { return strings.Replace(s, "Connection: close\r\n", "", 1) }
	pipelined("three pipelined requests", []string{keep(get("/healthz")), keep(post(ok(""))), get("/readyz")}, []int{200, 202, 200})
	pipelined("pipelined then garbage", []string{keep(get("/healthz")), "\x00garbage\r\n\r\n"}, []int{200, 400})
	pipelined("pipelined refusal keeps the connection", []string{keep(post(batch(ev("pp", vis(0), "")), "Origin: https://evil.example")), get("/healthz")}, []int{403, 200})
	add("framing", "HTTP/1.0", strings.Replace(post(ok("")), "HTTP/1.1", "HTTP/1.0", 1), 202, "", 1)

	// Rate limit and privacy.
	for i := range 6 {
		st, e := 202, ""
		if i == 5 {
			st, e = 429, "rate limit"
		}
		cs = append(cs, hostile{cat: "rate", name: fmt.Sprintf("request %d of one address", i+1),
			req: post(batch(), "X-Forwarded-For: 192.0.2.99"), status: st, err: e, sameIP: true})
	}
	add("privacy", "DNT", post(batch(ev("dnt", vis(0), "")), "DNT: 1"), 202, "", 0)
	add("privacy", "Sec-GPC", post(batch(ev("gpc", vis(0), "")), "Sec-GPC: 1"), 202, "", 0)
	add("privacy", "a bot", post(batch(ev("bot", vis(0), "")), "User-Agent: Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"), 202, "", 0)
	return cs
}

func TestHostileCatalogue(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.ProxyHeader = "X-Forwarded-For" // loopback is the trusted proxy: each case its own client
		c.RatePerIP, c.RateBurst = 0.001, 5
		c.RespectDNT = true
		c.Sites[0].Origins = []string{"https://shop.example"}
	}})
	cases := hostileCatalogue()
	if len(cases) < 150 {
		t.Fatalf("%d cases, want at least 150", len(cases))
	}
	byCat := map[string]int{}
	stored := 0
	for i, tc := range cases {
		byCat[tc.cat]++
		t.Run(tc.cat+"/"+tc.name, func(t *testing.T) {
			raw := tc.req
			if !tc.sameIP {
				raw = strings.Replace(raw, "\r\nHost:", fmt.Sprintf("\r\nX-Forwarded-For: 198.18.%d.%d\r\nHost:", i/250, i%250+1), 1)
			}
			before := col.Writer.Stats().Records
			r := dial(t, col.Addr)
			start := time.Now()
			r.write(raw)
			within := tc.within
			if within == 0 {
				within = 10 * time.Second
			}
			switch {
			case tc.pipeline != nil:
				for j, want := range tc.pipeline {
					resp, body, err := r.answer(within)
					if err != nil || resp.StatusCode != want {
						t.Fatalf("answer %d: %v %v %s, want %d", j, resp, err, body, want)
					}
				}
			case tc.status == 0:
				resp, body, err := r.answer(within)
				if err == nil && resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
					t.Errorf("answered %d %s, want 400 or a closed connection", resp.StatusCode, body)
				}
				if took := time.Since(start); tc.within > 0 && took > tc.within {
					t.Errorf("answered or closed after %s, want within %s", took, tc.within)
				}
			default:
				resp, body, err := r.answer(within)
				if err != nil {
					t.Fatalf("no answer: %v", err)
				}
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tc.status, body)
				}
				if tc.check != nil {
					tc.check(t, resp, body)
				} else {
					checkHostileBody(t, resp, body, tc)
				}
			}
			if got := int(col.Writer.Stats().Records - before); got != tc.stored {
				t.Errorf("stored %d touchpoints, want %d", got, tc.stored)
			}
		})
		stored += tc.stored
	}
	t.Logf("%d hostile requests: %v", len(cases), byCat)

	// Alive and correct at the end.
	c := client{t, col.URL}
	if a := c.get("/healthz", ""); a.status != http.StatusOK {
		t.Fatalf("healthz after the catalogue: %d", a.status)
	}
	mustAccept(t, c.post(batch(ev("last", vis(9999), "")), nil), 1)
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+vis(9999)+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 1 || tr.Touchpoints[0]["id"] != "last" {
		t.Errorf("trail after the catalogue: %+v", tr.Touchpoints)
	}
	if got := int(col.Writer.Stats().Records); got != stored+1 {
		t.Errorf("store holds %d touchpoints, the cases stored %d + 1", got, stored)
	}
	n := 0
	for _, site := range []string{"test", "other"} {
		var vs struct{ Visitors []struct{ Count int } }
		c.get("/v1/sites/"+site+"/visitors?limit=1000", collectortest.AdminToken).json(t, &vs)
		for _, v := range vs.Visitors {
			n += v.Count
		}
	}
	if n != stored+1 {
		t.Errorf("the day index counts %d touchpoints, want %d", n, stored+1)
	}
}

// checkHostileBody checks a JSON answer: an error message for a refusal, or
// a 202 whose rejected events say why.
func checkHostileBody(t *testing.T, resp *http.Response, body string, tc hostile) {
	t.Helper()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && tc.status != http.StatusNoContent {
		t.Errorf("content type %q, want JSON", resp.Header.Get("Content-Type"))
	}
	switch {
	case tc.status >= 400:
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
			t.Fatalf("error body %q is not {\"error\":…}", body)
		}
		if !strings.Contains(strings.ToLower(e.Error), strings.ToLower(tc.err)) {
			t.Errorf("error %q, want it to mention %q", e.Error, tc.err)
		}
		if tc.status == 405 && resp.Header.Get("Allow") == "" {
			t.Error("405 without Allow")
		}
		if (tc.status == 429 || tc.status == 503) && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%d without Retry-After", tc.status)
		}
	case tc.status == http.StatusAccepted:
		var ia ingestAnswer
		if err := json.Unmarshal([]byte(body), &ia); err != nil {
			t.Fatalf("202 body %q: %v", body, err)
		}
		if tc.err != "" {
			if len(ia.Rejected) == 0 || !strings.Contains(ia.Rejected[0].Error, tc.err) {
				t.Errorf("rejected %+v, want the event rejected for %q", ia.Rejected, tc.err)
			}
		}
	}
}
