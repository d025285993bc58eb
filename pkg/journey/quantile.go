package journey

import (
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// Medians (the funnel's time between steps, the engaged time of a page)
// are mergeable: a quantity keeps its values exactly while it has at most
// ExactValues of them, and beyond that a DDSketch (DataDog/sketches-go,
// logarithmic mapping, unbounded dense store) of relative accuracy
// RelativeAccuracy. Either way the answer depends on the multiset of values
// only, never on the order they came in or on how they were split between
// stores, so a merged answer equals the one node's answer exactly. Beyond
// ExactValues the median is within RelativeAccuracy of the exact one (the
// mean of the two middle values for an even count): the sketch answers
// each middle value within RelativeAccuracy, and so their mean.

// RelativeAccuracy is the relative error of a median over more than
// ExactValues values: 1 %.
const RelativeAccuracy = 0.01

// ExactValues is how many values a quantity keeps exactly before it
// switches to the sketch.
const ExactValues = 1024

// Sketched values are clamped to [minSketched, maxSketched] (below
// minSketched: 0, counted apart), which bounds a sketch's bins: about 2,400
// of 8 bytes at 1 %.
const (
	minSketched = 1e-9
	maxSketched = 1e12
)

var (
	sketchMapping, _ = mapping.NewLogarithmicMapping(RelativeAccuracy)
	minSketchIndex   = sketchMapping.Index(minSketched)
	maxSketchIndex   = sketchMapping.Index(maxSketched)
)

// quantity is a multiset of non-negative values whose median is asked.
type quantity struct {
	n     int
	exact []float64          // every value while sk is nil (n ≤ ExactValues)
	sk    *ddsketch.DDSketch // every value once n > ExactValues
}

func newSketch() *ddsketch.DDSketch {
	return ddsketch.NewDDSketch(sketchMapping, store.NewDenseStore(), store.NewDenseStore())
}

// clampValue maps a value into what the sketch holds; NaN and negatives
// are 0.
func clampValue(v float64) float64 {
	switch {
	case !(v >= minSketched): // also NaN
		return 0
	case v > maxSketched:
		return maxSketched
	}
	return v
}

func (q *quantity) add(v float64) {
	v = clampValue(v)
	q.n++
	if q.sk == nil {
		if q.n <= ExactValues {
			q.exact = append(q.exact, v)
			return
		}
		q.spill()
	}
	q.sketch(v, 1)
}

// sketch adds count values v (clamped) to q.sk.
func (q *quantity) sketch(v float64, count float64) {
	if err := q.sk.AddWithCount(v, count); err != nil {
		panic("BUG: a clamped value does not fit the sketch: " + err.Error())
	}
}

// spill moves the exact values into a new sketch.
func (q *quantity) spill() {
	q.sk = newSketch()
	for _, v := range q.exact {
		q.sketch(v, 1)
	}
	q.exact = nil
}

func (q *quantity) merge(o *quantity) {
	if o.n == 0 {
		return
	}
	n := q.n + o.n
	if q.sk == nil && o.sk == nil && n <= ExactValues {
		q.exact = append(q.exact, o.exact...)
		q.n = n
		return
	}
	if q.sk == nil {
		q.spill()
	}
	if o.sk != nil {
		if err := q.sk.MergeWith(o.sk); err != nil {
			panic("BUG: sketches with different mappings: " + err.Error())
		}
	} else {
		for _, v := range o.exact {
			q.sketch(v, 1)
		}
	}
	q.n = n
}

// median returns the median: exact (the mean of the middle two for an
// even count) up to ExactValues values, else the mean of the sketch's two
// middle values; 0 for none. It may reorder q.exact.
func (q *quantity) median() float64 {
	if q.n == 0 {
		return 0
	}
	if q.sk == nil {
		return median(q.exact)
	}
	lo, hi := q.at((q.n-1)/2), q.at(q.n/2)
	return (lo + hi) / 2
}

// at returns the sketch's value of rank r (0-based).
func (q *quantity) at(r int) float64 {
	rank := float64(r)
	if z := q.sk.GetZeroCount(); rank < z {
		return 0
	} else {
		rank -= z
	}
	return sketchMapping.Value(q.sk.GetPositiveValueStore().KeyAtRank(rank))
}

// size is about the bytes encode appends, to size a buffer.
func (q *quantity) size() int {
	if q.sk != nil {
		return 1024 // a few hundred bins of 2 to 4 bytes
	}
	return 4 + 8*len(q.exact)
}

// encode appends q: n, then n float64s (exact) or the zero count and the
// bins (index deltas, counts).
func (q *quantity) encode(e enc) enc {
	e = e.n(q.n)
	if q.sk == nil {
		for _, v := range q.exact {
			e = e.f(v)
		}
		return e
	}
	bins := 0
	q.sk.GetPositiveValueStore().ForEach(func(int, float64) bool { bins++; return false })
	e = e.u(uint64(q.sk.GetZeroCount())).n(bins)
	prev := 0
	q.sk.GetPositiveValueStore().ForEach(func(index int, count float64) bool {
		e = e.i(int64(index - prev)).u(uint64(count))
		prev = index
		return false
	})
	return e
}

// decode reads what encode wrote into q (which must be empty).
func (q *quantity) decode(d *dec) {
	n := d.n()
	if d.err != nil || n == 0 {
		return
	}
	if n <= ExactValues {
		if n > len(d.b)/8 {
			d.fail("%d values with %d bytes left", n, len(d.b))
			return
		}
		q.exact = make([]float64, n)
		for i := range q.exact {
			v := d.f()
			if clampValue(v) != v {
				d.fail("value %v out of range", v)
				return
			}
			q.exact[i] = v
		}
		q.n = n
		return
	}
	q.sk = newSketch()
	zero := d.n()
	bins := d.length(2)
	total, index := zero, 0
	for b := range bins {
		delta, count := d.i(), d.n()
		if d.err != nil {
			return
		}
		if delta < math.MinInt32 || delta > math.MaxInt32 {
			d.fail("sketch bin delta %d out of range", delta)
			return
		}
		if index += int(delta); count == 0 || index < minSketchIndex || index > maxSketchIndex || b > 0 && delta <= 0 {
			d.fail("sketch bin %d (count %d) out of order or range", index, count)
			return
		}
		if total += count; total > n {
			d.fail("sketch counts exceed %d", n)
			return
		}
		q.sk.GetPositiveValueStore().AddWithCount(index, float64(count))
	}
	if d.err == nil && total != n {
		d.fail("sketch holds %d values, want %d", total, n)
		return
	}
	if zero > 0 {
		q.sketch(0, float64(zero))
	}
	q.n = n
}
