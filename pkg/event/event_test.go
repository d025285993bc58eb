package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC).UnixMicro()

func valid(typ Type) Touchpoint {
	tp := Touchpoint{ID: "e1", Type: typ, Site: "s", Visitor: VisitorID{1}, TS: now - 1e6, Results: -1}
	switch typ {
	case TypeSearch:
		tp.Query = "returns"
	case TypeCheckoutStep:
		tp.Step = 1
	case TypeIdentify:
		tp.User = "u"
	case TypeCustom:
		tp.Name = "video_play"
	case TypeFeedback:
		tp.Score, tp.Scale = 2, 5
	}
	return tp
}

func TestValidate(t *testing.T) {
	for _, typ := range Types {
		tp := valid(typ)
		if err := tp.Validate(Limits{}, now); err != nil {
			t.Errorf("valid %s: %v", typ, err)
		}
	}
	f := func(name, field string, mutate func(*Touchpoint)) {
		t.Helper()
		tp := valid(TypePageview)
		mutate(&tp)
		err := tp.Validate(Limits{}, now)
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(ve.Field, field) {
			t.Errorf("%s: %v, want a validation error on %q", name, err, field)
		}
	}
	f("unknown type", "type", func(tp *Touchpoint) { tp.Type = TypeUnknown })
	f("missing id", "id", func(tp *Touchpoint) { tp.ID = "" })
	f("long id", "id", func(tp *Touchpoint) { tp.ID = strings.Repeat("i", 65) })
	f("missing visitor", "visitor", func(tp *Touchpoint) { tp.Visitor = VisitorID{} })
	f("url over 2 KiB", "url", func(tp *Touchpoint) { tp.URL = "https://x/" + strings.Repeat("a", 2048) })
	f("referrer over 2 KiB", "referrer", func(tp *Touchpoint) { tp.Referrer = strings.Repeat("a", 2049) })
	f("33 props", "props", func(tp *Touchpoint) {
		for i := range 33 {
			tp.Props = append(tp.Props, Prop{Key: string(rune('a' + i%26)), Value: "v"})
		}
	})
	f("prop over 256 bytes", "props", func(tp *Touchpoint) { tp.Props = []Prop{{"k", strings.Repeat("v", 257)}} })
	f("invalid UTF-8", "title", func(tp *Touchpoint) { tp.Title = "bad \xff" })
	f("invalid UTF-8 prop", "props", func(tp *Touchpoint) { tp.Props = []Prop{{"k", "\xc3\x28"}} })
	f("a day ahead", "ts", func(tp *Touchpoint) { tp.TS = now + 25*3600e6 })
	f("older than retention", "ts", func(tp *Touchpoint) { tp.TS = now - 401*24*3600e6 })
	f("sent ahead", "sent", func(tp *Touchpoint) { tp.Sent = now + 25*3600e6 })
	f("search without query", "query", func(tp *Touchpoint) { tp.Type = TypeSearch })
	f("checkout without step", "step", func(tp *Touchpoint) { tp.Type = TypeCheckoutStep })
	f("identify without user", "user", func(tp *Touchpoint) { tp.Type = TypeIdentify })
	f("score above scale", "score", func(tp *Touchpoint) { tp.Type, tp.Score, tp.Scale = TypeFeedback, 6, 5 })
	f("custom without name", "name", func(tp *Touchpoint) { tp.Type = TypeCustom })
	// Five minutes of client skew is fine.
	tp := valid(TypePageview)
	tp.TS = now + 5*60e6
	if err := tp.Validate(Limits{}, now); err != nil {
		t.Errorf("5 min ahead: %v", err)
	}
}

func TestParseVisitor(t *testing.T) {
	hex := "0123456789abcdef0123456789abcdef"
	a, _ := ParseVisitor(hex)
	b, _ := ParseVisitor(strings.ToUpper(hex))
	c, _ := ParseVisitor("01234567-89ab-cdef-0123-456789abcdef")
	if a != b || a != c || a.String() != hex {
		t.Fatalf("hex %s, upper %s, uuid %s", a, b, c)
	}
	d1, _ := ParseVisitor("session-42")
	d2, _ := ParseVisitor("session-42")
	d3, _ := ParseVisitor("session-43")
	if d1 != d2 || d1 == d3 || d1.IsZero() {
		t.Fatalf("hashed ids: %s %s %s", d1, d2, d3)
	}
	if _, err := ParseVisitor(""); !errors.Is(err, ErrEmptyVisitor) {
		t.Errorf("empty: %v", err)
	}
	if _, err := ParseVisitor(strings.Repeat("v", 129)); err == nil {
		t.Error("129 bytes accepted")
	}
}

func TestDeriveTime(t *testing.T) {
	skew := int64(5 * 60e6)
	happened := now - 10e6
	tp := Touchpoint{TS: happened + skew, Sent: now - 1e6 + skew} // sent 1 s before it arrived
	tp.DeriveTime(now)
	if tp.Derived != happened+1e6 || tp.Received != now {
		t.Errorf("fast clock: derived %d, want %d", tp.Derived-happened, int64(1e6))
	}
	tp = Touchpoint{TS: happened}
	tp.DeriveTime(now)
	if tp.Derived != happened {
		t.Errorf("no sent: derived %d", tp.Derived)
	}
	tp = Touchpoint{}
	tp.DeriveTime(now)
	if tp.Derived != now {
		t.Errorf("no ts: derived %d", tp.Derived)
	}
	tp = Touchpoint{TS: now + 3600e6}
	tp.DeriveTime(now)
	if tp.Derived != now {
		t.Errorf("future: derived after received")
	}
}

const fullBatch = `{"site":"shop","events":[
 {"id":"p1","type":"pageview","visitor":"0123456789abcdef0123456789abcdef","session":"s1","seq":1,"ts":1764000000000,"sent":1764000000500,
  "url":"https://shop.example/?utm_source=news","title":"Shop \"home\" \u00e9","referrer":"https://www.google.com/","props":{"ab":"b","n":3,"yes":true}},
 {"id":"s1","type":"search","visitor":"0123456789abcdef0123456789abcdef","seq":2,"ts":"2025-11-24T16:00:01Z","query":"returns","results":0},
 {"id":"c1","type":"chat_open","visitor":"0123456789abcdef0123456789abcdef","seq":3,"widget":"intercom"},
 {"id":"k1","type":"checkout_step","visitor":"0123456789abcdef0123456789abcdef","seq":4,"step":2,"name":"shipping","value":49.9,"currency":"EUR"},
 {"id":"i1","type":"identify","visitor":"0123456789abcdef0123456789abcdef","seq":5,"user":"u-42","ip":"81.2.69.160","ua":"Mozilla/5.0"},
 {"id":"f1","type":"feedback","visitor":"0123456789abcdef0123456789abcdef","seq":6,"score":2,"scale":5,"comment":"slow"},
 {"id":"x1","type":"custom","visitor":"0123456789abcdef0123456789abcdef","seq":7,"name":"video_play","props":{"video":"intro"}}]}`

func TestDecodeFullBatch(t *testing.T) {
	var d Decoder
	var b Batch
	body := []byte(fullBatch)
	if err := d.Decode(body, &b); err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'X' // the batch's strings must not alias the body
	}
	if b.Site != "shop" || len(b.Events) != 7 {
		t.Fatalf("site %q, %d events", b.Site, len(b.Events))
	}
	for i, err := range b.Errs {
		if err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	p := b.Events[0]
	if p.Type != TypePageview || p.Site != "shop" || p.Session != "s1" || p.Seq != 1 || p.TS != 1764000000000000 ||
		p.Sent != 1764000000500000 || p.Title != `Shop "home" é` || p.Referrer != "https://www.google.com/" ||
		p.Prop("ab") != "b" || p.Prop("n") != "3" || p.Prop("yes") != "true" || p.Results != -1 {
		t.Errorf("pageview %+v", p)
	}
	if s := b.Events[1]; s.Query != "returns" || s.Results != 0 || s.TS != time.Date(2025, 11, 24, 16, 0, 1, 0, time.UTC).UnixMicro() {
		t.Errorf("search %+v", s)
	}
	if k := b.Events[3]; k.Step != 2 || k.Name != "shipping" || k.Value != 49.9 || k.Currency != "EUR" {
		t.Errorf("checkout %+v", k)
	}
	if i := b.Events[4]; i.User != "u-42" || i.ClientIP != netip.MustParseAddr("81.2.69.160") || i.UserAgent != "Mozilla/5.0" {
		t.Errorf("identify %+v", i)
	}
	if f := b.Events[5]; f.Score != 2 || f.Scale != 5 || f.Comment != "slow" {
		t.Errorf("feedback %+v", f)
	}
	// Reuse: a smaller batch leaves nothing of the previous one behind.
	if err := d.Decode([]byte(`{"site":"x","events":[{"id":"a","type":"pageview","visitor":"v"}]}`), &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 || len(b.Events[0].Props) != 0 || b.Events[0].Results != -1 || b.Events[0].Title != "" || b.Site != "x" {
		t.Errorf("reused batch kept old data: %+v", b.Events[0])
	}
}

func TestDecodeBadInput(t *testing.T) {
	var d Decoder
	var b Batch
	for _, body := range []string{``, `[]`, `{"events":{}}`, `{"site":1,"events":[]}`, `{"site":"s"}`, `{"events":[` + "\x00"} {
		if err := d.Decode([]byte(body), &b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", body, err)
		}
	}
	d.MaxEvents = 2
	if err := d.Decode([]byte(`{"events":[{},{},{}]}`), &b); !errors.Is(err, ErrTooManyEvents) {
		t.Errorf("3 events with MaxEvents 2: %v", err)
	}
	d.MaxEvents = 0
	body := `{"site":"s","events":[{"id":"1","type":"pageview","visitor":"v"},{"id":2},{"id":"3","type":"warp"},
		{"id":"4","visitor":"v","type":"pageview","ip":"not-an-ip"},{"id":"5","type":"pageview","visitor":"v","seq":-1},"str",
		{"id":"7","type":"pageview","visitor":"v"}]}`
	if err := d.Decode([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	wantErr := []string{"", "id", "type", "ip", "seq", "event", ""}
	for i, w := range wantErr {
		err := b.Errs[i]
		if w == "" && err != nil || w != "" && (err == nil || !strings.HasPrefix(err.Error(), w)) {
			t.Errorf("event %d: %v, want error on %q", i, err, w)
		}
	}
	// A body that is one event.
	if err := d.Decode([]byte(`{"site":"s","id":"1","type":"search","visitor":"v","query":"q"}`), &b); err != nil || len(b.Events) != 1 || b.Events[0].Query != "q" || b.Events[0].Site != "s" {
		t.Errorf("single event body: %v %+v", err, b.Events)
	}
}

func randString(r *rand.Rand, n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz éü€😀\"\\/\n"
	var sb strings.Builder
	for range r.IntN(n) {
		sb.WriteString(string([]rune(chars)[r.IntN(len([]rune(chars)))]))
	}
	return sb.String()
}

func randTouchpoint(r *rand.Rand) Touchpoint {
	s := func() string { return randString(r, 12) }
	tp := Touchpoint{ID: "id" + s(), Type: Types[r.IntN(len(Types))], Session: s(), Seq: r.Uint32(),
		Derived: now + r.Int64N(1e12) - 5e11, URL: s(), Title: s(), Referrer: s(), Name: s(), Query: s(),
		Results: int32(r.IntN(100)) - 1, Widget: s(), Step: uint32(r.IntN(9)), Value: float64(r.IntN(1e6)) / 100,
		Currency: s(), User: s(), Score: int32(r.IntN(10)), Scale: int32(r.IntN(10)), Comment: s(),
		Browser: s(), BrowserVersion: s(), OS: s(), OSVersion: s(), Device: DeviceClass(r.IntN(int(deviceCount))),
		Bot: r.IntN(2) == 0, Country: s(), Region: s(), City: s(), Channel: Channel(r.IntN(int(channelCount))),
		UTM: UTM{s(), s(), s(), s(), s()}, IPPrefix: s()}
	if r.IntN(2) == 0 {
		tp.TS, tp.Sent, tp.Received = tp.Derived-r.Int64N(1e9), tp.Derived+r.Int64N(1e9), tp.Derived+r.Int64N(1e6)
	}
	for range r.IntN(4) {
		tp.Props = append(tp.Props, Prop{"k" + s(), s()})
	}
	return tp
}

func TestBinaryRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var buf []byte
	for i := range 1000 {
		tp := randTouchpoint(r)
		tp.ClientIP, tp.UserAgent = netip.MustParseAddr("81.2.69.160"), "SecretAgent/1.0"
		buf = AppendBinary(buf[:0], &tp)
		if bytes.Contains(buf, []byte("81.2.69.160")) || bytes.Contains(buf, []byte{81, 2, 69, 160}) || bytes.Contains(buf, []byte("SecretAgent")) {
			t.Fatalf("case %d: the encoding holds the client IP or UA", i)
		}
		var back Touchpoint
		if err := DecodeBinary(buf, &back); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		tp.ClientIP, tp.UserAgent, tp.Site, tp.Visitor = netip.Addr{}, "", "", VisitorID{}
		if len(tp.Props) == 0 {
			tp.Props = back.Props[:0:0]
			back.Props = tp.Props
		}
		if !reflect.DeepEqual(tp, back) {
			t.Fatalf("case %d:\n got %+v\nwant %+v", i, back, tp)
		}
		// Every truncation is an error, never a panic.
		for n := range len(buf) {
			if err := DecodeBinary(buf[:n], &back); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("case %d truncated to %d: %v", i, n, err)
			}
		}
	}
	typical := Touchpoint{ID: "9f86d081884c7d65", Type: TypePageview, Seq: 3, Derived: now, TS: now - 2000, Sent: now - 1000, Received: now,
		URL: "https://shop.example/products/blue-shoes", Title: "Blue shoes", Referrer: "https://www.google.com/", Results: -1,
		Browser: "Chrome", BrowserVersion: "124.0", OS: "Windows", Device: DeviceDesktop, Country: "GB", Region: "ENG", City: "London", Channel: ChannelSearch}
	t.Logf("a typical pageview encodes to %d bytes (before Badger's compression)", len(AppendBinary(nil, &typical)))
	if err := DecodeBinary([]byte{9, 1, 0, 0}, &typical); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unknown version: %v", err)
	}
}

func TestJSON(t *testing.T) {
	var d Decoder
	var b Batch
	if err := d.Decode([]byte(fullBatch), &b); err != nil {
		t.Fatal(err)
	}
	for i := range b.Events {
		tp := &b.Events[i]
		tp.DeriveTime(now)
		out := AppendJSON(nil, tp)
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("AppendJSON output is not JSON: %v: %s", err, out)
		}
		if m["type"] != tp.Type.String() || m["id"] != tp.ID || bytes.Contains(out, []byte("81.2.69.160")) || m["ua"] != nil {
			t.Errorf("AppendJSON %s", out)
		}
		// The wire form decodes back to the same touchpoint.
		wire := AppendWire([]byte(`{"events":[`), tp)
		wire = append(wire, "]}"...)
		var b2 Batch
		var d2 Decoder
		if err := d2.Decode(wire, &b2); err != nil || b2.Errs[0] != nil {
			t.Fatalf("wire %s: %v %v", wire, err, b2.Errs)
		}
		got := b2.Events[0]
		got.DeriveTime(now)
		if !reflect.DeepEqual(wireFields(got), wireFields(*tp)) {
			t.Errorf("wire round trip:\n got %+v\nwant %+v", wireFields(got), wireFields(*tp))
		}
	}
	f := func(in string) {
		t.Helper()
		var back string
		out := AppendJSONString(nil, in)
		if err := json.Unmarshal(out, &back); err != nil || back != strings.ToValidUTF8(in, "\ufffd") {
			t.Errorf("AppendJSONString(%q) = %s → %q %v", in, out, back, err)
		}
	}
	f("plain")
	f("quote \" backslash \\ slash /")
	f("ctl \x00\x01\n\r\t\x1f")
	f("line \u2028 para \u2029")
	f("bad \xff utf8")
	f("emoji 😀 é")
}

// wireFields are the fields the wire format carries.
func wireFields(tp Touchpoint) Touchpoint {
	return Touchpoint{ID: tp.ID, Type: tp.Type, Site: tp.Site, Visitor: tp.Visitor, Session: tp.Session, Seq: tp.Seq,
		TS: tp.TS, Sent: tp.Sent, URL: tp.URL, Title: tp.Title, Referrer: tp.Referrer, Name: tp.Name, Query: tp.Query,
		Results: tp.Results, Widget: tp.Widget, Step: tp.Step, Value: tp.Value, Currency: tp.Currency, User: tp.User,
		Score: tp.Score, Scale: tp.Scale, Comment: tp.Comment, Props: tp.Props, ClientIP: tp.ClientIP, UserAgent: tp.UserAgent}
}

// The snippet's and the SDK's ids (32 hex characters) are stored as their
// 16 bytes, and come back as they were.
func TestHexIDsStoredCompactly(t *testing.T) {
	hexID := Touchpoint{ID: "0123456789abcdef0123456789abcdef", Type: TypePageview, Derived: now, Results: -1}
	other := hexID
	other.ID = "0123456789ABCDEF0123456789ABCDEF" // upper case: kept as text
	a, b := AppendBinary(nil, &hexID), AppendBinary(nil, &other)
	if len(b)-len(a) != 17 {
		t.Errorf("hex id takes %d bytes, text id %d: want 16 + 1 saved", len(a), len(b))
	}
	var back Touchpoint
	if err := DecodeBinary(a, &back); err != nil || back.ID != hexID.ID {
		t.Fatalf("%q %v", back.ID, err)
	}
	if err := DecodeBinary(b, &back); err != nil || back.ID != other.ID {
		t.Fatalf("%q %v", back.ID, err)
	}
}
