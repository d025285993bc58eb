package event

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func TestParseVisitor(t *testing.T) {
	f := func(in string, want VisitorID) {
		t.Helper()
		got, err := ParseVisitor(in)
		if err != nil || got != want {
			t.Errorf("ParseVisitor(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	hashed := func(s string) (v VisitorID) {
		sum := sha256.Sum256([]byte(s))
		copy(v[:], sum[:])
		return v
	}
	f(testVisitorHex, testVisitor)
	f(strings.ToUpper(testVisitorHex), testVisitor)
	f("0123456789ABCdef0123456789abcDEF", testVisitor)
	f("01234567-89ab-cdef-0123-456789abcdef", testVisitor)
	f("01234567-89AB-CDEF-0123-456789ABCDEF", testVisitor)
	// Anything else is hashed: the same string always names the same visitor.
	f("session-42", hashed("session-42"))
	f("0123456789abcdef0123456789abcdeg", hashed("0123456789abcdef0123456789abcdeg")) // 32 chars, not hex
	f("0123456789abcdef0123456789abcde", hashed("0123456789abcdef0123456789abcde"))   // 31 hex chars
	f("01234567-89ab-cdef-0123-456789abcdeX", hashed("01234567-89ab-cdef-0123-456789abcdeX"))
	f("0123456-789ab-cdef-0123-456789abcdef", hashed("0123456-789ab-cdef-0123-456789abcdef")) // dashes misplaced
	f("01234567-89ab-cdef-0123-4567-9abcdef", hashed("01234567-89ab-cdef-0123-4567-9abcdef")) // a fifth dash
	f(strings.Repeat("v", MaxVisitorLen), hashed(strings.Repeat("v", MaxVisitorLen)))
	if a, b := hashed("session-42"), hashed("session-43"); a == b || a.IsZero() {
		t.Error("different strings, same visitor")
	}
	if _, err := ParseVisitor(""); !errors.Is(err, ErrEmptyVisitor) {
		t.Errorf("empty: %v, want ErrEmptyVisitor", err)
	}
	if v, err := ParseVisitor(strings.Repeat("v", MaxVisitorLen+1)); err == nil || errors.Is(err, ErrEmptyVisitor) || !v.IsZero() {
		t.Errorf("%d bytes: %s, %v; want an error", MaxVisitorLen+1, v, err)
	}
	if testVisitor.String() != testVisitorHex || string(testVisitor.AppendHex([]byte("v="))) != "v="+testVisitorHex {
		t.Errorf("String %s", testVisitor)
	}
}

// Two events a few milliseconds apart that leave in two requests keep their
// order whatever each request's latency, when the clock is about right.
func TestDeriveTimeKeepsOrderAcrossRequests(t *testing.T) {
	for _, clock := range []int64{0, 800e3, -800e3} { // client clock right, 0.8 s fast, 0.8 s slow
		for _, lat := range [][2]int64{{40e3, 2e3}, {2e3, 40e3}, {300e3, 1e3}} {
			first := Touchpoint{TS: now + clock, Sent: now + clock}
			second := Touchpoint{TS: now + 3e3 + clock, Sent: now + 3e3 + clock} // 3 ms later
			first.DeriveTime(now + lat[0])
			second.DeriveTime(now + 3e3 + lat[1])
			if !Less(&first, &second) {
				t.Errorf("clock %+d µs, latencies %v: derived %d then %d: order lost", clock, lat, first.Derived, second.Derived)
			}
		}
	}
}

func TestDeriveTime(t *testing.T) {
	const skew = 5 * 60e6 // the client clock is 5 min fast
	happened := now - 10e6
	for _, c := range []struct {
		name     string
		ts, sent int64
		want     int64
	}{
		// Sent as it arrives (latency is not measurable): the skew cancels out.
		{"clock 5 min fast", happened + skew, now + skew, happened},
		{"clock 5 min slow", happened - skew, now - skew, happened},
		{"clock right", happened, now, happened},
		{"clock 1.5 s fast: kept", happened + 1.5e6, now + 1.5e6 - 0.2e6, happened + 1.5e6},
		{"clock 1.5 s fast, ts after arrival: kept", now + 1.5e6, now + 1.5e6, now + 1.5e6},
		{"ts after sent: arrival", now + 1e6, now, now},
		{"clock 5 min fast, 1 s latency", happened + skew, now - 1e6 + skew, happened + 1e6},
		{"no sent: ts kept", happened, 0, happened},
		{"no ts: arrival", 0, now - 1e6, now},
		{"no times: arrival", 0, 0, now},
		{"ts ahead, no sent: never after received", now + 3600e6, 0, now},
		{"sent before ts: never after received", now, now - 60e6, now},
	} {
		t.Run(c.name, func(t *testing.T) {
			tp := Touchpoint{TS: c.ts, Sent: c.sent}
			tp.DeriveTime(now)
			want := c.want
			if tp.Received != now || tp.Derived != want {
				t.Errorf("received %d, derived %+d µs from the truth", tp.Received-now, tp.Derived-want)
			}
			if tp.Derived > tp.Received+SkewTolerance {
				t.Errorf("derived too far after received")
			}
			if tp.Time().UnixMicro() != tp.Derived {
				t.Errorf("Time() = %v", tp.Time())
			}
		})
	}
	for _, c := range []struct{ ts, want int64 }{{happened, happened}, {0, now}, {now + 1, now}} {
		tp := Touchpoint{TS: c.ts, Sent: c.ts + skew}
		tp.DeriveTimeTrusted(now)
		if tp.Received != now || tp.Derived != c.want {
			t.Errorf("trusted ts %d: derived %d, want %d", c.ts, tp.Derived, c.want)
		}
	}
}

func TestTouchpointHelpers(t *testing.T) {
	tp := full(TypeCustom)
	if tp.Prop("ab") != "variant-b" || tp.Prop("missing") != "" {
		t.Errorf("Prop: %q", tp.Prop("ab"))
	}
	props := tp.Props
	tp.Reset()
	if tp.Results != -1 || tp.ID != "" || len(tp.Props) != 0 || cap(tp.Props) != cap(props) || tp.ClientIP.IsValid() {
		t.Errorf("Reset: %+v", tp)
	}
	a, b := Touchpoint{Derived: 1, Seq: 9}, Touchpoint{Derived: 2, Seq: 1}
	if !Less(&a, &b) || Less(&b, &a) {
		t.Error("Less by derived time")
	}
	b.Derived = 1
	if Less(&a, &b) || !Less(&b, &a) || Less(&a, &a) {
		t.Error("Less by seq")
	}
}
