package event

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// now is the collector clock of the tests, in Unix µs.
var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC).UnixMicro()

const (
	testVisitorHex = "0123456789abcdef0123456789abcdef"
	testIP         = "81.2.69.160"
	testIPv6       = "2001:db8:85a3::8a2e:370:7334"
	testUA         = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) SecretAgent/1.0"
)

var testVisitor = VisitorID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}

// valid returns the smallest valid touchpoint of typ.
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
	case TypeTicket:
		tp.Ticket, tp.Status = "4711", TicketOpened
	case TypeEngagement:
		tp.Props = []Prop{{PropEngagedMS, "0"}, {PropScroll, "0"}}
	}
	return tp
}

// full returns a valid touchpoint of typ with every field set, the
// enrichment and the transient inputs included (the ticket fields on
// tickets only).
func full(typ Type) Touchpoint {
	tp := fullV1(typ)
	if typ == TypeTicket {
		tp.Ticket, tp.Status, tp.TicketChannel = "ZD-4711", TicketSolved, TicketEmail
		tp.TicketCategory, tp.Subject = "returns", "Where is my refund? – ¿dónde?"
	}
	return tp
}

// fullV1 is full with the fields of binary version 1 only: the golden
// bytes of testdata/binary_v1.hex were written from it.
func fullV1(typ Type) Touchpoint {
	tp := Touchpoint{
		ID: "evt-" + typ.String(), Type: typ, Site: "shop", Visitor: testVisitor, Session: "sess-1", Seq: 42,
		TS: now - 3_000_123, Sent: now - 1_000_456, Received: now, Derived: now - 2_000_000,
		URL: "https://shop.example/p/blue-shoes?utm_source=news", Title: `Blue "shoes" – é 😀`, Referrer: "https://www.google.com/",
		Name: "shipping", Query: "returns policy", Results: 7, Widget: "intercom", Step: 2, Value: 49.9, Currency: "EUR",
		User: "u-42", Score: 4, Scale: 5, Comment: "slow\ndelivery",
		Props:   []Prop{{"ab", "variant-b"}, {"n", "3"}, {"empty", ""}},
		Browser: "Chrome", BrowserVersion: "124.0", OS: "Windows", OSVersion: "10", Device: DeviceDesktop, Bot: true,
		Country: "GB", Region: "GB-ENG", City: "London", Channel: ChannelSearch,
		UTM:      UTM{"news", "email", "spring", "shoes", "banner"},
		IPPrefix: "81.2.69.0/24",
		ClientIP: netip.MustParseAddr(testIP), UserAgent: testUA,
	}
	if typ == TypeEngagement {
		tp.Props = append(tp.Props, Prop{PropEngagedMS, "12345"}, Prop{PropScroll, "80"})
	}
	return tp
}

// typical is a pageview as the snippet sends it, once enriched.
func typical() Touchpoint {
	return Touchpoint{ID: "9f86d081884c7d65a9f86d081884c7d6", Type: TypePageview, Site: "shop", Visitor: testVisitor,
		Seq: 3, Derived: now, TS: now - 2000, Sent: now - 1000, Received: now,
		URL: "https://shop.example/products/blue-shoes", Title: "Blue shoes", Referrer: "https://www.google.com/", Results: -1,
		Browser: "Chrome", BrowserVersion: "124.0", OS: "Windows", Device: DeviceDesktop, Country: "GB", Region: "ENG",
		City: "London", Channel: ChannelSearch}
}

func randString(r *rand.Rand, n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz éü€😀\"\\/\n\t\u2028<>"
	runes := []rune(chars)
	var sb strings.Builder
	for range r.IntN(n) {
		sb.WriteRune(runes[r.IntN(len(runes))])
	}
	return sb.String()
}

// randTouchpoint returns a touchpoint with random fields, each present or
// not; Site, Visitor, ClientIP and UserAgent are set too.
func randTouchpoint(r *rand.Rand) Touchpoint {
	s := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		return randString(r, 12)
	}
	maybe := func(v int64) int64 { return v * int64(r.IntN(2)) }
	tp := Touchpoint{ID: "id" + s(), Type: Types[r.IntN(len(Types))], Site: "site" + s(), Session: s(),
		Seq: uint32(maybe(int64(r.Uint32()))), Derived: now + r.Int64N(1e12) - 5e11,
		URL: s(), Title: s(), Referrer: s(), Name: s(), Query: s(),
		Results: int32(r.IntN(100)) - 1, Widget: s(), Step: uint32(r.IntN(9)), Value: float64(maybe(r.Int64N(1e6)-1e5)) / 100,
		Currency: s(), User: s(), Score: int32(r.IntN(21) - 10), Scale: int32(r.IntN(10)), Comment: s(),
		Browser: s(), BrowserVersion: s(), OS: s(), OSVersion: s(), Device: DeviceClass(r.IntN(int(deviceCount))),
		Bot: r.IntN(2) == 0, Country: s(), Region: s(), City: s(), Channel: Channel(r.IntN(int(channelCount))),
		UTM: UTM{s(), s(), s(), s(), s()}, IPPrefix: s(), UserAgent: testUA, ClientIP: netip.MustParseAddr(testIP)}
	binary.LittleEndian.PutUint64(tp.Visitor[:8], r.Uint64())
	binary.LittleEndian.PutUint64(tp.Visitor[8:], r.Uint64()|1)
	if r.IntN(4) == 0 {
		tp.ID = VisitorID{byte(r.Uint32())}.String() // a 32-hex id, stored as 16 bytes
	}
	if r.IntN(2) == 0 {
		tp.TS, tp.Sent, tp.Received = tp.Derived-r.Int64N(1e9)-1, tp.Derived+r.Int64N(1e9)+1, tp.Derived+r.Int64N(1e6)+1
	}
	for range r.IntN(4) {
		tp.Props = append(tp.Props, Prop{"k" + s(), s()})
	}
	if tp.Type == TypeTicket {
		tp.Ticket, tp.TicketCategory, tp.Subject = s(), s(), s()
		tp.Status = TicketStatus(r.IntN(int(ticketStatusCount)))
		tp.TicketChannel = TicketChannel(r.IntN(int(ticketChannelCount)))
	}
	return tp
}

// wireFields are the fields the wire format carries, normalised as the
// round trip legitimately changes them.
func wireFields(tp Touchpoint) Touchpoint {
	w := Touchpoint{ID: tp.ID, Type: tp.Type, Site: tp.Site, Visitor: tp.Visitor, Session: tp.Session, Seq: tp.Seq,
		TS: tp.TS, Sent: tp.Sent, URL: tp.URL, Title: tp.Title, Referrer: tp.Referrer, Name: tp.Name, Query: tp.Query,
		Results: tp.Results, Widget: tp.Widget, Step: tp.Step, Value: tp.Value, Currency: tp.Currency, User: tp.User,
		Score: tp.Score, Scale: tp.Scale, Comment: tp.Comment, Props: tp.Props, ClientIP: tp.ClientIP,
		Ticket: tp.Ticket, Status: tp.Status, TicketChannel: tp.TicketChannel, TicketCategory: tp.TicketCategory, Subject: tp.Subject,
		UserAgent: replaceInvalidUTF8(tp.UserAgent)}
	if len(w.Props) == 0 {
		w.Props = nil
	}
	if w.Type != TypeSearch && w.Results == 0 {
		w.Results = -1 // a count of results means something on searches only
	}
	return w
}

// replaceInvalidUTF8 replaces each invalid byte by U+FFFD, as JSON encoders
// do. (The user agent is not validated: it is an input to enrichment only.)
func replaceInvalidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		sb.WriteRune(r) // ranging yields U+FFFD for each invalid byte
	}
	return sb.String()
}

// wireBatch wraps touchpoints in a wire batch body.
func wireBatch(tps ...Touchpoint) []byte {
	b := []byte(`{"events":[`)
	for i := range tps {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendWire(b, &tps[i])
	}
	return append(b, "]}"...)
}

func TestTypeNames(t *testing.T) {
	for _, typ := range Types {
		if !typ.Valid() || ParseType(typ.String()) != typ {
			t.Errorf("%d: %q does not parse back", typ, typ)
		}
	}
	for _, s := range []string{"", "unknown", "Pageview", "pageview ", "type(9)"} {
		if typ := ParseType(s); typ != TypeUnknown {
			t.Errorf("ParseType(%q) = %v", s, typ)
		}
	}
	if TypeUnknown.Valid() || Type(200).Valid() || Type(200).String() != "type(200)" {
		t.Error("unknown types")
	}
	for d := DeviceUnknown + 1; d < deviceCount; d++ {
		if ParseDeviceClass(d.String()) != d {
			t.Errorf("device %d", d)
		}
	}
	for c := ChannelUnknown + 1; c < channelCount; c++ {
		if ParseChannel(c.String()) != c {
			t.Errorf("channel %d", c)
		}
	}
	if ParseDeviceClass("") != DeviceUnknown || ParseChannel("") != ChannelUnknown || DeviceClass(99).String() != "" || Channel(99).String() != "" {
		t.Error("unknown device or channel")
	}
}
