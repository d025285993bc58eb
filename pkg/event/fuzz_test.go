package event

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
)

// FuzzDecode feeds the wire decoder arbitrary bodies: it must never panic,
// and any event that decodes and validates must survive AppendWire → Decode
// with the fields the wire carries unchanged.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(fullBatch))
	f.Add(batchBody(3))
	f.Add([]byte(`{"site":"s","id":"1","type":"search","visitor":"v","query":"q","results":"3"}`))
	f.Add([]byte(`{"site":"s","cookieless":true,"events":[{"id":"1","type":"pageview","visitor":"v","ts":"1764000000000","props":null}]}`))
	f.Add([]byte(`{"events":[{"id":"\ud83d\ude00","type":"custom","name":"x\u2028\"","visitor":"01234567-89ab-cdef-0123-456789abcdef","plan":"pro","n":1.5e3}]}`))
	f.Add([]byte(`{"site":"s","events":[{"id":"1","type":"identify","visitor":"v","user":"u","ip":"2001:db8::1","ua":"Mozilla/5.0","ts":"2026-11-24T11:00:00.123456+01:00"}]}`))
	f.Add([]byte(`{"site":"s","events":[{"id":"1","type":"checkout_step","visitor":"v","step":2,"value":"49.90","currency":"EUR","sent":1795000000000.5}]}`))
	f.Add([]byte(`{"site":"s","events":[{"id":"1","type":"feedback","visitor":"v","score":4,"scale":5,"comment":"\\u0000"},"x",[],null]}`))
	f.Add([]byte(`{"site":"s","events":[{"id":"1","type":"ticket","visitor":"v","ticket":4711,"status":"solved","ticket_channel":"email","category":"returns","subject":"Refund?","score":4,"scale":5},{"id":"2","type":"custom","name":"n","status":"paid","visitor":"v"}]}`))
	r := rand.New(rand.NewPCG(7, 8))
	for range 4 {
		tp := randTouchpoint(r)
		f.Add(wireBatch(tp))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var d Decoder
		var b Batch
		if d.Decode(body, &b) != nil {
			return
		}
		if len(b.Events) != len(b.Errs) {
			t.Fatalf("%d events, %d errors", len(b.Events), len(b.Errs))
		}
		now := int64(1764000000000000) // near the seeds' times
		for i := range b.Events {
			tp := b.Events[i]
			if tp.Site == "" {
				tp.Site = "s"
			}
			if b.Errs[i] != nil || tp.Validate(Limits{}, now) != nil {
				continue
			}
			wire := wireBatch(tp)
			var b2 Batch
			if err := d.Decode(wire, &b2); err != nil || b2.Errs[0] != nil {
				t.Fatalf("re-decoding %s: %v %v", wire, err, b2.Errs)
			}
			if got, want := wireFields(b2.Events[0]), wireFields(tp); !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip of %s:\n got %+v\nwant %+v", wire, got, want)
			}
		}
	})
}

// FuzzDecodeBinary feeds the storage decoder arbitrary bytes: it must never
// panic, and whatever decodes re-encodes to the same bytes.
func FuzzDecodeBinary(f *testing.F) {
	for _, typ := range Types {
		tp := full(typ)
		f.Add(AppendBinary(nil, &tp))
	}
	tp := typical()
	f.Add(AppendBinary(nil, &tp))
	f.Add(AppendBinary(nil, &Touchpoint{Type: TypePageview, Results: -1}))
	f.Add([]byte{1, 1, 0, 0})
	r := rand.New(rand.NewPCG(9, 10))
	for range 4 {
		tp := randTouchpoint(r)
		f.Add(AppendBinary(nil, &tp))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tp Touchpoint
		if DecodeBinary(b, &tp) != nil {
			return
		}
		if again := AppendBinary(nil, &tp); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, tp, again)
		}
	})
}
