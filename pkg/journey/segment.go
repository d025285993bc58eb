package journey

import (
	"fmt"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Segment classifies a visitor relative to a time range.
type Segment uint8

// Segments: new (first seen in the range), returning (seen before, within
// LapsedAfter of coming back) and lapsed (back after LapsedAfter or more).
const (
	SegmentAll Segment = iota
	SegmentNew
	SegmentReturning
	SegmentLapsed
)

var segmentNames = []string{"all", "new", "returning", "lapsed"}

func (s Segment) String() string {
	if int(s) < len(segmentNames) {
		return segmentNames[s]
	}
	return fmt.Sprintf("segment(%d)", uint8(s))
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

// Classify returns the segment of a visitor's whole trail for [from, to)
// (zero times: unbounded), and ok false when the visitor was not active in
// the range.
func Classify(trail []event.Touchpoint, from, to time.Time, cfg Config) (Segment, bool) {
	cfg = cfg.withDefaults()
	lo, hi := int64(-1<<63), int64(1<<63-1)
	if !from.IsZero() {
		lo = from.UnixMicro()
	}
	if !to.IsZero() {
		hi = to.UnixMicro()
	}
	var prior, firstIn int64
	hasPrior, in := false, false
	for i := range trail {
		t := trail[i].Derived
		switch {
		case t < lo:
			prior, hasPrior = t, true
		case t < hi && !in:
			firstIn, in = t, true
		}
	}
	switch {
	case !in:
		return SegmentAll, false
	case !hasPrior:
		return SegmentNew, true
	case firstIn-prior >= cfg.LapsedAfter.Microseconds():
		return SegmentLapsed, true
	}
	return SegmentReturning, true
}

// Window returns the part of a trail within [from, to) (zero: unbounded).
func Window(trail []event.Touchpoint, from, to time.Time) []event.Touchpoint {
	i, j := 0, len(trail)
	if !from.IsZero() {
		for i < j && trail[i].Derived < from.UnixMicro() {
			i++
		}
	}
	if !to.IsZero() {
		for j > i && trail[j-1].Derived >= to.UnixMicro() {
			j--
		}
	}
	return trail[i:j]
}
