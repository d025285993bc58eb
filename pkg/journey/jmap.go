package journey

import (
	"cmp"
	"slices"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// The journey map: the lifecycle stages across, and per stage who reached
// it, its top touchpoints, its friction, how its visitors felt (feedback)
// and where they went next. The rules:
//
//   - A touchpoint's stage is StageOf, with "first" meaning the first page
//     view of the whole trail (a returning visitor's landing in the range
//     is not a discovery), so Map is given whole trails and its Scope
//     windows them.
//   - Visitors, Top and flows count visitors: a visitor counts once per
//     stage, once per touchpoint label of a stage, once per flow.
//   - A flow From → To is one step of the visitor's collapsed stage
//     sequence in the range ("explore buy explore" has explore → buy and
//     buy → explore). Left counts the visitors whose sequence ends in the
//     stage, Continued the others who reached it.
//   - Friction signals (FindSignals over the range, so their totals equal
//     the friction endpoint's) are placed in a stage: search_no_results in
//     the stage of a search that found nothing, low_feedback in the stage
//     the low rating was given in (below), repeated_search in explore,
//     search_then_chat and help_then_chat in ask, checkout_abandoned in
//     buy.
//   - Feedback belongs to the stage it was given in: the stage of its URL
//     by StageRules, else of the touchpoint before it, else engage; a
//     ticket's rating (from the help desk) to the ticket's stage. A score
//     counts as score/scale (0..1), averaged over the responses: the
//     feedback curve is Satisfaction's by stage.

// LabelCount is a touchpoint label (Label) and the visitors who had it.
type LabelCount struct {
	Touchpoint string `json:"touchpoint"`
	Visitors   int    `json:"visitors"`
}

// StageSignal is a friction signal and the visitors who showed it in a
// stage.
type StageSignal struct {
	Signal   string `json:"signal"`
	Visitors int    `json:"visitors"`
}

// StageFeedback is the feedback given in a stage.
type StageFeedback struct {
	Responses int `json:"responses"`
	// Average is the mean of score/scale, 0..1; nil without responses.
	Average *float64 `json:"average"`
}

// MapStage is one column of the journey map.
type MapStage struct {
	Stage       Stage         `json:"stage"`
	Visitors    int           `json:"visitors"`
	Touchpoints int           `json:"touchpoints"`
	Top         []LabelCount  `json:"top"`      // most visitors first, then by label
	Friction    []StageSignal `json:"friction"` // in Signals order, signals with visitors only
	Feedback    StageFeedback `json:"feedback"`
	Continued   int           `json:"continued"` // reached it and went on to another stage
	Left        int           `json:"left"`      // reached it and ended there
}

// StageFlow counts the visitors who went from one stage to the next.
type StageFlow struct {
	From     Stage `json:"from"`
	To       Stage `json:"to"`
	Visitors int   `json:"visitors"`
}

// MapResult is the answer of GET …/map.
type MapResult struct {
	Visitors int         `json:"visitors"`
	Stages   []MapStage  `json:"stages"` // the six stages, in lifecycle order
	Flows    []StageFlow `json:"flows"`  // most visitors first, then by stage
}

// signalStage places the session-level signals (see the rules above).
var signalStage = [signalCount]Stage{iSearchNoResults: StageExplore, iRepeatedSearch: StageExplore,
	iSearchThenChat: StageAsk, iHelpThenChat: StageAsk, iCheckoutAbandoned: StageBuy, iLowFeedback: StageEngage,
	iQuickExitHelp: StageAsk, iSearchThenTicket: StageAsk, iTicketAfterPurchase: StageAsk, iRepeatTicket: StageAsk}

// Map accumulates the journey map over many visitors. It keeps counts and
// the labels it reports: trails passed to Add may be reused afterwards.
// Partial states merge (Merge, MarshalBinary). It is not safe for
// concurrent use.
type Map struct {
	// Scope restricts the map to the visitors active in its range (of its
	// segment) and to the part of their trails in it. Add is given whole
	// trails.
	Scope Scope
	// Channel, when not ChannelUnknown, keeps only the visitors whose first
	// page view in the range came through it (internal and unknown
	// channels skipped).
	Channel event.Channel

	cfg      Config
	visitors int
	stages   [stageCount]stageAcc
	flows    [stageCount][stageCount]int
	labelTable

	// scratch, per visitor
	buf     []byte
	seen    [stageCount][]uint32
	reached [stageCount]bool
	signals [stageCount][signalCount]bool
	flowSet [stageCount][stageCount]bool
	seq     []Stage
}

type stageAcc struct {
	visitors, touchpoints int
	labels                map[uint32]int // label id → visitors
	signals               [signalCount]int
	responses             int
	sums                  scoreSums // of score/scale, exact
	left                  int
}

// NewMap returns an empty journey map.
func NewMap(cfg Config) *Map {
	m := &Map{cfg: cfg.withDefaults(), labelTable: newLabelTable()}
	for s := range m.stages {
		m.stages[s].labels = map[uint32]int{}
	}
	return m
}

// Add counts one visitor's whole trail (in trail order).
func (m *Map) Add(trail []event.Touchpoint) {
	kept, _, ok := m.Scope.Apply(trail)
	if !ok || len(kept) == 0 {
		return
	}
	firstPV := true // no page view before the range
	for i := range trail {
		if &trail[i] == &kept[0] {
			break
		}
		if trail[i].Type == event.TypePageview {
			firstPV = false
		}
	}
	if m.Channel != event.ChannelUnknown && landingChannel(kept) != m.Channel {
		return
	}
	m.visitors++
	for s := range m.seen {
		m.seen[s] = m.seen[s][:0]
	}
	m.reached, m.signals, m.flowSet = [stageCount]bool{}, [stageCount][signalCount]bool{}, [stageCount][stageCount]bool{}
	m.seq = m.seq[:0]
	fl := findSignals(kept, &m.cfg)
	prev := Stage(stageCount) // the stage of the previous non-feedback touchpoint
	for i := range kept {
		tp := &kept[i]
		if tp.Type == event.TypeEngagement {
			continue // a report on a page view, not a step
		}
		s := stageOf(tp, &m.cfg, firstPV && tp.Type == event.TypePageview)
		if tp.Type == event.TypePageview {
			firstPV = false
		}
		acc := &m.stages[s]
		acc.touchpoints++
		m.reached[s] = true
		if len(m.seq) == 0 || m.seq[len(m.seq)-1] != s {
			m.seq = append(m.seq, s)
		}
		if id := m.intern(tp); !slices.Contains(m.seen[s], id) {
			m.seen[s] = append(m.seen[s], id)
			acc.labels[id]++
		}
		switch tp.Type {
		case event.TypeSearch:
			if tp.Results == 0 && fl.has[iSearchNoResults] {
				m.signals[s][iSearchNoResults] = true
			}
		case event.TypeTicket:
			if tp.Scale > 0 { // the help desk's rating, as Satisfaction counts it
				m.stages[s].responses++
				m.stages[s].sums.add(tp.Score, tp.Scale)
			}
		case event.TypeFeedback:
			given := feedbackStage(tp, prev, &m.cfg) // as Satisfaction
			if tp.Scale > 0 {
				r := float64(tp.Score) / float64(tp.Scale)
				m.stages[given].responses++
				m.stages[given].sums.add(tp.Score, tp.Scale)
				if r < m.cfg.LowFeedback {
					m.signals[given][iLowFeedback] = true
				}
			}
			continue
		}
		prev = s
	}
	for sig := range fl.has {
		if fl.has[sig] && sig != iSearchNoResults && sig != iLowFeedback {
			m.signals[signalStage[sig]][sig] = true
		}
	}
	for s := range m.stages {
		if m.reached[s] {
			m.stages[s].visitors++
		}
		for sig, has := range m.signals[s] {
			if has {
				m.stages[s].signals[sig]++
			}
		}
	}
	for i := 1; i < len(m.seq); i++ {
		m.flowSet[m.seq[i-1]][m.seq[i]] = true
	}
	for from := range m.flowSet {
		for to, has := range m.flowSet[from] {
			if has {
				m.flows[from][to]++
			}
		}
	}
	if len(m.seq) > 0 { // none when the range holds only engagement reports
		m.stages[m.seq[len(m.seq)-1]].left++
	}
}

// landingChannel is the channel of the first page view through a known
// channel other than internal, or ChannelUnknown.
func landingChannel(trail []event.Touchpoint) event.Channel {
	for i := range trail {
		if isTouch(&trail[i]) {
			return trail[i].Channel
		}
	}
	return event.ChannelUnknown
}

// intern returns the id of tp's label.
func (m *Map) intern(tp *event.Touchpoint) uint32 {
	m.buf = appendLabel(m.buf[:0], tp)
	return m.internBytes(m.buf)
}

// Result returns the map with up to top touchpoints a stage (all when top
// ≤ 0). The result shares nothing with m.
func (m *Map) Result(top int) MapResult {
	r := MapResult{Visitors: m.visitors, Stages: make([]MapStage, stageCount), Flows: []StageFlow{}}
	for s := range m.stages {
		acc := &m.stages[s]
		ms := MapStage{Stage: Stage(s), Visitors: acc.visitors, Touchpoints: acc.touchpoints,
			Top: make([]LabelCount, 0, len(acc.labels)), Friction: []StageSignal{},
			Feedback: StageFeedback{Responses: acc.responses}, Left: acc.left, Continued: acc.visitors - acc.left}
		for id, n := range acc.labels {
			ms.Top = append(ms.Top, LabelCount{Touchpoint: m.labels[id], Visitors: n})
		}
		slices.SortFunc(ms.Top, func(a, b LabelCount) int {
			return cmp.Or(cmp.Compare(b.Visitors, a.Visitors), cmp.Compare(a.Touchpoint, b.Touchpoint))
		})
		if top > 0 && len(ms.Top) > top {
			ms.Top = ms.Top[:top:top]
		}
		for sig, n := range acc.signals {
			if n > 0 {
				ms.Friction = append(ms.Friction, StageSignal{Signal: signalNames[sig], Visitors: n})
			}
		}
		if acc.responses > 0 {
			avg := acc.sums.total() / float64(acc.responses)
			ms.Feedback.Average = &avg
		}
		r.Stages[s] = ms
	}
	for from := range m.flows {
		for to, n := range m.flows[from] {
			if n > 0 {
				r.Flows = append(r.Flows, StageFlow{From: Stage(from), To: Stage(to), Visitors: n})
			}
		}
	}
	slices.SortFunc(r.Flows, func(a, b StageFlow) int {
		return cmp.Or(cmp.Compare(b.Visitors, a.Visitors), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return r
}

// StageCount is the number of lifecycle stages: Stage(0) … Stage(StageCount-1).
const StageCount = int(stageCount)
