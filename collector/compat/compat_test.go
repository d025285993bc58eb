package compat

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// decodeWire puts b through the collector's own decoder, as the collector
// does, and returns the touchpoints with their decode errors.
func decodeWire(t *testing.T, b *Batch) *event.Batch {
	t.Helper()
	wire := b.AppendWire(nil, "shop")
	var d event.Decoder
	var out event.Batch
	if err := d.Decode(wire, &out); err != nil {
		t.Fatalf("the translation is not a wire batch: %v\n%s", err, wire)
	}
	for i, err := range out.Errs {
		if err != nil {
			t.Fatalf("event %d does not decode: %v\n%s", i, err, wire)
		}
	}
	return &out
}

func prop(tp *event.Touchpoint, k string) string { return tp.Prop(k) }

func TestSegmentBatchMapping(t *testing.T) {
	body := `{"batch":[
	 {"type":"page","messageId":"m1","anonymousId":"anon-1","name":"Pricing","timestamp":"2026-11-30T10:00:00.000Z",
	  "properties":{"url":"https://shop.example/pricing","title":"Pricing","referrer":"https://www.google.com/","path":"/pricing","plan":"pro"},
	  "context":{"userAgent":"Mozilla/5.0 Chrome/124","ip":"81.2.69.160","campaign":{"name":"spring","source":"news","medium":"email"}}},
	 {"type":"identify","messageId":"m2","anonymousId":"anon-1","userId":"u-42","traits":{"email":"a@b.example"}},
	 {"type":"track","messageId":"m3","userId":"u-42","event":"Products Searched","properties":{"query":"returns","results":0}},
	 {"type":"track","messageId":"m4","userId":"u-42","event":"Checkout Started","properties":{"revenue":25.5,"currency":"EUR","coupon":"X"}},
	 {"type":"track","messageId":"m5","userId":"u-42","event":"Checkout Step Completed","properties":{"step":2,"shipping_method":"DHL"}},
	 {"type":"track","messageId":"m6","userId":"u-42","event":"Order Completed","properties":{"total":30,"currency":"EUR","products":[{"sku":"a"}]}},
	 {"type":"track","messageId":"m7","userId":"u-42","event":"Live Chat Conversation Started","properties":{"agent_name":"Ana"}},
	 {"type":"track","messageId":"m8","userId":"u-42","event":"Feedback Submitted","properties":{"score":4,"scale":5,"comment":"ok"}},
	 {"type":"track","messageId":"m9","userId":"u-42","event":"Coupon Applied","properties":{"coupon":"X","nested":{"a":1},"list":[1]}},
	 {"type":"screen","messageId":"m10","anonymousId":"anon-1","name":"Settings"},
	 {"type":"group","messageId":"m11","userId":"u-42","groupId":"acme","traits":{"plan":"pro"}},
	 {"type":"alias","messageId":"m12","previousId":"anon-0","userId":"u-42"},
	 {"type":"track","messageId":"m13","event":"No visitor"},
	 {"type":"fly","messageId":"m14","userId":"u-42"}
	],"sentAt":"2026-11-30T10:00:05.000Z","writeKey":"wk"}`
	var s Segment
	var b Batch
	if err := s.Parse([]byte(body), "batch", Limits{}, &b); err != nil {
		t.Fatal(err)
	}
	if b.SiteKey != "wk" || b.Messages != 14 {
		t.Fatalf("site key %q, messages %d", b.SiteKey, b.Messages)
	}
	if len(b.Rejected) != 2 || b.Rejected[0].Index != 12 || b.Rejected[1].Index != 13 ||
		!strings.Contains(b.Rejected[1].Err, `unknown message type "fly"`) {
		t.Fatalf("rejected %+v", b.Rejected)
	}
	out := decodeWire(t, &b)
	ev := out.Events
	type want struct {
		typ  event.Type
		src  int
		id   string
		user string
	}
	wants := []want{
		{event.TypePageview, 0, "m1", ""}, {event.TypeIdentify, 1, "m2", "u-42"}, {event.TypeIdentify, 1, "", "u-42"},
		{event.TypeSearch, 2, "m3", "u-42"}, {event.TypeCheckoutStep, 3, "m4", "u-42"}, {event.TypeCheckoutStep, 4, "m5", "u-42"},
		{event.TypeCheckoutStep, 5, "m6", "u-42"}, {event.TypeChatOpen, 6, "m7", "u-42"}, {event.TypeFeedback, 7, "m8", "u-42"},
		{event.TypeCustom, 8, "m9", "u-42"}, {event.TypePageview, 9, "m10", ""}, {event.TypeCustom, 10, "m11", "u-42"},
		{event.TypeIdentify, 11, "m12", "u-42"},
	}
	if len(ev) != len(wants) {
		t.Fatalf("%d events, want %d", len(ev), len(wants))
	}
	for i, w := range wants {
		tp := &ev[i]
		if tp.Type != w.typ || b.Src[i] != w.src || (w.id != "" && tp.ID != w.id) || tp.User != w.user || tp.Seq != uint32(i+1) {
			t.Errorf("event %d: %s id %s user %q seq %d from %d; want %s id %s user %q from %d",
				i, tp.Type, tp.ID, tp.User, tp.Seq, b.Src[i], w.typ, w.id, w.user, w.src)
		}
	}
	anon, _ := event.ParseVisitor("anon-1")
	user, _ := event.ParseVisitor("u-42")
	prev, _ := event.ParseVisitor("anon-0")
	page := &ev[0]
	if page.Visitor != anon || page.URL != "https://shop.example/pricing?utm_campaign=spring&utm_source=news&utm_medium=email" ||
		page.Title != "Pricing" || page.Referrer != "https://www.google.com/" || page.UserAgent != "Mozilla/5.0 Chrome/124" ||
		page.ClientIP.String() != "81.2.69.160" || prop(page, "plan") != "pro" || prop(page, "name") != "Pricing" || prop(page, "path") != "" {
		t.Errorf("page: %+v", page)
	}
	if page.TS != time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC).UnixMicro() || page.Sent != time.Date(2026, 11, 30, 10, 0, 5, 0, time.UTC).UnixMicro() {
		t.Errorf("page times ts %d sent %d", page.TS, page.Sent)
	}
	if ev[1].Visitor != anon || ev[2].Visitor != user || ev[2].ID == ev[1].ID || len(ev[1].Props) != 0 {
		t.Errorf("identify pair: %+v / %+v (traits must not be stored)", ev[1], ev[2])
	}
	if s := &ev[3]; s.Visitor != user || s.Query != "returns" || s.Results != 0 || prop(s, "query") != "" {
		t.Errorf("search: %+v", s)
	}
	if c := &ev[4]; c.Step != 1 || c.Value != 25.5 || c.Currency != "EUR" || c.Name != CheckoutStarted || prop(c, "coupon") != "X" || prop(c, "revenue") != "" {
		t.Errorf("checkout started: %+v", c)
	}
	if c := &ev[5]; c.Step != 2 || prop(c, "shipping_method") != "DHL" {
		t.Errorf("checkout step: %+v", c)
	}
	if c := &ev[6]; c.Step != 3 || c.Value != 30 || c.Currency != "EUR" || prop(c, "products") != "" {
		t.Errorf("order: %+v (step: the journey's last checkout step)", c)
	}
	if c := &ev[7]; c.Widget != "live_chat" || prop(c, "agent_name") != "Ana" {
		t.Errorf("chat: %+v", c)
	}
	if f := &ev[8]; f.Score != 4 || f.Scale != 5 || f.Comment != "ok" {
		t.Errorf("feedback: %+v", f)
	}
	if c := &ev[9]; c.Name != "Coupon Applied" || prop(c, "coupon") != "X" || prop(c, "nested.a") != "1" || prop(c, "list") != "" {
		t.Errorf("custom: %+v", c)
	}
	if sc := &ev[10]; sc.Title != "Settings" || prop(sc, "screen") != "Settings" {
		t.Errorf("screen: %+v", sc)
	}
	if g := &ev[11]; g.Name != "Group" || prop(g, "group_id") != "acme" || prop(g, "plan") != "pro" {
		t.Errorf("group: %+v", g)
	}
	if a := &ev[12]; a.Visitor != prev {
		t.Errorf("alias: visitor %s, want previousId's", a.Visitor)
	}
}

func TestSegmentLimits(t *testing.T) {
	var s Segment
	var b Batch
	big := `{"type":"track","anonymousId":"a","event":"Big","properties":{"x":"` + strings.Repeat("x", SegmentMaxMessage) + `"}}`
	if err := s.Parse([]byte(`{"batch":[`+big+`,{"type":"track","anonymousId":"a","event":"Small"}]}`), "batch", Limits{}, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Rejected) != 1 || b.Rejected[0].Index != 0 || len(b.Events) != 1 || b.Events[0].Name != "Small" {
		t.Fatalf("a message over 32 KB must be refused alone: %+v, %d events", b.Rejected, len(b.Events))
	}
	if err := s.Parse([]byte(big), "track", Limits{}, &b); err != nil || len(b.Rejected) != 1 {
		t.Fatalf("single message over 32 KB: %v %+v", err, b.Rejected)
	}
	huge := `{"batch":[` + strings.Repeat(`{"type":"track","anonymousId":"a","event":"E"},`, SegmentMaxBatch/40) + `{}]}`
	if err := s.Parse([]byte(huge), "batch", Limits{}, &b); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a batch over 500 KB: %v, want ErrTooLarge", err)
	}
	for _, bad := range []string{`[]`, `{"batch":{}}`, `nope`} {
		if err := s.Parse([]byte(bad), "batch", Limits{}, &b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", bad, err)
		}
	}
	// Props are bounded: the count and the bytes of each.
	var props []string
	for i := range 50 {
		props = append(props, `"p`+string(rune('a'+i%26))+strings.Repeat("k", i)+`":"`+strings.Repeat("é", 200)+`"`)
	}
	if err := s.Parse([]byte(`{"anonymousId":"a","event":"Many","properties":{`+strings.Join(props, ",")+`}}`), "track", Limits{MaxProps: 10, MaxProp: 64}, &b); err != nil {
		t.Fatal(err)
	}
	tp := decodeWire(t, &b).Events[0]
	if len(tp.Props) != 10 {
		t.Fatalf("%d props, want 10", len(tp.Props))
	}
	for _, p := range tp.Props {
		if len(p.Value) > 64 || len(p.Key) > 64 || strings.ContainsRune(p.Value, '\uFFFD') {
			t.Fatalf("prop %q=%q not cut at a character within 64 bytes", p.Key, p.Value)
		}
	}
}

func TestSegmentIDWithoutMessageID(t *testing.T) {
	var s Segment
	var b Batch
	msg := []byte(`{"anonymousId":"a","event":"E","timestamp":"2026-11-30T10:00:00Z"}`)
	_ = s.Parse(msg, "track", Limits{}, &b)
	id1 := b.Events[0].ID
	_ = s.Parse(msg, "track", Limits{}, &b)
	if id1 == "" || b.Events[0].ID != id1 {
		t.Fatalf("a re-sent message without messageId must get the same id: %q %q", id1, b.Events[0].ID)
	}
	_ = s.Parse([]byte(`{"anonymousId":"a","event":"E","timestamp":"2026-11-30T10:00:01Z"}`), "track", Limits{}, &b)
	if b.Events[0].ID == id1 {
		t.Fatal("another message got the same id")
	}
}

func TestPostHogMapping(t *testing.T) {
	body := `{"api_key":"phc_x","sent_at":"2026-11-30T10:00:05Z","batch":[
	 {"event":"$pageview","distinct_id":"anon-1","uuid":"01900000-0000-7000-8000-000000000001","timestamp":"2026-11-30T10:00:00Z",
	  "properties":{"$current_url":"https://shop.example/","title":"Home","$referrer":"$direct","$session_id":"s1","$lib":"web","plan":"pro"}},
	 {"event":"$identify","distinct_id":"u-42","properties":{"$anon_distinct_id":"anon-1","$set":{"email":"a@b.example"}}},
	 {"event":"$create_alias","distinct_id":"u-42","properties":{"alias":"anon-0"}},
	 {"event":"Products Searched","distinct_id":"u-42","properties":{"query":"returns","$lib":"posthog-go"}},
	 {"event":"$set","distinct_id":"u-42","$set":{"a":1}},
	 {"event":"$screen","distinct_id":"u-42","properties":{"$screen_name":"Cart"}},
	 {"event":"signed up","properties":{"distinct_id":"u-42","token":"phc_x","source":"ad"}},
	 {"event":"nobody"}
	]}`
	var ph PostHog
	var b Batch
	if err := ph.Parse([]byte(body), Limits{}, &b); err != nil {
		t.Fatal(err)
	}
	if b.SiteKey != "phc_x" || b.Ignored != 1 || len(b.Rejected) != 1 || b.Rejected[0].Index != 7 {
		t.Fatalf("key %q ignored %d rejected %+v", b.SiteKey, b.Ignored, b.Rejected)
	}
	ev := decodeWire(t, &b).Events
	types := []event.Type{event.TypePageview, event.TypeIdentify, event.TypeIdentify, event.TypeIdentify, event.TypeSearch, event.TypePageview, event.TypeCustom}
	if len(ev) != len(types) {
		t.Fatalf("%d events, want %d", len(ev), len(types))
	}
	for i, typ := range types {
		if ev[i].Type != typ {
			t.Errorf("event %d: %s, want %s", i, ev[i].Type, typ)
		}
	}
	anon, _ := event.ParseVisitor("anon-1")
	user, _ := event.ParseVisitor("u-42")
	prev, _ := event.ParseVisitor("anon-0")
	if p := &ev[0]; p.Visitor != anon || p.URL != "https://shop.example/" || p.Title != "Home" || p.Referrer != "" ||
		p.Session != "s1" || prop(p, "plan") != "pro" || prop(p, "$lib") != "" || p.ID != "01900000-0000-7000-8000-000000000001" {
		t.Errorf("pageview: %+v", p)
	}
	if ev[1].Visitor != user || ev[1].User != "u-42" || ev[2].Visitor != anon || ev[2].User != "u-42" || len(ev[1].Props) != 0 {
		t.Errorf("identify: %+v / %+v", ev[1], ev[2])
	}
	if ev[3].Visitor != prev || ev[3].User != "u-42" {
		t.Errorf("alias: %+v", ev[3])
	}
	if ev[4].Query != "returns" || ev[5].Title != "Cart" || ev[6].Name != "signed up" || prop(&ev[6], "source") != "ad" || prop(&ev[6], "token") != "" {
		t.Errorf("search / screen / custom: %+v / %+v / %+v", ev[4], ev[5], ev[6])
	}
	// A bare array, the key in the properties (posthog-js).
	if err := ph.Parse([]byte(`[{"event":"$pageview","properties":{"distinct_id":"d","token":"phc_y","$current_url":"https://a.example/"}}]`), Limits{}, &b); err != nil || b.SiteKey != "phc_y" || len(b.Events) != 1 {
		t.Fatalf("array body: %v key %q %d events", err, b.SiteKey, len(b.Events))
	}
}

func TestPlausibleAndUmami(t *testing.T) {
	var br Browser
	var b Batch
	if err := br.Plausible([]byte(`{"n":"pageview","u":"https://shop.example/a?utm_source=x","d":"shop.example","r":null,"w":1280,"h":0}`), Limits{}, &b); err != nil {
		t.Fatal(err)
	}
	ev := decodeWire(t, &b).Events
	if !b.Cookieless || b.SiteKey != "shop.example" || ev[0].Type != event.TypePageview || ev[0].URL != "https://shop.example/a?utm_source=x" || len(ev[0].ID) != 32 {
		t.Fatalf("plausible pageview: %+v %+v", b, ev[0])
	}
	if err := br.Plausible([]byte(`{"n":"Signup","u":"https://shop.example/","d":"shop.example","p":"{\"plan\":\"pro\",\"n\":3}"}`), Limits{}, &b); err != nil {
		t.Fatal(err)
	}
	ev = decodeWire(t, &b).Events
	if ev[0].Type != event.TypeCustom || ev[0].Name != "Signup" || prop(&ev[0], "plan") != "pro" || prop(&ev[0], "n") != "3" {
		t.Fatalf("plausible custom: %+v", ev[0])
	}
	for _, bad := range []string{`{"u":"https://a/","d":"a"}`, `[]`, `{`} {
		if err := br.Plausible([]byte(bad), Limits{}, &b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", bad, err)
		}
	}

	if err := br.Umami([]byte(`{"type":"event","payload":{"website":"w-1","hostname":"shop.example","title":"Caf%C3%A9","url":"/menu?x=%25","referrer":""}}`), "http://shop.example:8080", Limits{}, &b); err != nil {
		t.Fatal(err)
	}
	ev = decodeWire(t, &b).Events
	if b.SiteKey != "w-1" || !b.Cookieless || ev[0].Type != event.TypePageview || ev[0].URL != "http://shop.example:8080/menu?x=%" || ev[0].Title != "Café" {
		t.Fatalf("umami pageview: %+v", ev[0])
	}
	if err := br.Umami([]byte(`{"type":"event","payload":{"website":"w-1","hostname":"shop.example","url":"/","name":"signup","data":{"plan":"pro"}}}`), "", Limits{}, &b); err != nil {
		t.Fatal(err)
	}
	ev = decodeWire(t, &b).Events
	if ev[0].Type != event.TypeCustom || ev[0].Name != "signup" || prop(&ev[0], "plan") != "pro" || ev[0].URL != "https://shop.example/" {
		t.Fatalf("umami custom: %+v", ev[0])
	}
	if err := br.Umami([]byte(`{"type":"identify","payload":{"website":"w-1","data":{"userId":"u-42"}}}`), "", Limits{}, &b); err != nil || decodeWire(t, &b).Events[0].User != "u-42" {
		t.Fatalf("umami identify: %v %+v", err, b.Events)
	}
	if err := br.Umami([]byte(`{"type":"identify","payload":{"website":"w-1","data":{"plan":"pro"}}}`), "", Limits{}, &b); err != nil || len(b.Events) != 0 || b.Ignored != 1 {
		t.Fatalf("umami identify without an id is ignored: %v %+v", err, b)
	}
}

func FuzzTranslate(f *testing.F) {
	f.Add([]byte(`{"batch":[{"type":"track","anonymousId":"a","event":"Order Completed","properties":{"total":"3"}}]}`))
	f.Add([]byte(`{"api_key":"k","batch":[{"event":"$identify","distinct_id":"u","properties":{"$anon_distinct_id":"a"}}]}`))
	f.Add([]byte(`{"n":"pageview","u":"https://a/","d":"a","p":"{\"a\":1}"}`))
	f.Add([]byte(`{"type":"event","payload":{"website":"w","hostname":"h","url":"/%zz"}}`))
	var s Segment
	var ph PostHog
	var br Browser
	var b Batch
	var d event.Decoder
	var out event.Batch
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(err error) {
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("untyped error %v", err)
				}
				return
			}
			for _, src := range b.Src {
				if src < 0 || src >= b.Messages {
					t.Fatalf("source index %d of %d messages", src, b.Messages)
				}
			}
			wire := b.AppendWire(nil, "s")
			d.MaxEvents = 1 << 20
			if err := d.Decode(wire, &out); err != nil {
				t.Fatalf("translation is not a wire batch: %v\n%s", err, wire)
			}
			if len(out.Events) != len(b.Events) {
				t.Fatalf("%d events written, %d decoded", len(b.Events), len(out.Events))
			}
		}
		check(s.Parse(body, "batch", Limits{}, &b))
		check(s.Parse(body, "track", Limits{}, &b))
		check(ph.Parse(body, Limits{}, &b))
		check(br.Plausible(body, Limits{}, &b))
		check(br.Umami(body, "https://h", Limits{}, &b))
	})
}

// A userId on any message stitches its visitor to the user, as identify
// does: one linking identify per visitor and user, just before the first
// message, with an id the same for every request.
func TestSegmentUserIDStitches(t *testing.T) {
	var s Segment
	var b Batch
	body := `{"batch":[
	 {"type":"track","messageId":"t1","anonymousId":"a","userId":"u","event":"One"},
	 {"type":"page","messageId":"t2","anonymousId":"a","userId":"u","name":"Two"},
	 {"type":"track","messageId":"t3","userId":"u","event":"Three"}]}`
	if err := s.Parse([]byte(body), "batch", Limits{}, &b); err != nil {
		t.Fatal(err)
	}
	ev := decodeWire(t, &b).Events
	var got []string
	for _, e := range ev {
		got = append(got, fmt.Sprintf("%s/%s/%s/%d", e.Type, e.ID, e.User, e.Seq))
	}
	link := linkID("u")
	want := []string{"identify/" + link + "/u/1", "custom/t1/u/2", "pageview/t2/u/3", "identify/" + link + "/u/4", "custom/t3/u/5"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
	a, _ := event.ParseVisitor("a")
	u, _ := event.ParseVisitor("u")
	if ev[0].Visitor != a || ev[3].Visitor != u || ev[0].TS != ev[1].TS {
		t.Fatalf("links on the wrong visitors or times: %+v %+v", ev[0], ev[3])
	}
}
