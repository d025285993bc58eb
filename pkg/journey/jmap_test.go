package journey_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// mapTruth is the journey map the generator planted, computed from the
// plans and the planted stage sequences only.
type mapTruth struct {
	visitors int
	reached  map[journey.Stage]int
	left     map[journey.Stage]int
	flows    map[[2]journey.Stage]int
	friction map[string]int        // "stage signal"
	top      map[string]int        // "stage label"
	feedback []journey.StageRating // by stage: the planted satisfaction
}

// plantedMap computes the truth; inRange drops what returning and lapsed
// visitors did before the range (their discovery visit), keep filters
// visitors.
func plantedMap(visitors []journeytest.Visitor, truth journeytest.Truth, inRange bool, keep func(*journeytest.Visitor) bool) mapTruth {
	mt := mapTruth{reached: map[journey.Stage]int{}, left: map[journey.Stage]int{}, flows: map[[2]journey.Stage]int{},
		friction: map[string]int{}, top: map[string]int{}}
	// Where the generator places each signal: every search and every
	// feedback happens after a page view of "/", an explore page.
	place := map[string]journey.Stage{journey.SignalSearchNoResults: journey.StageExplore, journey.SignalRepeatedSearch: journey.StageExplore,
		journey.SignalSearchThenChat: journey.StageAsk, journey.SignalHelpThenChat: journey.StageAsk,
		journey.SignalCheckoutAbandoned: journey.StageBuy, journey.SignalSearchThenTicket: journey.StageAsk,
		journey.SignalTicketAfterPurchase: journey.StageAsk, journey.SignalRepeatTicket: journey.StageAsk}
	for i := range visitors {
		v := &visitors[i]
		if keep != nil && !keep(v) {
			continue
		}
		p := &v.Plan
		mt.visitors++
		stages := truth.Stages[v.ID]
		if inRange && p.Segment != journey.SegmentNew {
			stages = stages[1:] // the discovery visit before the range
		}
		seen := map[journey.Stage]bool{}
		for _, s := range stages {
			if !seen[s] {
				mt.reached[s]++
			}
			seen[s] = true
		}
		mt.left[stages[len(stages)-1]]++
		flows := map[[2]journey.Stage]bool{}
		for k := 1; k < len(stages); k++ {
			flows[[2]journey.Stage{stages[k-1], stages[k]}] = true
		}
		for f := range flows {
			mt.flows[f]++
		}
		for _, sig := range truth.VisitorSignals[v.ID] {
			if sig != journey.SignalLowFeedback {
				mt.friction[fmt.Sprint(place[sig], " ", sig)]++
			}
		}
		// Low feedback is placed where it was given: the explore page "/",
		// the checkout (buy), the help page (ask).
		for _, low := range []struct {
			ok bool
			at journey.Stage
		}{{p.Feedback == 1, journey.StageExplore}, {p.CheckoutCSAT > 0 && p.CheckoutCSAT < 3, journey.StageBuy}, {p.Helpful == 2, journey.StageAsk}} {
			if low.ok {
				mt.friction[fmt.Sprint(low.at, " ", journey.SignalLowFeedback)]++
			}
		}
		if p.Pricing {
			mt.top["buy pageview /pricing"]++
			if p.Reach > 0 {
				mt.top["buy pageview /checkout"]++
			}
			for k := 1; k <= int(p.Reach); k++ {
				mt.top[fmt.Sprint("buy checkout_step ", k)]++
			}
		}
		if p.SearchThenChat || p.HelpThenChat != "" {
			mt.top["ask chat_open"]++
		}
		if p.User != "" {
			mt.top["use identify"]++
		}
		if p.Feedback > 0 || p.CheckoutCSAT > 0 || p.Helpful > 0 {
			mt.top["engage feedback"]++
		}
		if p.Tickets() > 0 {
			mt.top["ask ticket opened"]++
		}
	}
	if keep == nil { // the planted satisfaction is of every visitor
		mt.feedback = truth.Satisfaction.ByStage
	}
	return mt
}

func checkMap(t *testing.T, name string, r journey.MapResult, want mapTruth) {
	t.Helper()
	if r.Visitors != want.visitors || len(r.Stages) != journey.StageCount {
		t.Fatalf("%s: %d visitors in %d stages, planted %d", name, r.Visitors, len(r.Stages), want.visitors)
	}
	friction, top := map[string]int{}, map[string]int{}
	for i, st := range r.Stages {
		if st.Stage != journey.Stage(i) {
			t.Fatalf("%s: stage %d is %s", name, i, st.Stage)
		}
		if st.Visitors != want.reached[st.Stage] || st.Left != want.left[st.Stage] || st.Continued != st.Visitors-st.Left {
			t.Errorf("%s %s: %d visitors, %d left; planted %d, %d", name, st.Stage, st.Visitors, st.Left, want.reached[st.Stage], want.left[st.Stage])
		}
		for _, f := range st.Friction {
			friction[fmt.Sprint(st.Stage, " ", f.Signal)] = f.Visitors
		}
		for _, tc := range st.Top {
			top[fmt.Sprint(st.Stage, " ", tc.Touchpoint)] = tc.Visitors
		}
		if want.feedback != nil {
			w := want.feedback[i]
			if st.Feedback.Responses != w.Responses || (w.Responses > 0) != (st.Feedback.Average != nil) ||
				w.Responses > 0 && math.Abs(*st.Feedback.Average-w.Mean) > 1e-9 {
				t.Errorf("%s: feedback in %s %+v, planted %+v", name, st.Stage, st.Feedback, w.Rating)
			}
		}
	}
	if !journeytest.SameCounts(friction, want.friction) {
		t.Errorf("%s: friction by stage %v, planted %v", name, friction, want.friction)
	}
	for k, n := range want.top {
		if top[k] != n {
			t.Errorf("%s: top touchpoint %q: %d visitors, planted %d", name, k, top[k], n)
		}
	}
	flows := map[[2]journey.Stage]int{}
	for _, f := range r.Flows {
		flows[[2]journey.Stage{f.From, f.To}] = f.Visitors
	}
	if !journeytest.SameCounts(flows, want.flows) {
		t.Errorf("%s: flows %v, planted %v", name, flows, want.flows)
	}
	if !slices.IsSortedFunc(r.Flows, func(a, b journey.StageFlow) int { return b.Visitors - a.Visitors }) {
		t.Errorf("%s: flows not most visitors first: %v", name, r.Flows)
	}
}

// The journey map equals the one planted: over whole trails, over the
// range (a returning visitor's landing is no discovery), by segment and by
// channel.
func TestMapAgainstPlantedTruth(t *testing.T) {
	opts := journeytest.Options{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 7}
	for _, seed := range truthSeeds {
		visitors, truth := journeytest.Generate(seed, 2000, opts)
		run := func(name string, scope journey.Scope, ch event.Channel, inRange bool, keep func(*journeytest.Visitor) bool) {
			m := journey.NewMap(journey.DefaultConfig())
			m.Scope, m.Channel = scope, ch
			for _, v := range visitors {
				m.Add(v.Trail)
			}
			checkMap(t, fmt.Sprintf("seed %d %s", seed, name), m.Result(0), plantedMap(visitors, truth, inRange, keep))
		}
		run("whole trails", journey.Scope{}, event.ChannelUnknown, false, nil)
		run("range", journey.Scope{From: opts.Start, To: opts.End()}, event.ChannelUnknown, true, nil)
		for _, seg := range []journey.Segment{journey.SegmentNew, journey.SegmentReturning, journey.SegmentLapsed} {
			run(seg.String(), journey.Scope{From: opts.Start, To: opts.End(), Segment: seg}, event.ChannelUnknown, true,
				func(v *journeytest.Visitor) bool { return v.Plan.Segment == seg })
		}
		for _, ch := range []event.Channel{event.ChannelDirect, event.ChannelSearch, event.ChannelEmail} {
			run(ch.String(), journey.Scope{From: opts.Start, To: opts.End()}, ch, true,
				func(v *journeytest.Visitor) bool { return v.Plan.Channel == ch })
		}
	}
}

// A small trail by hand: the top touchpoints count visitors, feedback
// lands in the stage it was given in, and Top is cut at top.
func TestMapRules(t *testing.T) {
	us := int64(1_700_000_000_000_000)
	tp := func(sec int64, typ event.Type, url string) event.Touchpoint {
		return event.Touchpoint{Type: typ, URL: "https://s.example" + url, Derived: us + sec*1e6, Channel: event.ChannelInternal, Results: -1}
	}
	fb := func(sec int64, url string, score int32) event.Touchpoint {
		f := tp(sec, event.TypeFeedback, url)
		f.Score, f.Scale = score, 5
		return f
	}
	a := []event.Touchpoint{tp(0, event.TypePageview, "/"), tp(10, event.TypePageview, "/"), tp(20, event.TypePageview, "/pricing"),
		fb(30, "/x", 5), tp(40, event.TypePageview, "/help/a"), fb(50, "/checkout", 1)}
	a[0].Channel = event.ChannelSearch
	b := []event.Touchpoint{fb(0, "/", 4)}
	m := journey.NewMap(journey.Config{})
	m.Add(a)
	m.Add(b)
	m.Add(nil)
	r := m.Result(1)
	if r.Visitors != 2 {
		t.Fatalf("visitors %d, want 2", r.Visitors)
	}
	st := func(s journey.Stage) journey.MapStage { return r.Stages[s] }
	if d := st(journey.StageDiscover); d.Visitors != 1 || d.Touchpoints != 1 || len(d.Top) != 1 || d.Top[0] != (journey.LabelCount{Touchpoint: "pageview /", Visitors: 1}) {
		t.Errorf("discover %+v", d)
	}
	if e := st(journey.StageExplore); e.Touchpoints != 1 || e.Top[0].Visitors != 1 {
		t.Errorf("explore %+v: one page view of / after the landing", e)
	}
	// a's first rating follows /pricing (buy), its second is on /checkout
	// (buy, low); b's has nothing before it: engage.
	if f := st(journey.StageBuy).Feedback; f.Responses != 2 || f.Average == nil || *f.Average != 0.6 {
		t.Errorf("buy feedback %+v, want 2 responses averaging 0.6", f)
	}
	if fr := st(journey.StageBuy).Friction; len(fr) != 1 || fr[0] != (journey.StageSignal{Signal: journey.SignalLowFeedback, Visitors: 1}) {
		t.Errorf("buy friction %+v", fr)
	}
	if f := st(journey.StageEngage); f.Feedback.Responses != 1 || *f.Feedback.Average != 0.8 || f.Visitors != 2 || f.Left != 2 {
		t.Errorf("engage %+v", f)
	}
	if n := st(journey.StageAsk); n.Visitors != 1 || n.Left != 0 || n.Continued != 1 {
		t.Errorf("ask %+v", n)
	}
}

// A visitor whose range holds only an engagement report (its page view
// came before the range) counts as active but reaches no stage; Add used to
// index an empty stage sequence and panic.
func TestMapRangeOfOnlyEngagement(t *testing.T) {
	m := journey.NewMap(journey.DefaultConfig())
	m.Scope = journey.Scope{From: t0.Add(time.Minute)}
	m.Add([]event.Touchpoint{tp(0, event.TypePageview, "/faq"), tp(2*time.Minute, event.TypeEngagement, "/faq", engaged(90_000, 80))})
	r := m.Result(5)
	left := 0
	for _, st := range r.Stages {
		left += st.Left + st.Visitors
	}
	if r.Visitors != 1 || left != 0 {
		t.Errorf("%+v", r)
	}
}
