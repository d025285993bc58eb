package event

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// common are the fields every event of fullBatch carries.
const common = `"visitor":"0123456789abcdef0123456789abcdef","session":"s1","ts":1764000000000,"sent":1764000000500.25,` +
	`"url":"https://shop.example/?utm_source=news","title":"Shop","referrer":"https://www.google.com/",` +
	`"ip":"81.2.69.160","ua":"Mozilla/5.0","props":{"ab":"b"}`

const fullBatch = `{"site":"shop","cookieless":true,"events":[
 {"id":"p1","type":"pageview","seq":1,` + common + `},
 {"id":"s1","type":"search","seq":2,` + common + `,"query":"returns","results":0},
 {"id":"c1","type":"chat_open","seq":3,` + common + `,"widget":"intercom"},
 {"id":"k1","type":"checkout_step","seq":4,` + common + `,"step":2,"name":"shipping","value":49.9,"currency":"EUR"},
 {"id":"i1","type":"identify","seq":5,` + common + `,"user":"u-42"},
 {"id":"f1","type":"feedback","seq":6,` + common + `,"score":2,"scale":5,"comment":"slow"},
 {"id":"x1","type":"custom","seq":7,` + common + `,"name":"video_play","site":"other"}]}`

// fullBatchWant is fullBatch decoded.
func fullBatchWant() []Touchpoint {
	base := func(id string, typ Type, seq uint32) Touchpoint {
		return Touchpoint{ID: id, Type: typ, Site: "shop", Visitor: testVisitor, Session: "s1", Seq: seq,
			TS: 1764000000000000, Sent: 1764000000500250, URL: "https://shop.example/?utm_source=news", Title: "Shop",
			Referrer: "https://www.google.com/", Results: -1, Props: []Prop{{"ab", "b"}},
			ClientIP: netip.MustParseAddr(testIP), UserAgent: "Mozilla/5.0"}
	}
	p := base("p1", TypePageview, 1)
	s := base("s1", TypeSearch, 2)
	s.Query, s.Results = "returns", 0
	c := base("c1", TypeChatOpen, 3)
	c.Widget = "intercom"
	k := base("k1", TypeCheckoutStep, 4)
	k.Step, k.Name, k.Value, k.Currency = 2, "shipping", 49.9, "EUR"
	i := base("i1", TypeIdentify, 5)
	i.User = "u-42"
	f := base("f1", TypeFeedback, 6)
	f.Score, f.Scale, f.Comment = 2, 5, "slow"
	x := base("x1", TypeCustom, 7)
	x.Name, x.Site = "video_play", "other"
	return []Touchpoint{p, s, c, k, i, f, x}
}

func decode(t *testing.T, d *Decoder, b *Batch, body string) {
	t.Helper()
	if err := d.Decode([]byte(body), b); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

func TestDecodeFullBatch(t *testing.T) {
	var d Decoder
	var b Batch
	decode(t, &d, &b, fullBatch)
	if b.Site != "shop" || !b.Cookieless {
		t.Errorf("site %q, cookieless %v", b.Site, b.Cookieless)
	}
	want := fullBatchWant()
	if len(b.Events) != len(want) || len(b.Errs) != len(want) {
		t.Fatalf("%d events, %d errors; want %d", len(b.Events), len(b.Errs), len(want))
	}
	for i := range want {
		if b.Errs[i] != nil {
			t.Errorf("event %d: %v", i, b.Errs[i])
		}
		if !reflect.DeepEqual(b.Events[i], want[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, b.Events[i], want[i])
		}
		if err := b.Events[i].Validate(Limits{}, 1764000000000000); err != nil {
			t.Errorf("event %d does not validate: %v", i, err)
		}
	}
}

func TestDecodeStrings(t *testing.T) {
	f := func(jsonValue, want string) {
		t.Helper()
		var d Decoder
		var b Batch
		decode(t, &d, &b, `{"site":"s","events":[{"id":"1","type":"feedback","visitor":"v","comment":`+jsonValue+
			`,"title":`+jsonValue+`,"props":{"k":`+jsonValue+`}}]}`)
		tp := b.Events[0]
		if b.Errs[0] != nil || tp.Comment != want || tp.Title != want || tp.Prop("k") != want {
			t.Errorf("%s: comment %q, title %q, prop %q, %v; want %q", jsonValue, tp.Comment, tp.Title, tp.Prop("k"), b.Errs[0], want)
		}
	}
	f(`"plain"`, "plain")
	f(`""`, "")
	f(`"quote \" backslash \\ slash \/"`, `quote " backslash \ slash /`)
	f(`"ctl \b\f\n\r\t"`, "ctl \uFFFD\uFFFD\n\r\t") // the string rule: see TestDecodeStringRule
	f(`"\u00e9t\u00C9 \u20ac"`, "étÉ €")
	f(`"\ud83d\ude00 pair"`, "😀 pair")
	f(`"raw é € 😀"`, "raw é € 😀")
	f(`"\u2028\u2029\u0000"`, "\u2028\u2029\uFFFD")
	f(`"`+strings.Repeat(`\n`, 300)+`"`, strings.Repeat("\n", 300))
}

func TestDecodeProps(t *testing.T) {
	var d Decoder
	var b Batch
	decode(t, &d, &b, `{"site":"s","events":[{"id":"1","type":"custom","name":"n","visitor":"v",
		"props":{"s":"str","i":42,"f":-1.5e3,"t":true,"f2":false,"nul":null,"e":""},
		"plan":"pro","count":3}]}`)
	want := []Prop{{"s", "str"}, {"i", "42"}, {"f", "-1.5e3"}, {"t", "true"}, {"f2", "false"}, {"e", ""}, {"plan", "pro"}, {"count", "3"}}
	if b.Errs[0] != nil || !reflect.DeepEqual(b.Events[0].Props, want) {
		t.Errorf("props %q, %v;\nwant %q", b.Events[0].Props, b.Errs[0], want)
	}
	decode(t, &d, &b, `{"events":[{"id":"1","type":"custom","name":"n","visitor":"v","props":null}]}`)
	if b.Errs[0] != nil || len(b.Events[0].Props) != 0 {
		t.Errorf("null props: %q, %v", b.Events[0].Props, b.Errs[0])
	}
	for _, bad := range []string{`"props":{"o":{}}`, `"props":{"a":[1]}`, `"props":"x"`, `"props":[]`, `"nested":{"a":1}`, `"list":[]`} {
		decode(t, &d, &b, `{"events":[{"id":"1","type":"custom","name":"n","visitor":"v",`+bad+`}]}`)
		var ve *ValidationError
		if !errors.As(b.Errs[0], &ve) || ve.Field != "props" {
			t.Errorf("%s: %v, want an error on props", bad, b.Errs[0])
		}
	}
}

// An event with more props than a span can name is refused, not a panic.
func TestDecodeTooManyProps(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`{"site":"s","events":[{"id":"a","type":"pageview","visitor":"v","props":{`)
	for i := range 40000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"k%d":1`, i)
	}
	sb.WriteString(`}},{"id":"b","type":"pageview","visitor":"v","p":1}]}`)
	var d Decoder
	var b Batch
	decode(t, &d, &b, sb.String())
	if !errors.Is(b.Errs[0], ErrInvalid) || b.Errs[1] != nil || b.Events[1].Prop("p") != "1" || b.Events[1].ID != "b" {
		t.Errorf("errors %v, second event %+v", b.Errs, b.Events[1])
	}
}

func TestDecodeTimes(t *testing.T) {
	f := func(ts string, want int64) {
		t.Helper()
		var d Decoder
		var b Batch
		decode(t, &d, &b, `{"site":"s","events":[{"id":"1","type":"pageview","visitor":"v","ts":`+ts+`,"sent":`+ts+`}]}`)
		tp := b.Events[0]
		if want < 0 {
			var ve *ValidationError
			if !errors.As(b.Errs[0], &ve) || ve.Field != "ts" {
				t.Errorf("ts %s: %d, %v; want an error on ts", ts, tp.TS, b.Errs[0])
			}
			return
		}
		if b.Errs[0] != nil || tp.TS != want || tp.Sent != want {
			t.Errorf("ts %s: %d, %d, %v; want %d", ts, tp.TS, tp.Sent, b.Errs[0], want)
		}
	}
	us := func(tm time.Time) int64 { return tm.UnixMicro() }
	f(`1764000000000`, 1764000000000000)
	f(`1764000000000.123`, 1764000000000123) // rounded: 1764000000000.123 × 1000 is …122.99… in floating point
	f(`556160156927.34`, 556160156927340)
	f(`1.764e12`, 1764000000000000)
	f(`"1764000000000"`, 1764000000000000) // as the pixel sends it
	f(`"2025-11-24T16:00:01Z"`, us(time.Date(2025, 11, 24, 16, 0, 1, 0, time.UTC)))
	f(`"2025-11-24T17:00:01.123456+01:00"`, us(time.Date(2025, 11, 24, 16, 0, 1, 123456000, time.UTC)))
	f(`"2025-11-24T16:00:01.1234567Z"`, us(time.Date(2025, 11, 24, 16, 0, 1, 123456000, time.UTC)))
	f(`null`, 0)
	f(`0`, 0)
	f(`-1`, -1)
	f(`1e16`, -1)
	f(`"yesterday"`, -1)
	f(`"2025-11-24 16:00:01"`, -1)
	f(`true`, -1)
	f(`{}`, -1)
}

// One bad event never sinks its batch: only its Errs[i] is set.
func TestDecodeBadEvents(t *testing.T) {
	good := `{"id":"g","type":"pageview","visitor":"v","url":"https://x/"}`
	for _, c := range []struct{ event, field string }{
		{`"str"`, "event"},
		{`[]`, "event"},
		{`{"id":2,"type":"pageview","visitor":"v"}`, "id"},
		{`{"id":"1","type":"warp","visitor":"v"}`, "type"},
		{`{"id":"1","type":7,"visitor":"v"}`, "type"},
		{`{"id":"1","type":"pageview","visitor":""}`, "visitor"},
		{`{"id":"1","type":"pageview","visitor":12}`, "visitor"},
		{`{"id":"1","type":"pageview","visitor":"` + strings.Repeat("v", 129) + `"}`, "visitor"},
		{`{"id":"1","type":"pageview","visitor":"v","ip":"not-an-ip"}`, "ip"},
		{`{"id":"1","type":"pageview","visitor":"v","ip":"81.2.69"}`, "ip"},
		{`{"id":"1","type":"pageview","visitor":"v","ip":""}`, "ip"},
		{`{"id":"1","type":"pageview","visitor":"v","ip":1}`, "ip"},
		{`{"id":"1","type":"pageview","visitor":"v","url":["x"]}`, "url"},
		{`{"id":"1","type":"pageview","visitor":"v","title":1}`, "title"},
		{`{"id":"1","type":"pageview","visitor":"v","ua":false}`, "ua"},
		{`{"id":"1","type":"pageview","visitor":"v","site":null}`, "site"},
		{`{"id":"1","type":"pageview","visitor":"v","seq":-1}`, "seq"},
		{`{"id":"1","type":"pageview","visitor":"v","seq":1.5}`, "seq"},
		{`{"id":"1","type":"pageview","visitor":"v","seq":4294967296}`, "seq"},
		{`{"id":"1","type":"pageview","visitor":"v","seq":"x"}`, "seq"},
		{`{"id":"1","type":"search","visitor":"v","query":"q","results":-2}`, "results"},
		{`{"id":"1","type":"checkout_step","visitor":"v","step":70000}`, "step"},
		{`{"id":"1","type":"checkout_step","visitor":"v","step":1,"value":"lots"}`, "value"},
		{`{"id":"1","type":"checkout_step","visitor":"v","step":1,"value":"NaN"}`, "value"},
		{`{"id":"1","type":"checkout_step","visitor":"v","step":1,"value":1e999}`, "value"},
		{`{"id":"1","type":"feedback","visitor":"v","score":1001}`, "score"},
		{`{"id":"1","type":"feedback","visitor":"v","score":5,"scale":true}`, "scale"},
		{`{"id":"1","type":"pageview","visitor":"v","sent":"soon"}`, "sent"},
	} {
		t.Run(c.event, func(t *testing.T) {
			var d Decoder
			var b Batch
			decode(t, &d, &b, `{"site":"s","events":[`+good+`,`+c.event+`,`+good+`]}`)
			var ve *ValidationError
			if !errors.As(b.Errs[1], &ve) || ve.Field != c.field || !errors.Is(b.Errs[1], ErrInvalid) {
				t.Errorf("error %v, want one on %q", b.Errs[1], c.field)
			}
			for _, i := range []int{0, 2} {
				if b.Errs[i] != nil || b.Events[i].URL != "https://x/" || b.Events[i].Site != "s" {
					t.Errorf("good event %d: %v %+v", i, b.Errs[i], b.Events[i])
				}
			}
		})
	}
}

func TestDecodeLenientFields(t *testing.T) {
	var d Decoder
	var b Batch
	decode(t, &d, &b, `{"events":[{"id":"1","type":"search","visitor":"v","query":"q","results":"3","seq":"9","step":null,
		"value":"12.5","ip":"::ffff:81.2.69.160","score":null}]}`)
	tp := b.Events[0]
	if b.Errs[0] != nil || tp.Results != 3 || tp.Seq != 9 || tp.Value != 12.5 || tp.ClientIP != netip.MustParseAddr(testIP) {
		t.Errorf("%+v %v", tp, b.Errs[0])
	}
	// An IPv6 zone means nothing for a client, and could hold any bytes.
	decode(t, &d, &b, `{"events":[{"id":"1","type":"pageview","visitor":"v","ip":"fe80::1%\"x"}]}`)
	if b.Errs[0] != nil || b.Events[0].ClientIP != netip.MustParseAddr("fe80::1") {
		t.Errorf("zoned IP: %v %v", b.Events[0].ClientIP, b.Errs[0])
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, body := range []string{
		``, ` `, `{`, `{"events":[`, `{"events":[]} x`, `nul`, "{\"events\":[\x00]}",
		`[]`, `[{"type":"pageview"}]`, `"events"`, `42`, `null`, // not an object
		`{"events":{}}`, `{"events":"x"}`, `{"events":null}`, `{"events":1}`, // events not an array
		`{"site":1,"events":[]}`, `{"site":["s"],"events":[]}`, // site not a string
		`{}`, `{"site":"s"}`, `{"site":"s","cookieless":true}`, // no events, no type
	} {
		var d Decoder
		var b Batch
		if err := d.Decode([]byte(body), &b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", body, err)
		}
	}
}

func TestDecodeTooManyEvents(t *testing.T) {
	body := func(n int) []byte { return batchBody(n) }
	var d Decoder
	var b Batch
	if err := d.Decode(body(500), &b); err != nil || len(b.Events) != 500 {
		t.Errorf("500 events (the default limit): %v", err)
	}
	if err := d.Decode(body(501), &b); !errors.Is(err, ErrTooManyEvents) {
		t.Errorf("501 events: %v, want ErrTooManyEvents", err)
	}
	d.MaxEvents = 2
	if err := d.Decode(body(2), &b); err != nil || len(b.Events) != 2 {
		t.Errorf("2 events, MaxEvents 2: %v", err)
	}
	if err := d.Decode(body(3), &b); !errors.Is(err, ErrTooManyEvents) {
		t.Errorf("3 events, MaxEvents 2: %v, want ErrTooManyEvents", err)
	}
	if err := d.Decode([]byte(`{"events":[{},{},{}]}`), &b); !errors.Is(err, ErrTooManyEvents) || errors.Is(err, ErrMalformed) {
		t.Errorf("3 empty events: %v", err)
	}
}

func TestDecodeSingleEvent(t *testing.T) {
	var d Decoder
	var b Batch
	decode(t, &d, &b, `{"site":"s","id":"1","type":"search","visitor":"v","query":"q","ts":1764000000000}`)
	if len(b.Events) != 1 || b.Errs[0] != nil || b.Site != "s" {
		t.Fatalf("%d events, %v", len(b.Events), b.Errs)
	}
	if tp := b.Events[0]; tp.Type != TypeSearch || tp.Query != "q" || tp.Site != "s" || tp.ID != "1" || tp.TS != 1764000000000000 {
		t.Errorf("%+v", tp)
	}
	// An unknown type is still one event, rejected on its own.
	decode(t, &d, &b, `{"site":"s","id":"1","type":"warp","visitor":"v"}`)
	if len(b.Events) != 1 || !errors.Is(b.Errs[0], ErrInvalid) {
		t.Errorf("unknown type: %v", b.Errs)
	}
}

func TestDecodeBatchSite(t *testing.T) {
	var d Decoder
	var b Batch
	decode(t, &d, &b, `{"events":[{"id":"1"},{"id":"2","site":"own"}],"site":"batch"}`)
	if b.Site != "batch" || b.Events[0].Site != "batch" || b.Events[1].Site != "own" {
		t.Errorf("batch %q, events %q %q", b.Site, b.Events[0].Site, b.Events[1].Site)
	}
	decode(t, &d, &b, `{"events":[{"id":"1"}]}`)
	if b.Site != "" || b.Events[0].Site != "" {
		t.Errorf("no site: batch %q, event %q", b.Site, b.Events[0].Site)
	}
}

// The batch's strings are copies: fasthttp reuses the request body.
func TestDecodeDoesNotAliasBody(t *testing.T) {
	var d Decoder
	var b Batch
	body := []byte(fullBatch)
	if err := d.Decode(body, &b); err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'X'
	}
	// The decoder's own buffers are reused too: decode something else.
	var other Batch
	if err := d.Decode(batchBody(50), &other); err != nil {
		t.Fatal(err)
	}
	if b.Site != "shop" || !reflect.DeepEqual(b.Events, fullBatchWant()) {
		t.Errorf("strings changed with the body:\n%+v", b.Events)
	}
}

// A reused Decoder and Batch carry nothing over from the previous batch.
func TestDecoderReuse(t *testing.T) {
	var d Decoder
	var b Batch
	decode(t, &d, &b, fullBatch)
	decode(t, &d, &b, `{"events":[{"id":"1","type":"pageview","visitor":"v"},{"id":"2","type":"search","visitor":"v","query":"q","results":3},{"bad":{}}]}`)
	if b.Site != "" || b.Cookieless || len(b.Events) != 3 || b.Errs[0] != nil || b.Errs[1] != nil || b.Errs[2] == nil {
		t.Fatalf("batch %q %v, %d events, %v", b.Site, b.Cookieless, len(b.Events), b.Errs)
	}
	v, _ := ParseVisitor("v")
	want := Touchpoint{ID: "1", Type: TypePageview, Visitor: v, Results: -1}
	if got := b.Events[0]; len(got.Props) != 0 || !reflect.DeepEqual(wireFields(got), wireFields(want)) {
		t.Errorf("leftovers of the previous batch:\n got %+v\nwant %+v", got, want)
	}
	// The next batch is smaller; errors of the previous one are gone.
	decode(t, &d, &b, `{"site":"x","events":[{"id":"3","type":"pageview","visitor":"v"}]}`)
	if len(b.Events) != 1 || len(b.Errs) != 1 || b.Errs[0] != nil || b.Events[0].Results != -1 || b.Events[0].Site != "x" || b.Events[0].ID != "3" {
		t.Errorf("third batch: %+v %v", b.Events, b.Errs)
	}
	if old := b.Errs[:3]; old[2] != nil {
		t.Errorf("an old error kept beyond the length: %v", old)
	}
	// A failed decode leaves an empty batch.
	if err := d.Decode([]byte(`{"events":1}`), &b); err == nil || len(b.Events) != 0 || len(b.Errs) != 0 || b.Site != "" {
		t.Errorf("after a malformed body: %v, %d events", err, len(b.Events))
	}
	// And the decoder still works.
	decode(t, &d, &b, fullBatch)
	if !reflect.DeepEqual(b.Events, fullBatchWant()) {
		t.Errorf("after reuse:\n%+v", b.Events)
	}
}
