package journey

import (
	"slices"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// FunnelStep is one step of a funnel's result.
type FunnelStep struct {
	Step     string `json:"step"`
	Visitors int    `json:"visitors"`
	// FromPrevious and FromFirst are the conversion from the previous step
	// and from the first, 0..1 (1 for the first step, 0 when nobody reached
	// the step they are relative to).
	FromPrevious float64 `json:"conversion_from_previous"`
	FromFirst    float64 `json:"conversion_from_first"`
	// DropOff is how many visitors of the previous step did not reach it.
	DropOff int `json:"drop_off"`
	// MedianSeconds is the median time from the previous step (0 for the
	// first step); the mean of the middle two for an even count. Over more
	// than ExactValues visitors it comes from a sketch and is within
	// RelativeAccuracy (1 %) of that.
	MedianSeconds float64 `json:"median_seconds_from_previous"`
}

// FunnelResult is the answer of GET …/funnel.
type FunnelResult struct {
	Steps        []FunnelStep `json:"steps"`
	WithinSecond float64      `json:"within_seconds"`
}

// Funnel counts visitors through ordered steps. The rule, per visitor:
//
//   - a run starts at a touchpoint matching step 1 and takes, in trail
//     order, the first later touchpoint matching step 2, then the first
//     after that matching step 3, and so on, while the touchpoint lies
//     within the conversion window counted from the run's start;
//   - of all runs (one per match of step 1), the visitor counts for the one
//     that reaches furthest, and of those the earliest;
//   - the visitor then counts once for every step that run reached, and
//     adds that run's times between steps to the medians.
//
// Funnel keeps counts and the times between steps (8 bytes a visitor and
// step up to ExactValues visitors, then a sketch of a few KB a step):
// trails passed to Add may be reused afterwards. Partial funnels merge
// (Merge, MarshalBinary). It is not safe for concurrent use.
type Funnel struct {
	// Scope, when set, restricts the funnel to some visitors and to the
	// part of their trails in its range: Add is then given whole trails.
	Scope Scope

	steps    []Step
	within   int64 // µs; 0: no window
	visitors int
	counts   []int
	deltas   []quantity // seconds from the previous step, per step
	times    []int64    // scratch: the current run
	best     []int64    // scratch: the best run so far
}

// NewFunnel returns an empty funnel over steps; within ≤ 0 means no
// conversion window. The steps must not be modified afterwards.
func NewFunnel(steps []Step, within time.Duration) *Funnel {
	return &Funnel{steps: steps, within: max(0, within.Microseconds()), counts: make([]int, len(steps)),
		deltas: make([]quantity, len(steps)), times: make([]int64, len(steps)), best: make([]int64, len(steps))}
}

// Add counts one visitor's trail (in trail order).
func (f *Funnel) Add(trail []event.Touchpoint) {
	trail, ok := f.Scope.apply(trail)
	if !ok {
		return
	}
	f.visitors++
	if len(f.steps) == 0 {
		return
	}
	reached := 0
	for start := range trail {
		if !f.steps[0].Match(&trail[start]) {
			continue
		}
		if n := f.walk(trail, start); n > reached {
			reached = n
			copy(f.best, f.times[:n])
			if n == len(f.steps) {
				break
			}
		}
	}
	for k := 0; k < reached; k++ {
		f.counts[k]++
		if k > 0 {
			f.deltas[k].add(float64(f.best[k]-f.best[k-1]) / 1e6)
		}
	}
}

// Visitors returns how many visitors Add counted (those the Scope kept,
// with a non-empty trail), whether or not they reached step 1.
func (f *Funnel) Visitors() int { return f.visitors }

// walk follows the steps from trail[start] into f.times and returns how
// many it reached.
func (f *Funnel) walk(trail []event.Touchpoint, start int) int {
	f.times[0] = trail[start].Derived
	k := 1
	for i := start + 1; i < len(trail) && k < len(f.steps); i++ {
		tp := &trail[i]
		if f.within > 0 && tp.Derived-f.times[0] > f.within {
			break
		}
		if f.steps[k].Match(tp) {
			f.times[k] = tp.Derived
			k++
		}
	}
	return k
}

// Result returns the per-step figures. It may be called more than once.
func (f *Funnel) Result() FunnelResult {
	r := FunnelResult{WithinSecond: float64(f.within) / 1e6, Steps: make([]FunnelStep, 0, len(f.steps))}
	for k, st := range f.steps {
		fs := FunnelStep{Step: st.String(), Visitors: f.counts[k]}
		if k == 0 {
			if f.counts[0] > 0 {
				fs.FromPrevious, fs.FromFirst = 1, 1
			}
		} else {
			fs.DropOff = f.counts[k-1] - f.counts[k]
			fs.FromPrevious = ratio(f.counts[k], f.counts[k-1])
			fs.FromFirst = ratio(f.counts[k], f.counts[0])
			fs.MedianSeconds = f.deltas[k].median()
		}
		r.Steps = append(r.Steps, fs)
	}
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// median of xs (which it sorts); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}
