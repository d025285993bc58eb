package journey

import (
	"bytes"
	"slices"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Journey is one visitor's (or one user's merged) journey.
type Journey struct {
	Touchpoints int        `json:"touchpoints"`
	First       *time.Time `json:"first,omitempty"` // time of the first touchpoint
	Last        *time.Time `json:"last,omitempty"`  // time of the last touchpoint
	Sessions    []Session  `json:"sessions"`
	Stages      []Stage    `json:"stages"`   // the whole journey's, repeats collapsed
	Friction    []string   `json:"friction"` // signal names, in Signals order
	// LastCheckoutStep and AbandonPage describe an abandoned checkout.
	LastCheckoutStep uint32 `json:"last_checkout_step,omitempty"`
	AbandonPage      string `json:"abandon_page,omitempty"`
	// Converted says the journey holds a conversion (Config.Conversion).
	Converted bool `json:"converted"`
	// FirstTouch and LastTouch are the first and last page views through a
	// channel other than internal or unknown: up to the first conversion
	// when Converted (as Attribute), else over the whole journey; nil
	// without any (a conversion without a touch counts as direct).
	FirstTouch *Touch `json:"first_touch,omitempty"`
	LastTouch  *Touch `json:"last_touch,omitempty"`
	// Engagement is the engaged time and scroll depth by page, most
	// viewed first, when the trail holds engagement reports (t-engage.js).
	Engagement []PageEngagement `json:"engagement,omitempty"`
}

// Build reconstructs the journey of a trail in trail order. Its strings
// may share memory with the trail's.
func Build(trail []event.Touchpoint, cfg Config) Journey {
	cfg = cfg.withDefaults()
	sig := FindSignals(trail, cfg)
	j := Journey{Touchpoints: len(trail), Sessions: Sessionize(trail, cfg), Stages: appendStages([]Stage{}, trail, &cfg, true),
		Friction: sig.Signals, LastCheckoutStep: sig.LastStep, AbandonPage: sig.AbandonPage}
	for i := range trail {
		if trail[i].Type == event.TypeEngagement {
			j.Engagement = PagesEngagement(trail, cfg)
			break
		}
	}
	if j.Sessions == nil {
		j.Sessions = []Session{}
	}
	if len(trail) > 0 {
		f, l := trail[0].Time(), trail[len(trail)-1].Time()
		j.First, j.Last = &f, &l
	}
	conv := cfg.conversion()
	if first, last, _, ok := attribute(trail, &conv, -1<<63); ok {
		j.Converted, j.FirstTouch, j.LastTouch = true, &first, &last
		return j
	}
	for i := range trail {
		if isTouch(&trail[i]) {
			t := touchOf(&trail[i])
			if j.FirstTouch == nil {
				j.FirstTouch = &t
			}
			j.LastTouch = &t
		}
	}
	return j
}

// Merge merges several visitors' trails — a user's, stitched by identify —
// into one new trail ordered by derived time, then seq, then visitor id
// (which makes the order deterministic). The inputs are not modified.
func Merge(trails ...[]event.Touchpoint) []event.Touchpoint {
	n := 0
	for _, t := range trails {
		n += len(t)
	}
	ptrs := make([]*event.Touchpoint, 0, n)
	for _, t := range trails {
		for i := range t {
			ptrs = append(ptrs, &t[i])
		}
	}
	slices.SortStableFunc(ptrs, compare)
	out := make([]event.Touchpoint, n)
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

// compare orders touchpoints as Merge does.
func compare(a, b *event.Touchpoint) int {
	switch {
	case event.Less(a, b):
		return -1
	case event.Less(b, a):
		return 1
	}
	return bytes.Compare(a.Visitor[:], b.Visitor[:])
}
