package event

import (
	"net/netip"
	"reflect"
	"testing"
)

// AppendJSON → ParseJSON gives the touchpoint back, field for field (but
// the transient inputs, which AppendJSON never writes).
func TestParseJSONRoundTrip(t *testing.T) {
	v, _ := ParseVisitor("0123456789abcdef0123456789abcdef")
	tps := []Touchpoint{
		{ID: "a", Type: TypeSearch, Site: "shop", Visitor: v, Session: "s1", Seq: 7, TS: 1764000000000001, Sent: 1764000000000500,
			Received: 1764000000100000, Derived: 1764000000099501, URL: "https://shop.example/?q=x", Query: "returns", Results: 0,
			Props: []Prop{{"z", "1"}, {"a", "\"2\""}}, Browser: "Firefox", BrowserVersion: "128.0", OS: "Linux", Device: DeviceDesktop,
			Country: "GB", Region: "ENG", City: "London", Channel: ChannelSearch, UTM: UTM{Source: "news", Campaign: "nov"}, IPPrefix: "81.2.69.0/24"},
		{ID: "b", Type: TypeCheckoutStep, Site: "shop", Visitor: v, Derived: 1764000000200000, Step: 3, Name: "paid", Value: 99.5,
			Currency: "EUR", Results: -1, Bot: true, Device: DeviceBot},
		{ID: "c", Type: TypeFeedback, Site: "shop", Visitor: v, Derived: 1764000000300000, Score: 0, Scale: 5, Comment: "meh", Results: -1},
	}
	for _, want := range tps {
		b := AppendJSON(nil, &want)
		var got Touchpoint
		got.ClientIP = netip.MustParseAddr("1.2.3.4") // cleared by ParseJSON
		if err := ParseJSON(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %s:\n got %+v\nwant %+v", b, got, want)
		}
	}
	for _, bad := range []string{`{"id":"x","type":"teleport","visitor":"v","time":"2026-11-30T00:00:00Z"}`, `{"id":"x","type":"pageview","visitor":"v"}`,
		`{"id":"x","type":"pageview","visitor":"v","time":"2026-11-30T00:00:00Z","extra":1}`, `{"type":"pageview","visitor":"v","time":"2026-11-30T00:00:00Z"}`, `[`} {
		var tp Touchpoint
		if err := ParseJSON([]byte(bad), &tp); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
