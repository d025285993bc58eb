package event

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecode feeds the wire decoder arbitrary bodies: it must never panic,
// and any event that decodes and validates must survive AppendWire → Decode.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(fullBatch))
	f.Add([]byte(`{"site":"s","id":"1","type":"search","visitor":"v","query":"q","results":"3"}`))
	f.Add([]byte(`{"site":"s","cookieless":true,"events":[{"id":"1","type":"pageview","ts":"1764000000000","props":null}]}`))
	f.Add([]byte(`{"events":[{"id":"\ud83d\ude00","type":"custom","name":"x","visitor":"01234567-89ab-cdef-0123-456789abcdef"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var d Decoder
		var b Batch
		if d.Decode(body, &b) != nil {
			return
		}
		for i := range b.Events {
			tp := b.Events[i]
			if tp.Site == "" {
				tp.Site = "s"
			}
			if b.Errs[i] != nil || tp.Validate(Limits{}, now) != nil {
				continue
			}
			wire := AppendWire([]byte(`{"events":[`), &tp)
			wire = append(wire, "]}"...)
			var b2 Batch
			if err := d.Decode(wire, &b2); err != nil || b2.Errs[0] != nil {
				t.Fatalf("re-decoding %s: %v %v", wire, err, b2.Errs)
			}
			got, want := wireFields(b2.Events[0]), wireFields(tp)
			if want.Type != TypeSearch && want.Results == 0 {
				want.Results = got.Results // results mean something on searches only
			}
			if !reflect.DeepEqual(got, want) {
				if len(got.Props) == 0 && len(want.Props) == 0 {
					got.Props, want.Props = nil, nil
					if reflect.DeepEqual(got, want) {
						continue
					}
				}
				t.Fatalf("round trip of %s:\n got %+v\nwant %+v", wire, got, want)
			}
		}
	})
}

// FuzzDecodeBinary feeds the storage decoder arbitrary bytes: it must never
// panic, and whatever decodes must re-encode to bytes that decode to the same
// touchpoint (hand-made input may be non-canonical: a present but empty
// field, a long varint).
func FuzzDecodeBinary(f *testing.F) {
	tp := valid(TypeCheckoutStep)
	tp.Props = []Prop{{"k", "v"}}
	tp.Value, tp.Currency, tp.Browser, tp.Device = 12.5, "EUR", "Chrome", DeviceMobile
	f.Add(AppendBinary(nil, &tp))
	f.Add(AppendBinary(nil, &Touchpoint{Type: TypePageview, Results: -1}))
	f.Add([]byte{1, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var tp Touchpoint
		if DecodeBinary(b, &tp) != nil {
			return
		}
		again := AppendBinary(nil, &tp)
		var back Touchpoint
		if err := DecodeBinary(again, &back); err != nil {
			t.Fatalf("re-encoding %x of %x does not decode: %v", again, b, err)
		}
		if len(tp.Props) == 0 {
			tp.Props, back.Props = nil, nil
		}
		if !reflect.DeepEqual(tp, back) {
			t.Fatalf("re-encoding changed the touchpoint:\n in %x\nout %x", b, again)
		}
		if again2 := AppendBinary(nil, &back); !bytes.Equal(again, again2) {
			t.Fatalf("encoding is not stable: %x vs %x", again, again2)
		}
	})
}
