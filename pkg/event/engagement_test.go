package event

import (
	"errors"
	"testing"
)

func TestEngagement(t *testing.T) {
	f := func(ms, scroll string, wantOK bool) {
		t.Helper()
		tp := valid(TypeEngagement)
		tp.Props = nil
		if ms != "-" {
			tp.Props = append(tp.Props, Prop{PropEngagedMS, ms})
		}
		if scroll != "-" {
			tp.Props = append(tp.Props, Prop{PropScroll, scroll})
		}
		err := tp.Validate(Limits{}, now)
		if wantOK != (err == nil) {
			t.Errorf("engaged_ms %q scroll %q: %v", ms, scroll, err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("not a validation error: %v", err)
		}
		gotMS, gotScroll, ok := tp.Engagement()
		if ok != wantOK {
			t.Errorf("engaged_ms %q scroll %q: Engagement ok %v", ms, scroll, ok)
		}
		if ok && (gotMS != 12345 && ms == "12345" || gotScroll != 80 && scroll == "80") {
			t.Errorf("Engagement() = %d, %d", gotMS, gotScroll)
		}
	}
	f("12345", "80", true)
	f("0", "0", true)
	f("86400000", "100", true)
	f("-", "80", false)
	f("12345", "-", false)
	f("1.5", "80", false)
	f("-1", "80", false)
	f("86400001", "80", false)
	f("12345", "101", false)
	f("12345", "abc", false)

	// Through the wire, as the snippet and a backend send it: fields or props.
	for _, body := range []string{
		`{"site":"s","events":[{"id":"e1","type":"engagement","visitor":"0123456789abcdef0123456789abcdef","url":"https://s.example/faq","engaged_ms":12345,"scroll":80}]}`,
		`{"site":"s","events":[{"id":"e1","type":"engagement","visitor":"0123456789abcdef0123456789abcdef","url":"https://s.example/faq","props":{"engaged_ms":"12345","scroll":"80"}}]}`,
	} {
		var d Decoder
		var b Batch
		if err := d.Decode([]byte(body), &b); err != nil || len(b.Events) != 1 || b.Errs[0] != nil {
			t.Fatalf("decode %s: %v %+v", body, err, b.Errs)
		}
		tp := b.Events[0]
		tp.Site = "s"
		if err := tp.Validate(Limits{}, now); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if ms, sc, ok := tp.Engagement(); !ok || ms != 12345 || sc != 80 {
			t.Errorf("%s: Engagement() = %d %d %v", body, ms, sc, ok)
		}
		enc := AppendBinary(nil, &tp)
		var back Touchpoint
		if err := DecodeBinary(enc, &back); err != nil || back.Type != TypeEngagement {
			t.Fatalf("binary round trip: %v %v", err, back.Type)
		}
		if ms, sc, ok := back.Engagement(); !ok || ms != 12345 || sc != 80 {
			t.Errorf("after the binary round trip: %d %d %v", ms, sc, ok)
		}
	}
	if TypeTicket != 8 || TypeEngagement != 9 || !Type(8).Valid() || Type(8).String() != "ticket" {
		t.Error("type 8 is the ticket type, 9 engagement")
	}
}
