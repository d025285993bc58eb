package event

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

// stored is tp as DecodeBinary gives it back: without what the encoding
// leaves out (Site and Visitor, carried by the key; ClientIP and UserAgent,
// never stored).
func stored(tp Touchpoint) Touchpoint {
	tp.Site, tp.Visitor, tp.ClientIP, tp.UserAgent = "", VisitorID{}, netip.Addr{}, ""
	if tp.Results < -1 {
		tp.Results = -1
	}
	return tp
}

// roundTrip encodes tp, checks what the encoding must not hold and that
// every truncation of it fails, and decodes it.
func roundTrip(t *testing.T, tp Touchpoint) []byte {
	t.Helper()
	buf := AppendBinary([]byte("prefix"), &tp)[len("prefix"):]
	assertNoClientData(t, buf, tp)
	var back Touchpoint
	back.Props = []Prop{{"left", "over"}} // DecodeBinary resets
	back.Site = "left"
	if err := DecodeBinary(buf, &back); err != nil {
		t.Fatalf("decoding %x: %v", buf, err)
	}
	want := stored(tp)
	if len(want.Props) == 0 && len(back.Props) == 0 {
		back.Props = want.Props // nil and empty are the same here
	}
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, want)
	}
	if again := AppendBinary(nil, &back); !bytes.Equal(again, buf) {
		t.Fatalf("re-encoding differs:\n%x\n%x", again, buf)
	}
	for n := range len(buf) {
		if err := DecodeBinary(buf[:n], &back); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: %v, want ErrCorrupt", n, len(buf), err)
		}
	}
	return buf
}

func assertNoClientData(t *testing.T, buf []byte, tp Touchpoint) {
	t.Helper()
	if ip := tp.ClientIP; ip.IsValid() {
		if bytes.Contains(buf, []byte(ip.String())) || bytes.Contains(buf, ip.AsSlice()) {
			t.Fatalf("the encoding %x holds the client IP %s", buf, ip)
		}
		if a16 := ip.As16(); bytes.Contains(buf, a16[:]) {
			t.Fatalf("the encoding %x holds the client IP %s in 16 bytes", buf, ip)
		}
	}
	if tp.UserAgent != "" && bytes.Contains(buf, []byte(tp.UserAgent)) {
		t.Fatalf("the encoding holds the user agent")
	}
}

func TestBinaryFull(t *testing.T) {
	for _, typ := range Types {
		t.Run(typ.String(), func(t *testing.T) {
			roundTrip(t, full(typ))
			tp := full(typ)
			tp.ClientIP = netip.MustParseAddr(testIPv6)
			tp.ID = testVisitorHex // a 32-hex id
			roundTrip(t, tp)
		})
	}
}

func TestBinaryMinimal(t *testing.T) {
	for _, typ := range Types {
		roundTrip(t, Touchpoint{Type: typ, Results: -1})
		roundTrip(t, valid(typ))
	}
	buf := AppendBinary(nil, &Touchpoint{Type: TypePageview, Results: -1})
	if want := []byte{BinaryVersion, byte(TypePageview), 0, 0}; !bytes.Equal(buf, want) {
		t.Errorf("an empty pageview encodes to %x, want %x", buf, want)
	}
	// Edge values.
	tp := valid(TypeFeedback)
	tp.Derived, tp.TS, tp.Sent, tp.Received = math.MinInt64, math.MaxInt64, -1, 1
	tp.Seq, tp.Step, tp.Results = math.MaxUint32, math.MaxUint32, math.MaxInt32
	tp.Score, tp.Scale, tp.Value = math.MinInt32, math.MaxInt32, -math.MaxFloat64
	tp.Device, tp.Channel = 255, 255
	tp.Props = []Prop{{"", ""}}
	roundTrip(t, tp)
}

func TestBinaryRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		tp := randTouchpoint(r)
		if i%2 == 0 {
			tp.ClientIP = netip.MustParseAddr(testIPv6)
		}
		roundTrip(t, tp)
	}
}

// The client's IP and user agent are personal data: they feed enrichment
// and are never stored, even where the touchpoint holds them in every form.
func TestBinaryNeverStoresClientData(t *testing.T) {
	for _, ip := range []string{testIP, testIPv6, "::ffff:" + testIP} {
		tp := full(TypeIdentify)
		tp.ClientIP = netip.MustParseAddr(ip)
		buf := AppendBinary(nil, &tp)
		for _, needle := range [][]byte{[]byte(ip), []byte(tp.ClientIP.Unmap().String()), tp.ClientIP.AsSlice(), tp.ClientIP.Unmap().AsSlice(), []byte(testUA), []byte("SecretAgent")} {
			if bytes.Contains(buf, needle) {
				t.Errorf("the encoding of a touchpoint from %s holds %q", ip, needle)
			}
		}
	}
}

func TestBinaryCorrupt(t *testing.T) {
	good := AppendBinary(nil, &Touchpoint{ID: "e", Type: TypePageview, Seq: 1, Results: -1})
	f := func(name string, b []byte) {
		t.Helper()
		var tp Touchpoint
		if err := DecodeBinary(b, &tp); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s (%x): %v, want ErrCorrupt", name, b, err)
		}
	}
	var tp Touchpoint
	if err := DecodeBinary(good, &tp); err != nil || tp.ID != "e" || tp.Seq != 1 {
		t.Fatalf("good %x: %v %+v", good, err, tp)
	}
	with := func(i int, c ...byte) []byte {
		return append(append(append([]byte(nil), good[:i]...), c...), good[i+1:]...)
	}
	f("nil", nil)
	f("unknown version 0", with(0, 0))
	f("unknown version 2", with(0, 2))
	f("unknown version 255", with(0, 255))
	f("unknown type", with(1, 0))
	f("type out of range", with(1, byte(typeCount)))
	f("bit beyond the known fields", append([]byte{1, 1, 0}, binaryUvarint(1<<bitCount)...))
	f("trailing byte", append(good, 0))
	f("overlong bitmap varint", with(3, good[3]|0x80, 0))
	f("overlong derived varint", with(2, 0x80, 0))
	f("string length beyond the end", []byte{1, 1, 0, 1 << bURL, 5, 'a'})
	f("huge string length", append([]byte{1, 1, 0, 1 << bURL}, binaryUvarint(math.MaxUint64)...))
	f("present but empty string", []byte{1, 1, 0, 1 << bURL, 0})
	f("present but zero seq", []byte{1, 1, 0, 1 << bSeq, 0})
	f("seq over 32 bits", append([]byte{1, 1, 0, 1 << bSeq}, binaryUvarint(1<<32)...))
	f("text id that is 32 hex", append([]byte{1, 1, 0, 1 << bID, 32}, testVisitorHex...))
	f("both id forms", []byte{1, 1, 0, 1<<bID | 1<<bIDHex, 1, 'e', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f("short hex id", []byte{1, 1, 0, 1 << bIDHex, 1, 2, 3})
	f("NaN value", append(append([]byte{1, 1, 0}, binaryUvarint(1<<bValue)...), 0, 0, 0, 0, 0, 0, 0xf8, 0x7f))
	f("zero value", append(append([]byte{1, 1, 0}, binaryUvarint(1<<bValue)...), 0, 0, 0, 0, 0, 0, 0, 0))
	f("props count beyond the end", append(append([]byte{1, 1, 0}, binaryUvarint(1<<bProps)...), 100, 0, 0))
	f("zero props", append(append([]byte{1, 1, 0}, binaryUvarint(1<<bProps)...), 0))
	f("score over 32 bits", append(append([]byte{1, 1, 0}, binaryUvarint(1<<bScore)...), binaryVarint(1<<40)...))
	f("derived time of 11 bytes", []byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0})
}

func binaryUvarint(v uint64) []byte {
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func binaryVarint(v int64) []byte { return binaryUvarint(uint64(v<<1) ^ uint64(v>>63)) }

// The snippet's and the SDK's ids (32 hex characters) are stored as their
// 16 bytes, and come back as they were.
func TestBinaryHexIDs(t *testing.T) {
	hexID := Touchpoint{ID: testVisitorHex, Type: TypePageview, Derived: now, Results: -1}
	other := hexID
	other.ID = "0123456789ABCDEF0123456789ABCDEF" // upper case: kept as text
	a, b := roundTrip(t, hexID), roundTrip(t, other)
	if len(b)-len(a) != 17 {
		t.Errorf("hex id takes %d bytes, text id %d: want 16 + 1 saved", len(a), len(b))
	}
}

func TestBinarySize(t *testing.T) {
	tp := typical()
	buf := roundTrip(t, tp)
	t.Logf("a typical pageview encodes to %d bytes (before Badger's compression)", len(buf))
	if len(buf) > 160 {
		t.Errorf("a typical pageview takes %d bytes", len(buf))
	}
}
