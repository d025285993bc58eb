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
	// Conversion from the previous step and from the first, 0..1.
	FromPrevious float64 `json:"conversion_from_previous"`
	FromFirst    float64 `json:"conversion_from_first"`
	// DropOff is how many visitors of the previous step did not reach it.
	DropOff int `json:"drop_off"`
	// MedianSeconds is the median time from the previous step.
	MedianSeconds float64 `json:"median_seconds_from_previous"`
}

// FunnelResult is the answer of GET …/funnel.
type FunnelResult struct {
	Steps        []FunnelStep `json:"steps"`
	WithinSecond float64      `json:"within_seconds"`
}

// Funnel counts visitors through ordered steps within a conversion window
// counted from the first step. A visitor counts once per step: of all its
// starts (occurrences of step 1), the one that reaches furthest, and of
// those the earliest.
type Funnel struct {
	steps  []Step
	within int64 // µs
	counts []int
	deltas [][]float64 // seconds from the previous step, per step
	times  []int64     // scratch
}

// NewFunnel returns an empty funnel over steps; within ≤ 0 means no window.
func NewFunnel(steps []Step, within time.Duration) *Funnel {
	return &Funnel{steps: steps, within: within.Microseconds(), counts: make([]int, len(steps)),
		deltas: make([][]float64, len(steps)), times: make([]int64, len(steps))}
}

// Add counts one visitor's trail.
func (f *Funnel) Add(trail []event.Touchpoint) {
	best, bestTimes := 0, f.times[:0:0]
	for start := range trail {
		if !f.steps[0].Match(&trail[start]) {
			continue
		}
		reach, times := f.walk(trail, start)
		if reach > best {
			best, bestTimes = reach, slices.Clone(times[:reach])
		}
		if best == len(f.steps) {
			break
		}
	}
	for k := 0; k < best; k++ {
		f.counts[k]++
		if k > 0 {
			f.deltas[k] = append(f.deltas[k], float64(bestTimes[k]-bestTimes[k-1])/1e6)
		}
	}
}

// walk follows the steps from trail[start] and returns how many it reached
// and when.
func (f *Funnel) walk(trail []event.Touchpoint, start int) (int, []int64) {
	times := f.times
	times[0] = trail[start].Derived
	k := 1
	for i := start + 1; i < len(trail) && k < len(f.steps); i++ {
		tp := &trail[i]
		if f.within > 0 && tp.Derived-times[0] > f.within {
			break
		}
		if f.steps[k].Match(tp) {
			times[k] = tp.Derived
			k++
		}
	}
	return k, times
}

// Result returns the per-step figures.
func (f *Funnel) Result() FunnelResult {
	r := FunnelResult{WithinSecond: float64(f.within) / 1e6}
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
			fs.MedianSeconds = median(f.deltas[k])
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
