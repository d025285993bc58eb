package event

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// Stored data outlives releases: the bytes that version 1 wrote (saved in
// testdata/binary_v1.hex before tickets existed) still decode to what was
// stored, and today's encoder still writes exactly those bytes for them.
func TestBinaryReadsVersion1Bytes(t *testing.T) {
	f, err := os.Open("testdata/binary_v1.hex")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, hx, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 1 {
			t.Fatalf("%s: version %d in the fixture", name, b[0])
		}
		var want Touchpoint
		if name == "typical" {
			want = typical()
		} else {
			want = fullV1(ParseType(name))
		}
		want = stored(want)
		var got Touchpoint
		if err := DecodeBinary(b, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
		if again := AppendBinary(nil, &got); !bytes.Equal(again, b) {
			t.Errorf("%s: today's encoder writes\n%x\nnot the version 1 bytes\n%x", name, again, b)
		}
		seen++
	}
	if seen != 8 {
		t.Fatalf("%d fixtures, want 8", seen)
	}
}

func TestBinaryTicketIsVersion2(t *testing.T) {
	tp := full(TypeTicket)
	buf := roundTrip(t, tp)
	if buf[0] != BinaryVersion2 {
		t.Fatalf("a ticket encodes as version %d", buf[0])
	}
	// Each ticket field alone makes version 2; none of them, version 1.
	for _, set := range []func(*Touchpoint){
		func(tp *Touchpoint) { tp.Ticket = "1" },
		func(tp *Touchpoint) { tp.Status = TicketReplied },
		func(tp *Touchpoint) { tp.TicketChannel = TicketPhone },
		func(tp *Touchpoint) { tp.TicketCategory = "billing" },
		func(tp *Touchpoint) { tp.Subject = "hi" },
	} {
		tp := Touchpoint{Type: TypeTicket, Results: -1}
		if b := roundTrip(t, tp); b[0] != BinaryVersion {
			t.Fatalf("an empty ticket encodes as version %d", b[0])
		}
		set(&tp)
		if b := roundTrip(t, tp); b[0] != BinaryVersion2 {
			t.Fatalf("%+v encodes as version %d", tp, b[0])
		}
	}
	bad := func(name string, b []byte) {
		t.Helper()
		var tp Touchpoint
		if err := DecodeBinary(b, &tp); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s (%x): %v, want ErrCorrupt", name, b, err)
		}
	}
	bad("version 1 with a ticket field", append([]byte{1, byte(TypeTicket), 0}, append(binaryUvarint(1<<bTicket), 1, '7')...))
	bad("version 2 without one", []byte{2, byte(TypeTicket), 0, 0})
	bad("zero status", append([]byte{2, byte(TypeTicket), 0}, append(binaryUvarint(1<<bStatus), 0)...))
	bad("zero channel", append([]byte{2, byte(TypeTicket), 0}, append(binaryUvarint(1<<bTicketChannel), 0)...))
	bad("version 3", []byte{3, byte(TypeTicket), 0, 0})
}

func TestDecodeTicket(t *testing.T) {
	body := []byte(`{"site":"s","events":[
	 {"id":"t1","type":"ticket","visitor":"v","ticket":4711,"status":"opened","ticket_channel":"email","category":"returns","subject":"Refund?","score":4,"scale":5},
	 {"id":"t2","type":"ticket","visitor":"v","ticket":"ZD-1","status":"closed"},
	 {"id":"t3","type":"ticket","visitor":"v","ticket":"ZD-1","status":"solved","ticket_channel":"fax"},
	 {"id":"c1","type":"custom","visitor":"v","name":"order","status":"paid","category":"shoes","subject":"x","ticket":"no"},
	 {"status":"solved","id":"t4","ticket":"9","type":"ticket","visitor":"v"},
	 {"id":"t5","type":"ticket","visitor":"v","props":{"ticket":"WEB-7","status":"opened","ticket_channel":"form","subject":"Parcel","plan":"pro"}}]}`)
	var d Decoder
	var b Batch
	if err := d.Decode(body, &b); err != nil {
		t.Fatal(err)
	}
	tp := b.Events[0]
	if b.Errs[0] != nil || tp.Type != TypeTicket || tp.Ticket != "4711" || tp.Status != TicketOpened || tp.TicketChannel != TicketEmail ||
		tp.TicketCategory != "returns" || tp.Subject != "Refund?" || tp.Score != 4 || tp.Scale != 5 {
		t.Errorf("ticket: %v %+v", b.Errs[0], tp)
	}
	if err := b.Errs[1]; err == nil || !strings.Contains(err.Error(), `status: unknown status "closed"`) {
		t.Errorf("unknown status: %v", err)
	}
	if err := b.Errs[2]; err == nil || !strings.Contains(err.Error(), `ticket_channel: unknown channel "fax"`) {
		t.Errorf("unknown channel: %v", err)
	}
	// On other types the names stay props, as before tickets.
	c := b.Events[3]
	if b.Errs[3] != nil || c.Ticket != "" || c.Status != 0 || c.Prop("status") != "paid" || c.Prop("category") != "shoes" || c.Prop("ticket") != "no" || c.Prop("subject") != "x" {
		t.Errorf("custom: %v %+v", b.Errs[3], c)
	}
	// Whatever the order of the fields.
	if e := b.Events[4]; b.Errs[4] != nil || e.Status != TicketSolved || e.Ticket != "9" {
		t.Errorf("status before type: %v %+v", b.Errs[4], e)
	}
	// As the snippet sends them: among the props.
	if e := b.Events[5]; b.Errs[5] != nil || e.Ticket != "WEB-7" || e.Status != TicketOpened || e.TicketChannel != TicketForm ||
		e.Subject != "Parcel" || len(e.Props) != 1 || e.Prop("plan") != "pro" {
		t.Errorf("ticket fields in props: %v %+v", b.Errs[5], e)
	}
}

func TestValidateTicket(t *testing.T) {
	f := func(name string, mod func(*Touchpoint), field string) {
		t.Helper()
		tp := valid(TypeTicket)
		mod(&tp)
		err := tp.Validate(Limits{}, now)
		var ve *ValidationError
		switch {
		case field == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case field != "" && (!errors.As(err, &ve) || ve.Field != field):
			t.Errorf("%s: %v, want an error on %s", name, err, field)
		}
	}
	f("valid", func(*Touchpoint) {}, "")
	f("no id", func(tp *Touchpoint) { tp.Ticket = "" }, "ticket")
	f("no status", func(tp *Touchpoint) { tp.Status = 0 }, "status")
	f("status out of range", func(tp *Touchpoint) { tp.Status = 9 }, "status")
	f("long subject", func(tp *Touchpoint) { tp.Subject = strings.Repeat("x", MaxTicketSubject+1) }, "subject")
	f("long category", func(tp *Touchpoint) { tp.TicketCategory = strings.Repeat("x", MaxTicketCategory+1) }, "category")
	f("long id", func(tp *Touchpoint) { tp.Ticket = strings.Repeat("x", MaxTicketID+1) }, "ticket")
	f("score over scale", func(tp *Touchpoint) { tp.Score, tp.Scale = 6, 5 }, "score")
	f("rated", func(tp *Touchpoint) { tp.Score, tp.Scale = 5, 5 }, "")
	pv := valid(TypePageview)
	pv.Ticket = "1"
	if err := pv.Validate(Limits{}, now); err == nil {
		t.Errorf("a page view with a ticket id validates")
	}
}

func TestTicketNames(t *testing.T) {
	for s := TicketStatus(1); s < ticketStatusCount; s++ {
		if ParseTicketStatus(s.String()) != s {
			t.Errorf("status %d: %q does not parse back", s, s)
		}
	}
	for c := TicketChannel(1); c < ticketChannelCount; c++ {
		if ParseTicketChannel(c.String()) != c {
			t.Errorf("channel %d: %q does not parse back", c, c)
		}
	}
	if ParseTicketStatus("") != 0 || ParseTicketChannel("") != 0 || ParseType("ticket") != TypeTicket {
		t.Error("empty names parse")
	}
}
