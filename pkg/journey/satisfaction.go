package journey

import (
	"cmp"
	"slices"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Satisfaction: how visitors rated each stage and touchpoint. The rules:
//
//   - A rating is a feedback with a scale, or a ticket with a scale (the
//     help desk's satisfaction rating). It counts as score/scale (0..1);
//     low means below LowFeedback.
//   - A feedback's stage is the stage it was given in: the stage of its
//     URL by StageRules, else of the touchpoint before it, else engage (the
//     journey map's feedback curve uses the same rule). A ticket's rating
//     is in the ticket's stage (ask).
//   - A feedback's touchpoint is the one it follows: its "touchpoint"
//     prop when the prompt says (t-feedback.js sends it), else the Label of
//     the touchpoint before it, else "none". A ticket's is its Label
//     ("ticket solved").

// FeedbackTouchpointProp is the prop of a feedback naming the touchpoint it
// follows.
const FeedbackTouchpointProp = "touchpoint"

// Rating sums the ratings of a group.
type Rating struct {
	Responses int     `json:"responses"`
	Mean      float64 `json:"mean"` // of score/scale, 0..1; 0 without responses
	Low       int     `json:"low"`
	LowShare  float64 `json:"low_share"`
}

// StageRating is the rating of one stage.
type StageRating struct {
	Stage Stage `json:"stage"`
	Rating
}

// TouchpointRating is the rating given after one kind of touchpoint.
type TouchpointRating struct {
	Touchpoint string `json:"touchpoint"`
	Rating
}

// SatisfactionResult is the answer of GET …/satisfaction.
type SatisfactionResult struct {
	Visitors     int                `json:"visitors"` // active in the scope
	Raters       int                `json:"raters"`   // visitors who rated
	Overall      Rating             `json:"overall"`
	ByStage      []StageRating      `json:"by_stage"`      // the six stages, in lifecycle order
	ByTouchpoint []TouchpointRating `json:"by_touchpoint"` // most responses first, then by touchpoint
}

type ratingAcc struct {
	n, low int
	sums   scoreSums
}

func (a *ratingAcc) add(tp *event.Touchpoint, lowBelow float64) {
	a.n++
	a.sums.add(tp.Score, tp.Scale)
	if float64(tp.Score)/float64(tp.Scale) < lowBelow {
		a.low++
	}
}

func (a *ratingAcc) merge(o *ratingAcc) {
	a.n += o.n
	a.low += o.low
	a.sums.merge(o.sums)
}

func (a *ratingAcc) rating() Rating {
	if a.n == 0 {
		return Rating{}
	}
	return Rating{Responses: a.n, Mean: a.sums.total() / float64(a.n), Low: a.low, LowShare: float64(a.low) / float64(a.n)}
}

// scoreSums is the exact sum of ratings score/scale: the scores summed by
// scale, in increasing scale. A sum of ratios in floating point would
// depend on the order of the ratings; this does not, so a merged mean
// equals one node's bit for bit.
type scoreSums []scaleSum

type scaleSum struct {
	scale int32
	sum   int64
}

func (s *scoreSums) add(score, scale int32) {
	s.addSum(scale, int64(score))
}

func (s *scoreSums) addSum(scale int32, sum int64) {
	i, found := slices.BinarySearchFunc(*s, scale, func(x scaleSum, scale int32) int { return cmp.Compare(x.scale, scale) })
	if !found {
		*s = slices.Insert(*s, i, scaleSum{scale: scale})
	}
	(*s)[i].sum += sum
}

func (s *scoreSums) merge(o scoreSums) {
	for _, x := range o {
		s.addSum(x.scale, x.sum)
	}
}

// total is the sum of score/scale.
func (s scoreSums) total() float64 {
	t := 0.0
	for _, x := range s {
		t += float64(x.sum) / float64(x.scale)
	}
	return t
}

// Satisfaction accumulates ratings over many visitors. Trails passed to
// Add may be reused afterwards. Partial states merge (Merge,
// MarshalBinary). It is not safe for concurrent use.
type Satisfaction struct {
	// Scope, when set, restricts the counts to some visitors and to the
	// part of their trails in its range: Add is then given whole trails.
	Scope Scope

	cfg      Config
	visitors int
	raters   int
	overall  ratingAcc
	stages   [stageCount]ratingAcc
	byTP     map[string]*ratingAcc
	buf      []byte
}

// NewSatisfaction returns an empty satisfaction accumulator.
func NewSatisfaction(cfg Config) *Satisfaction {
	return &Satisfaction{cfg: cfg.withDefaults(), byTP: map[string]*ratingAcc{}}
}

// feedbackStage is the stage a feedback was given in (see the rules
// above); prev is the stage of the touchpoint before it, stageCount when
// there is none.
func feedbackStage(tp *event.Touchpoint, prev Stage, cfg *Config) Stage {
	if tp.URL != "" {
		if s, ok := cfg.urlStage(urlPath(tp.URL)); ok {
			return s
		}
	}
	if prev == stageCount {
		return StageEngage
	}
	return prev
}

// Add counts one visitor's trail (in trail order).
func (sa *Satisfaction) Add(trail []event.Touchpoint) {
	kept, _, ok := sa.Scope.Apply(trail)
	if !ok || len(kept) == 0 {
		return
	}
	firstPV := true
	for i := range trail {
		if &trail[i] == &kept[0] {
			break
		}
		if trail[i].Type == event.TypePageview {
			firstPV = false
		}
	}
	sa.visitors++
	rated := false
	prev := Stage(stageCount)
	var prevTP *event.Touchpoint
	for i := range kept {
		tp := &kept[i]
		s := stageOf(tp, &sa.cfg, firstPV && tp.Type == event.TypePageview)
		if tp.Type == event.TypePageview {
			firstPV = false
		}
		switch {
		case tp.Type == event.TypeFeedback:
			if tp.Scale > 0 {
				switch key := tp.Prop(FeedbackTouchpointProp); {
				case key != "":
					sa.buf = append(sa.buf[:0], key...)
				case prevTP != nil:
					sa.buf = appendLabel(sa.buf[:0], prevTP)
				default:
					sa.buf = append(sa.buf[:0], "none"...)
				}
				sa.count(feedbackStage(tp, prev, &sa.cfg), sa.buf, tp)
				rated = true
			}
			continue // not what a later feedback follows
		case tp.Type == event.TypeTicket && tp.Scale > 0:
			sa.buf = appendLabel(sa.buf[:0], tp)
			sa.count(s, sa.buf, tp)
			rated = true
		}
		prev, prevTP = s, tp
	}
	if rated {
		sa.raters++
	}
}

func (sa *Satisfaction) count(s Stage, key []byte, tp *event.Touchpoint) {
	sa.overall.add(tp, sa.cfg.LowFeedback)
	sa.stages[s].add(tp, sa.cfg.LowFeedback)
	a := sa.byTP[string(key)]
	if a == nil {
		a = &ratingAcc{}
		sa.byTP[string(key)] = a
	}
	a.add(tp, sa.cfg.LowFeedback)
}

// Result returns the ratings, with up to top touchpoints (all when top is
// 0 or less). The result shares nothing with sa.
func (sa *Satisfaction) Result(top int) SatisfactionResult {
	r := SatisfactionResult{Visitors: sa.visitors, Raters: sa.raters, Overall: sa.overall.rating(),
		ByStage: make([]StageRating, stageCount), ByTouchpoint: make([]TouchpointRating, 0, len(sa.byTP))}
	for s := range sa.stages {
		r.ByStage[s] = StageRating{Stage: Stage(s), Rating: sa.stages[s].rating()}
	}
	for k, a := range sa.byTP {
		r.ByTouchpoint = append(r.ByTouchpoint, TouchpointRating{Touchpoint: k, Rating: a.rating()})
	}
	slices.SortFunc(r.ByTouchpoint, func(a, b TouchpointRating) int {
		return cmp.Or(cmp.Compare(b.Responses, a.Responses), cmp.Compare(a.Touchpoint, b.Touchpoint))
	})
	if top > 0 && len(r.ByTouchpoint) > top {
		r.ByTouchpoint = r.ByTouchpoint[:top]
	}
	return r
}
