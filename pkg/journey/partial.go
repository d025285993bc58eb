package journey

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"time"
)

// Partial states: every site-wide accumulator can be serialised
// (MarshalBinary), shipped from the store that ran it over its own
// visitors, read back (UnmarshalBinary) by an accumulator made the same way,
// and folded into another (Merge). The encoding is
//
//	version byte (partialVersion) · kind byte · 8-byte fingerprint of the
//	parameters (big-endian FNV-1a 64 of their canonical bytes) · body
//
// where the body is uvarints, zig-zag varints, length-prefixed strings and
// big-endian float64 bits, each accumulator's in its own *_partial.go.

// partialVersion is the first byte of every partial state.
const partialVersion = 1

// Kinds of partial state: the second byte.
const (
	kindFunnel       = 'F'
	kindPaths        = 'P'
	kindFriction     = 'R'
	kindAttribution  = 'A'
	kindMap          = 'M'
	kindEngagement   = 'E'
	kindSelfService  = 'S'
	kindSatisfaction = 'T'
)

// ErrMismatch is returned (wrapped) by Merge and UnmarshalBinary when the
// two accumulators were made with different parameters: steps, window,
// start, depth, Config, Scope or channel.
var ErrMismatch = errors.New("accumulators made with different parameters")

// ErrCorrupt is returned (wrapped) by UnmarshalBinary for a partial state
// that is truncated, of another version or kind, or otherwise malformed.
var ErrCorrupt = errors.New("corrupt partial state")

// params builds the canonical bytes of an accumulator's parameters.
type params []byte

func (p params) u(v uint64) params        { return binary.AppendUvarint(p, v) }
func (p params) i(v int64) params         { return binary.AppendVarint(p, v) }
func (p params) f(v float64) params       { return binary.BigEndian.AppendUint64(p, math.Float64bits(v)) }
func (p params) s(v string) params        { return append(p.u(uint64(len(v))), v...) }
func (p params) d(v time.Duration) params { return p.i(int64(v)) }

// step appends a step: 0 for nil, else 1 and its text.
func (p params) step(st *Step) params {
	if st == nil {
		return p.u(0)
	}
	return p.u(1).s(st.String())
}

// config appends every field of c with its defaults filled
// (TestConfigFingerprintCoversEveryField counts them).
func (p params) config(c *Config) params {
	d := c.withDefaults()
	p = p.d(d.SessionGap).u(uint64(len(d.StageRules)))
	for _, r := range d.StageRules {
		p = p.s(r.Pattern).u(uint64(r.Stage))
	}
	conv := d.conversion()
	return p.u(uint64(d.CheckoutLastStep)).f(d.LowFeedback).i(int64(d.RepeatedSearches)).d(d.LapsedAfter).
		step(&conv).d(d.SelfServiceWindow).d(d.RepeatTicketWindow).d(d.QuickExit).i(int64(d.QuickExitScroll))
}

// scope appends a Scope as Apply reads it.
func (p params) scope(s *Scope) params {
	if s.From.IsZero() && s.To.IsZero() && s.Segment == SegmentAll {
		return p.u(0) // the fast path of apply: no classification at all
	}
	lo, hi := bounds(s.From, s.To)
	lapsed := s.LapsedAfter
	if lapsed <= 0 {
		lapsed = 30 * 24 * time.Hour
	}
	return p.u(1).i(lo).i(hi).u(uint64(s.Segment)).d(lapsed)
}

func (p params) sum() uint64 {
	h := fnv.New64a()
	h.Write(p)
	return h.Sum64()
}

// checkMerge returns ErrMismatch, wrapped for what, unless a and b are the
// same parameters.
func checkMerge(what string, a, b params) error {
	if string(a) != string(b) {
		return fmt.Errorf("merge %s: %w", what, ErrMismatch)
	}
	return nil
}

// header starts a partial state.
func header(dst []byte, kind byte, p params) []byte {
	return binary.BigEndian.AppendUint64(append(dst, partialVersion, kind), p.sum())
}

// enc appends the body of a partial state.
type enc []byte

func (e enc) u(v uint64) enc  { return binary.AppendUvarint(e, v) }
func (e enc) n(v int) enc     { return binary.AppendUvarint(e, uint64(v)) }
func (e enc) i(v int64) enc   { return binary.AppendVarint(e, v) }
func (e enc) f(v float64) enc { return binary.BigEndian.AppendUint64(e, math.Float64bits(v)) }
func (e enc) s(v string) enc  { return append(e.n(len(v)), v...) }

// dec reads a partial state; the first error sticks and every later read
// returns zero values, so a decoder checks err once at the end (and before
// trusting a length).
type dec struct {
	b   []byte
	err error
}

// maxCount bounds a count in a partial state (2^53: exact in a float64).
const maxCount = 1 << 53

// open checks the header of b against kind and p and returns the decoder
// of its body.
func open(b []byte, what string, kind byte, p params) (*dec, error) {
	if len(b) < 10 {
		return nil, fmt.Errorf("%s partial state: %d bytes: %w", what, len(b), ErrCorrupt)
	}
	if b[0] != partialVersion || b[1] != kind {
		return nil, fmt.Errorf("%s partial state: version %d kind %q, want %d %q: %w", what, b[0], b[1], partialVersion, kind, ErrCorrupt)
	}
	if binary.BigEndian.Uint64(b[2:]) != p.sum() {
		return nil, fmt.Errorf("%s partial state: %w", what, ErrMismatch)
	}
	return &dec{b: b[10:]}, nil
}

func (d *dec) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format+": %w", append(args, ErrCorrupt)...)
	}
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// n reads a count (0..maxCount).
func (d *dec) n() int {
	v := d.u()
	if v > maxCount {
		d.fail("count %d out of range", v)
		return 0
	}
	return int(v)
}

// length reads the number of items that follow, each of at least min
// bytes: a length the rest cannot hold is corrupt (and allocates nothing).
func (d *dec) length(min int) int {
	v := d.u()
	if d.err == nil && v > uint64(len(d.b)/max(min, 1)) {
		d.fail("length %d with %d bytes left", v, len(d.b))
		return 0
	}
	return int(v)
}

func (d *dec) f() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("truncated float")
		return 0
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *dec) bytes() []byte {
	n := d.length(1)
	if d.err != nil {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) s() string { return string(d.bytes()) }

// done returns the sticky error, or ErrCorrupt for trailing bytes.
func (d *dec) done(what string) error {
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("%s partial state: %w", what, d.err)
	}
	return nil
}
