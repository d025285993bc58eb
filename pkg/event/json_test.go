package event

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAppendJSON(t *testing.T) {
	for _, typ := range Types {
		tp := full(typ)
		out := AppendJSON([]byte("prefix"), &tp)
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("dst was not appended to")
		}
		out = out[len("prefix"):]
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s: not JSON: %v: %s", typ, err, out)
		}
		props := map[string]any{}
		for _, p := range tp.Props {
			props[p.Key] = p.Value
		}
		want := map[string]any{
			"id": tp.ID, "type": typ.String(), "site": "shop", "visitor": testVisitorHex, "session": "sess-1", "seq": 42.0,
			"time": "2026-11-24T11:59:58.000000Z", "client_ts": "2026-11-24T11:59:56.999877Z",
			"client_sent": "2026-11-24T11:59:58.999544Z", "received": "2026-11-24T12:00:00.000000Z",
			"url": tp.URL, "title": tp.Title, "referrer": tp.Referrer, "name": "shipping", "query": "returns policy",
			"results": 7.0, "widget": "intercom", "step": 2.0, "value": 49.9, "currency": "EUR", "user": "u-42",
			"score": 4.0, "scale": 5.0, "comment": "slow\ndelivery", "props": props,
			"browser": "Chrome", "browser_version": "124.0", "os": "Windows", "os_version": "10", "device": "desktop",
			"bot": true, "country": "GB", "region": "GB-ENG", "city": "London", "channel": "search",
			"utm_source": "news", "utm_medium": "email", "utm_campaign": "spring", "utm_term": "shoes", "utm_content": "banner",
			"ip_prefix": "81.2.69.0/24",
		}
		if typ == TypeTicket {
			want["ticket"], want["status"], want["ticket_channel"] = "ZD-4711", "solved", "email"
			want["category"], want["subject"] = "returns", "Where is my refund? – ¿dónde?"
		}
		if !reflect.DeepEqual(m, want) {
			for k := range want {
				if !reflect.DeepEqual(m[k], want[k]) {
					t.Errorf("%s: %q = %#v, want %#v", typ, k, m[k], want[k])
				}
			}
			for k := range m {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: unexpected key %q", typ, k)
				}
			}
		}
		if bytes.Contains(out, []byte(testIP)) || bytes.Contains(out, []byte("SecretAgent")) {
			t.Errorf("%s: the client IP or user agent is in %s", typ, out)
		}
		if _, err := time.Parse(time.RFC3339Nano, m["time"].(string)); err != nil {
			t.Error(err)
		}
	}
	// Empty fields are left out; a search says it found nothing.
	for _, c := range []struct {
		tp   Touchpoint
		want string
	}{
		{Touchpoint{Type: TypePageview, Results: -1}, `{"type":"pageview"}`},
		{Touchpoint{Type: TypePageview, Results: 0}, `{"type":"pageview"}`},
		{Touchpoint{Type: TypeSearch, Results: 0, Query: "q"}, `{"type":"search","query":"q","results":0}`},
		{Touchpoint{Type: TypeSearch, Results: -1, Query: "q"}, `{"type":"search","query":"q"}`},
		{Touchpoint{Type: TypeFeedback, Results: -1}, `{"type":"feedback","score":0}`},
		{Touchpoint{Type: TypeCheckoutStep, Results: -1, Value: math.NaN(), Step: 1}, `{"type":"checkout_step","step":1}`},
	} {
		if got := string(AppendJSON(nil, &c.tp)); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	f := func(in string, wantOut string) {
		t.Helper()
		out := AppendJSONString([]byte("x"), in)[1:]
		if wantOut != "" && string(out) != wantOut {
			t.Errorf("AppendJSONString(%q) = %s, want %s", in, out, wantOut)
		}
		// What encoding/json reads back is what it would have written
		// (each invalid byte as U+FFFD).
		var got, want string
		std, _ := json.Marshal(in)
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("AppendJSONString(%q) = %s: %v", in, out, err)
		}
		if err := json.Unmarshal(std, &want); err != nil || got != want {
			t.Errorf("AppendJSONString(%q) = %s reads as %q; encoding/json's %s reads as %q", in, out, got, std, want)
		}
		for _, c := range out {
			if c < 0x20 {
				t.Errorf("AppendJSONString(%q) = %q holds a control character", in, out)
			}
		}
		if bytes.Contains(out, []byte("\u2028")) || bytes.Contains(out, []byte("\u2029")) {
			t.Errorf("AppendJSONString(%q) = %s holds a raw line or paragraph separator", in, out)
		}
	}
	f("", `""`)
	f("plain", `"plain"`)
	f(`quote " backslash \ slash /`, `"quote \" backslash \\ slash /"`)
	f("ctl \x00\x01\b\f\n\r\t\x1f\x7f", `"ctl \u0000\u0001\u0008\u000c\n\r\t\u001f`+"\x7f"+`"`)
	f("line \u2028 para \u2029", `"line \u2028 para \u2029"`)
	f("bad \xff utf8", `"bad \ufffd utf8"`)
	f("bad \xff\xfe twice", `"bad \ufffd\ufffd twice"`)
	f("cut \xe2\x82", "")
	f("surrogate \xed\xa0\x80", "")
	f("\xc0\xaf overlong", "")
	f("emoji 😀 é €", `"emoji 😀 é €"`)
	f("<script>&</script>", `"<script>&</script>"`)
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f(string(b), "")
		f(randString(r, 20), "")
	}
}

// What the SDK writes, the collector reads back as it was.
func TestWireRoundTrip(t *testing.T) {
	var tps []Touchpoint
	for _, typ := range Types {
		tps = append(tps, full(typ), valid(typ))
	}
	v6 := full(TypePageview)
	v6.ClientIP = netip.MustParseAddr(testIPv6)
	v6.TS, v6.Sent = 1764000000000001, 1764000000000999
	tps = append(tps, v6)
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		tp := randTouchpoint(r)
		tp.Results = max(tp.Results, -1)
		tp.Step = min(tp.Step, 1<<16)
		tp.Score, tp.Scale = max(tp.Score, 0), max(tp.Scale, 0)
		tp.Props = slices.DeleteFunc(tp.Props, func(p Prop) bool { return p.Key == "" })
		tp.TS, tp.Sent = max(tp.TS, 0), max(tp.Sent, 0)
		tps = append(tps, tp)
	}
	body := wireBatch(tps...)
	var d Decoder
	d.MaxEvents = len(tps)
	var b Batch
	if err := d.Decode(body, &b); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for i, tp := range tps {
		if b.Errs[i] != nil {
			t.Fatalf("event %d: %v: %s", i, b.Errs[i], AppendWire(nil, &tp))
		}
		if got, want := wireFields(b.Events[i]), wireFields(tp); !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d: %s\n got %+v\nwant %+v", i, AppendWire(nil, &tp), got, want)
		}
	}
	// The wire carries neither the enrichment nor the collector's times.
	if w := string(AppendWire(nil, &tps[0])); strings.Contains(w, "London") || strings.Contains(w, "received") {
		t.Errorf("enrichment on the wire: %s", w)
	}
}

func TestAppendWireEdges(t *testing.T) {
	f := func(tp Touchpoint, want string) {
		t.Helper()
		got := AppendWire(nil, &tp)
		if !json.Valid(got) || !strings.Contains(string(got), want) {
			t.Errorf("%s, want it to contain %s", got, want)
		}
	}
	tp := valid(TypePageview)
	tp.TS = -1500 // before 1970
	f(tp, `"ts":-1.500`)
	tp.TS = math.MinInt64
	f(tp, `"ts":-9223372036854775.808`)
	tp.TS = 1764000000000007
	f(tp, `"ts":1764000000000.007`)
	tp.ClientIP = netip.MustParseAddr(`fe80::1%"x`) // a zone could hold anything
	f(tp, `"ip":"fe80::1"`)
	tp.ClientIP, tp.UserAgent = netip.MustParseAddr(testIP), "ua \"quoted\""
	f(tp, `"ip":"81.2.69.160","ua":"ua \"quoted\""`)
}

// AppendTimeMicros writes what time's own formatting does, at every kind
// of date: epoch, leap days, century years, the last representable µs,
// before 1970 and past 9999 (the slow path), and random instants.
func TestAppendTimeMicros(t *testing.T) {
	want := func(us int64) string {
		return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	}
	cases := []int64{0, 1, 999_999, 1_000_000, 86_400_000_000 - 1, 951_782_400_000_000 /* 2000-02-29 */, 4_107_542_400_000_000, /* 2100-03-01 */
		253_402_300_799_999_999, 253_402_300_800_000_000, -1, -86_400_000_001}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		cases = append(cases, r.Int64N(253_402_300_800_000_000))
	}
	for _, us := range cases {
		if got := string(AppendTimeMicros(nil, us)); got != want(us) {
			t.Fatalf("AppendTimeMicros(%d) = %s, want %s", us, got, want(us))
		}
	}
}
