package badger

import (
	"bytes"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// FuzzFormat3 cuts arbitrary bytes as the write path does and puts them
// back as the read path does: an encoding that cut3 takes comes back byte
// for byte, and nothing panics, whatever the value or the context record
// holds.
func FuzzFormat3(f *testing.F) {
	tp := event.Touchpoint{ID: "0123456789abcdef0123456789abcdef", Type: event.TypePageview, Seq: 3, Results: -1,
		URL: "https://shop.example/p/1?x", Referrer: "https://shop.example/", Title: "P",
		Browser: "Chrome", BrowserVersion: "124", OS: "Android", Device: event.DeviceMobile, Country: "RO", City: "Cluj", Bot: true,
		IPPrefix: "81.2.69.0/24", Props: []event.Prop{{Key: "k", Value: "v"}}, Ticket: "T-1", Status: event.TicketOpened}
	tp.Derived, tp.TS = 1_795_000_000_000_000, 1_795_000_000_000_000
	f.Add(event.AppendBinary(nil, &tp), int64(tp.Derived), uint32(3), []byte{})
	tp.URL, tp.Referrer, tp.Browser, tp.Ticket, tp.Status = "", "https://other.example/", "", "", 0
	f.Add(event.AppendBinary(nil, &tp), int64(tp.Derived), uint32(3), []byte{0x81, 0x02, 1, 'x', 0})
	f.Fuzz(func(t *testing.T, v []byte, derived int64, seq uint32, junk []byte) {
		for _, inline := range []bool{false, true} {
			sp, ok := cut3(nil, nil, v, derived, seq, inline)
			if !ok {
				continue
			}
			var cs contexts
			if sp.ctx != nil {
				if err := cs.add(sp.h(), sp.ctx); err != nil {
					t.Fatalf("context of %x: %v", v, err)
				}
			}
			back, err := rebuild(nil, sp.val, derived, seq, cs)
			if err != nil || !bytes.Equal(back, v) {
				t.Fatalf("%x (inline %t): rebuilt %x, %v", v, inline, back, err)
			}
		}
		// Whatever is stored, reading it fails or succeeds, never panics.
		var cs contexts
		if len(junk) >= 4 {
			_ = cs.add(uint32(junk[0])<<24|uint32(junk[1])<<16|uint32(junk[2])<<8|uint32(junk[3]), junk[4:])
		}
		var tp event.Touchpoint
		_, _ = decodeValue(nil, append([]byte{valueFormat3}, v...), derived, seq, cs, &tp)
		if len(junk) >= 4 {
			_, _ = decodeValue(nil, append([]byte{valueFormat3, flagContext | flagURLRel, junk[0], junk[1], junk[2], junk[3]}, v...), derived, seq, cs, &tp)
		}
	})
}
