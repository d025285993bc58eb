package journey

import (
	"bytes"
	"slices"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Journey is one visitor's (or one user's) journey.
type Journey struct {
	Touchpoints int        `json:"touchpoints"`
	First       *time.Time `json:"first,omitempty"`
	Last        *time.Time `json:"last,omitempty"`
	Sessions    []Session  `json:"sessions"`
	Stages      []Stage    `json:"stages"`
	Friction    []string   `json:"friction"`
	Converted   bool       `json:"converted"`
	FirstTouch  *Touch     `json:"first_touch,omitempty"`
	LastTouch   *Touch     `json:"last_touch,omitempty"`
}

// Build reconstructs the journey of a trail in trail order.
func Build(trail []event.Touchpoint, cfg Config) Journey {
	cfg = cfg.withDefaults()
	j := Journey{Touchpoints: len(trail), Sessions: Sessionize(trail, cfg), Stages: Stages(trail, cfg),
		Friction: FindSignals(trail, cfg).Signals}
	if j.Sessions == nil {
		j.Sessions = []Session{}
	}
	if j.Stages == nil {
		j.Stages = []Stage{}
	}
	if j.Friction == nil {
		j.Friction = []string{}
	}
	if len(trail) > 0 {
		f, l := trail[0].Time(), trail[len(trail)-1].Time()
		j.First, j.Last = &f, &l
	}
	if first, last, _, ok := Attribute(trail, cfg); ok {
		j.Converted, j.FirstTouch, j.LastTouch = true, &first, &last
	}
	return j
}

// Merge merges several visitors' trails (a user's, stitched by identify)
// into one in trail order: derived time, then seq, then visitor id.
func Merge(trails ...[]event.Touchpoint) []event.Touchpoint {
	var out []event.Touchpoint
	for _, t := range trails {
		out = append(out, t...)
	}
	slices.SortStableFunc(out, func(a, b event.Touchpoint) int {
		switch {
		case event.Less(&a, &b):
			return -1
		case event.Less(&b, &a):
			return 1
		}
		return bytes.Compare(a.Visitor[:], b.Visitor[:])
	})
	return out
}
