package journey

import (
	"fmt"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Segment classifies a visitor relative to a time range [from, to).
type Segment uint8

// Segments. SegmentAll is no segment: every visitor active in the range.
const (
	SegmentAll Segment = iota
	// SegmentNew: the visitor's first touchpoint ever is in the range.
	SegmentNew
	// SegmentReturning: seen before the range, less than LapsedAfter
	// before its first touchpoint in the range.
	SegmentReturning
	// SegmentLapsed: seen before the range, but its previous touchpoint
	// lies LapsedAfter or more before its first one in the range.
	SegmentLapsed
)

var segmentNames = []string{"all", "new", "returning", "lapsed"}

// String returns "all", "new", "returning" or "lapsed".
func (s Segment) String() string {
	if int(s) < len(segmentNames) {
		return segmentNames[s]
	}
	return fmt.Sprintf("segment(%d)", uint8(s))
}

// MarshalText writes the segment's name (JSON: a string).
func (s Segment) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a segment's name.
func (s *Segment) UnmarshalText(b []byte) error {
	seg, err := ParseSegment(string(b))
	if err == nil {
		*s = seg
	}
	return err
}

// ParseSegment reads "", "all", "new", "returning" or "lapsed".
func ParseSegment(s string) (Segment, error) {
	if s == "" {
		return SegmentAll, nil
	}
	for i, n := range segmentNames {
		if n == s {
			return Segment(i), nil
		}
	}
	return SegmentAll, fmt.Errorf("segment %q: want new, returning or lapsed", s)
}

// bounds returns [from, to) in µs, zero times unbounded.
func bounds(from, to time.Time) (lo, hi int64) {
	lo, hi = -1<<63, 1<<63-1
	if !from.IsZero() {
		lo = from.UnixMicro()
	}
	if !to.IsZero() {
		hi = to.UnixMicro()
	}
	return lo, hi
}

// Classify returns the segment of a visitor for [from, to) (zero times:
// unbounded) from its whole trail, in trail order, and ok false when the
// visitor has no touchpoint in the range. The segment is never SegmentAll.
func Classify(trail []event.Touchpoint, from, to time.Time, cfg Config) (seg Segment, ok bool) {
	lo, hi := bounds(from, to)
	return classify(trail, lo, hi, cfg.withDefaults().LapsedAfter.Microseconds())
}

func classify(trail []event.Touchpoint, lo, hi, lapsed int64) (Segment, bool) {
	var prior, firstIn int64
	hasPrior, in := false, false
	for i := range trail {
		t := trail[i].Derived
		if t < lo {
			prior, hasPrior = t, true
		} else if t < hi {
			firstIn, in = t, true
			break
		}
	}
	switch {
	case !in:
		return SegmentAll, false
	case !hasPrior:
		return SegmentNew, true
	case firstIn-prior >= lapsed:
		return SegmentLapsed, true
	}
	return SegmentReturning, true
}

// Window returns the part of a trail (in trail order) within [from, to)
// (zero times: unbounded). It aliases the trail.
func Window(trail []event.Touchpoint, from, to time.Time) []event.Touchpoint {
	lo, hi := bounds(from, to)
	return window(trail, lo, hi)
}

func window(trail []event.Touchpoint, lo, hi int64) []event.Touchpoint {
	i, j := 0, len(trail)
	for i < j && trail[i].Derived < lo {
		i++
	}
	for j > i && trail[j-1].Derived >= hi {
		j--
	}
	return trail[i:j]
}

// Scope restricts an accumulator (Funnel, Paths, Friction, Attribution) to
// the visitors active in [From, To), optionally of one Segment, and to the
// part of their trails in that range. Add is then given each visitor's
// whole trail (the segment depends on what came before From); the zero
// Scope takes every visitor and the trails as given.
type Scope struct {
	From, To time.Time // zero: unbounded
	// Segment keeps only the visitors of that segment. Default: SegmentAll.
	Segment Segment
	// LapsedAfter is the absence that makes a visitor lapsed. Default: 30
	// days.
	LapsedAfter time.Duration
}

// Apply returns the part of a whole trail that s keeps, the visitor's
// segment, and ok false when s skips the visitor.
func (s *Scope) Apply(trail []event.Touchpoint) (kept []event.Touchpoint, seg Segment, ok bool) {
	lo, hi := bounds(s.From, s.To)
	lapsed := s.LapsedAfter.Microseconds()
	if lapsed <= 0 {
		lapsed = (30 * 24 * time.Hour).Microseconds()
	}
	seg, ok = classify(trail, lo, hi, lapsed)
	if !ok || (s.Segment != SegmentAll && seg != s.Segment) {
		return nil, seg, false
	}
	return window(trail, lo, hi), seg, true
}

// apply is Apply with a fast path for the zero Scope; empty trails are
// skipped.
func (s *Scope) apply(trail []event.Touchpoint) ([]event.Touchpoint, bool) {
	if s.From.IsZero() && s.To.IsZero() && s.Segment == SegmentAll {
		return trail, len(trail) > 0
	}
	w, _, ok := s.Apply(trail)
	return w, ok
}
