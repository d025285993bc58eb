package journey

import (
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// PathCount is a touchpoint sequence and how many visitors followed it.
type PathCount struct {
	Path     []string `json:"path"`
	Visitors int      `json:"visitors"`
}

// Transition is one edge of the Sankey chart: how many visitors went from
// the node at Depth (0: the start) to the next node.
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
	Visitors    int          `json:"visitors"` // visitors who reached the start
	Paths       []PathCount  `json:"paths"`
	Transitions []Transition `json:"transitions"`
}

// Paths collects, per visitor, the sequence of up to depth touchpoints
// (named by Label: "pageview /pricing", "search", "checkout_step 2") that
// starts at the visitor's first touchpoint matching start (at the trail's
// first touchpoint when start is nil) and ends with that session.
//
// It keeps each distinct label and sequence once and counts them: trails
// passed to Add may be reused afterwards. It is not safe for concurrent
// use.
type Paths struct {
	// Scope, when set, restricts the paths to some visitors and to the part
	// of their trails in its range: Add is then given whole trails.
	Scope Scope

	start *Step
	depth int
	cfg   Config
	nVis  int
	labelTable
	seqs   map[string]int // ids, 4 bytes each → index in counts
	counts []int
	trans  map[transKey]int
	buf    []byte
	seq    []byte
}

type transKey struct {
	depth    int
	from, to uint32
}

// NewPaths returns an empty path collector; start nil means the start of
// each trail, depth ≤ 0 means 5. The step must not be modified afterwards.
func NewPaths(start *Step, depth int, cfg Config) *Paths {
	if depth <= 0 {
		depth = 5
	}
	return &Paths{start: start, depth: depth, cfg: cfg.withDefaults(),
		labelTable: newLabelTable(), seqs: map[string]int{}, trans: map[transKey]int{}}
}

// Add counts one visitor's trail (in trail order).
func (p *Paths) Add(trail []event.Touchpoint) {
	trail, ok := p.Scope.apply(trail)
	if !ok {
		return
	}
	sp := newSplitter(&p.cfg)
	first := -1
	for i := range trail {
		sp.next(&trail[i])
		if p.start == nil || p.start.Match(&trail[i]) {
			first = i
			break
		}
	}
	if first < 0 {
		return
	}
	p.nVis++
	p.seq = p.seq[:0]
	var prev uint32
	for i := first; i < len(trail) && len(p.seq) < 4*p.depth; i++ {
		if i > first && sp.next(&trail[i]) {
			break // the session ended
		}
		if trail[i].Type == event.TypeEngagement {
			continue // a report on a page view, not a step
		}
		id := p.intern(&trail[i])
		if d := len(p.seq) / 4; d > 0 {
			p.trans[transKey{depth: d - 1, from: prev, to: id}]++
		}
		p.seq = binary.BigEndian.AppendUint32(p.seq, id)
		prev = id
	}
	if k, ok := p.seqs[string(p.seq)]; ok { // no allocation
		p.counts[k]++
	} else {
		p.seqs[string(p.seq)] = len(p.counts)
		p.counts = append(p.counts, 1)
	}
}

// intern returns the id of tp's label.
func (p *Paths) intern(tp *event.Touchpoint) uint32 {
	p.buf = appendLabel(p.buf[:0], tp)
	return p.internBytes(p.buf)
}

// Result returns the top sequences (all when top ≤ 0), most followed
// first, and every transition by depth, most followed first. Ties sort by
// label.
func (p *Paths) Result(top int) PathsResult {
	r := PathsResult{Depth: p.depth, Visitors: p.nVis, Paths: make([]PathCount, 0, len(p.seqs)),
		Transitions: make([]Transition, 0, len(p.trans))}
	if p.start != nil {
		r.Start = p.start.String()
	}
	for k, c := range p.seqs {
		pc := PathCount{Path: make([]string, len(k)/4), Visitors: p.counts[c]}
		for i := range pc.Path {
			id := uint32(k[4*i])<<24 | uint32(k[4*i+1])<<16 | uint32(k[4*i+2])<<8 | uint32(k[4*i+3])
			pc.Path[i] = p.labels[id]
		}
		r.Paths = append(r.Paths, pc)
	}
	slices.SortFunc(r.Paths, func(a, b PathCount) int {
		return cmp.Or(cmp.Compare(b.Visitors, a.Visitors), slices.Compare(a.Path, b.Path))
	})
	if top > 0 && len(r.Paths) > top {
		r.Paths = r.Paths[:top]
	}
	for t, n := range p.trans {
		r.Transitions = append(r.Transitions, Transition{Depth: t.depth, From: p.labels[t.from], To: p.labels[t.to], Visitors: n})
	}
	slices.SortFunc(r.Transitions, func(a, b Transition) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), cmp.Compare(b.Visitors, a.Visitors),
			cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return r
}
