package journey

import (
	"cmp"
	"slices"
	"strings"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// PathCount is a touchpoint sequence and how many visitors followed it.
type PathCount struct {
	Path     []string `json:"path"`
	Visitors int      `json:"visitors"`
}

// Transition is one edge of the Sankey chart: from a node at Depth to the
// next node.
type Transition struct {
	Depth    int    `json:"depth"`
	From     string `json:"from"`
	To       string `json:"to"`
	Visitors int    `json:"visitors"`
}

// PathsResult is the answer of GET …/paths.
type PathsResult struct {
	Start       string       `json:"start,omitempty"`
	Depth       int          `json:"depth"`
	Visitors    int          `json:"visitors"`
	Paths       []PathCount  `json:"paths"`
	Transitions []Transition `json:"transitions"`
}

// Paths collects, per visitor, the sequence of up to depth touchpoints that
// starts at the first match of start (or at the trail's start when start is
// nil) and stays within that session.
type Paths struct {
	start  *Step
	depth  int
	gap    int64
	seqs   map[string]int
	trans  map[Transition]int
	nVis   int
	labels []string
}

// NewPaths returns an empty path collector. depth ≤ 0 means 5.
func NewPaths(start *Step, depth int, cfg Config) *Paths {
	cfg = cfg.withDefaults()
	if depth <= 0 {
		depth = 5
	}
	return &Paths{start: start, depth: depth, gap: cfg.SessionGap.Microseconds(),
		seqs: map[string]int{}, trans: map[Transition]int{}}
}

// Add counts one visitor's trail.
func (p *Paths) Add(trail []event.Touchpoint) {
	first := -1
	for i := range trail {
		if p.start == nil || p.start.Match(&trail[i]) {
			first = i
			break
		}
	}
	if first < 0 {
		return
	}
	p.nVis++
	p.labels = p.labels[:0]
	for i := first; i < len(trail) && len(p.labels) < p.depth; i++ {
		if i > first && trail[i].Derived-trail[i-1].Derived >= p.gap {
			break // the session ended
		}
		p.labels = append(p.labels, Label(&trail[i]))
	}
	p.seqs[strings.Join(p.labels, "\x00")]++
	for d := 0; d+1 < len(p.labels); d++ {
		p.trans[Transition{Depth: d, From: p.labels[d], To: p.labels[d+1]}]++
	}
}

// Result returns the top sequences (all when top ≤ 0) and every transition,
// most followed first.
func (p *Paths) Result(top int) PathsResult {
	r := PathsResult{Depth: p.depth, Visitors: p.nVis, Paths: []PathCount{}, Transitions: []Transition{}}
	if p.start != nil {
		r.Start = p.start.String()
	}
	for k, n := range p.seqs {
		r.Paths = append(r.Paths, PathCount{Path: strings.Split(k, "\x00"), Visitors: n})
	}
	slices.SortFunc(r.Paths, func(a, b PathCount) int {
		if c := cmp.Compare(b.Visitors, a.Visitors); c != 0 {
			return c
		}
		return slices.Compare(a.Path, b.Path)
	})
	if top > 0 && len(r.Paths) > top {
		r.Paths = r.Paths[:top]
	}
	for t, n := range p.trans {
		t.Visitors = n
		r.Transitions = append(r.Transitions, t)
	}
	slices.SortFunc(r.Transitions, func(a, b Transition) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), cmp.Compare(b.Visitors, a.Visitors),
			cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return r
}
