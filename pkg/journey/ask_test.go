package journey_test

import (
	"math"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

func closeTo(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// checkSelfService compares an answer with the planted one.
func checkSelfService(t *testing.T, name string, got, want journey.SelfServiceResult) {
	t.Helper()
	if got.Visitors != want.Visitors || got.Helped != want.Helped || got.SelfServed != want.SelfServed || got.Chat != want.Chat ||
		got.Ticket != want.Ticket || !closeTo(got.Rate, want.Rate) || got.WindowHours != want.WindowHours {
		t.Errorf("%s: self-service %d/%d/%d chat %d ticket %d rate %.4f, planted %d/%d/%d chat %d ticket %d rate %.4f", name,
			got.Visitors, got.Helped, got.SelfServed, got.Chat, got.Ticket, got.Rate,
			want.Visitors, want.Helped, want.SelfServed, want.Chat, want.Ticket, want.Rate)
	}
	for _, c := range []struct {
		what      string
		got, want []journey.SelfServiceItem
	}{{"pages", got.Pages, want.Pages}, {"terms", got.Terms, want.Terms}} {
		if len(c.got) != len(c.want) {
			t.Errorf("%s: %d %s, planted %d: %v", name, len(c.got), c.what, len(c.want), c.got)
			continue
		}
		for i := range c.got {
			g, w := c.got[i], c.want[i]
			if g.Key != w.Key || g.Visitors != w.Visitors || g.SelfServed != w.SelfServed || g.Chat != w.Chat || g.Ticket != w.Ticket || !closeTo(g.Rate, w.Rate) {
				t.Errorf("%s: %s %d: %+v, planted %+v", name, c.what, i, g, w)
			}
		}
	}
}

func checkRating(t *testing.T, name string, got, want journey.Rating) {
	t.Helper()
	if got.Responses != want.Responses || got.Low != want.Low || !closeTo(got.Mean, want.Mean) || !closeTo(got.LowShare, want.LowShare) {
		t.Errorf("%s: %+v, planted %+v", name, got, want)
	}
}

func checkSatisfaction(t *testing.T, name string, got, want journey.SatisfactionResult) {
	t.Helper()
	if got.Visitors != want.Visitors || got.Raters != want.Raters || len(got.ByStage) != journey.StageCount {
		t.Fatalf("%s: %d visitors %d raters %d stages, planted %d %d", name, got.Visitors, got.Raters, len(got.ByStage), want.Visitors, want.Raters)
	}
	checkRating(t, name+" overall", got.Overall, want.Overall)
	for s := range got.ByStage {
		if got.ByStage[s].Stage != journey.Stage(s) {
			t.Fatalf("%s: stage %d is %s", name, s, got.ByStage[s].Stage)
		}
		checkRating(t, name+" "+journey.Stage(s).String(), got.ByStage[s].Rating, want.ByStage[s].Rating)
	}
	if len(got.ByTouchpoint) != len(want.ByTouchpoint) {
		t.Fatalf("%s: by touchpoint %+v, planted %+v", name, got.ByTouchpoint, want.ByTouchpoint)
	}
	for i := range got.ByTouchpoint {
		if got.ByTouchpoint[i].Touchpoint != want.ByTouchpoint[i].Touchpoint {
			t.Errorf("%s: touchpoint %d is %q, planted %q", name, i, got.ByTouchpoint[i].Touchpoint, want.ByTouchpoint[i].Touchpoint)
		}
		checkRating(t, name+" "+got.ByTouchpoint[i].Touchpoint, got.ByTouchpoint[i].Rating, want.ByTouchpoint[i].Rating)
	}
}

// Self-service and satisfaction equal the planted answers for several
// seeds, over whole trails and over the range; the map's feedback curve is
// satisfaction by stage.
func TestAskAgainstPlantedTruth(t *testing.T) {
	opts := journeytest.Options{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 7}
	for _, seed := range truthSeeds {
		visitors, truth := journeytest.Generate(seed, 2000, opts)
		if truth.SelfService.Helped == 0 || truth.SelfService.SelfServed == 0 || truth.SelfService.Ticket == 0 || truth.Satisfaction.Overall.Responses == 0 {
			t.Fatalf("seed %d plants nothing to measure: %+v", seed, truth.SelfService)
		}
		for _, scope := range []journey.Scope{{}, {From: opts.Start, To: opts.End()}} {
			name := "seed " + string(rune('0'+seed%10)) + " scope " + scope.From.Format(time.DateOnly)
			ss := journey.NewSelfService(journey.DefaultConfig())
			sa := journey.NewSatisfaction(journey.DefaultConfig())
			m := journey.NewMap(journey.DefaultConfig())
			ss.Scope, sa.Scope, m.Scope = scope, scope, scope
			for _, v := range visitors {
				ss.Add(v.Trail)
				sa.Add(v.Trail)
				m.Add(v.Trail)
			}
			checkSelfService(t, name, ss.Result(0), truth.SelfService)
			sat := sa.Result(0)
			checkSatisfaction(t, name, sat, truth.Satisfaction)
			for i, st := range m.Result(0).Stages {
				r := sat.ByStage[i]
				if st.Feedback.Responses != r.Responses || r.Responses > 0 && !closeTo(*st.Feedback.Average, r.Mean) {
					t.Errorf("%s: the map's feedback in %s %+v, satisfaction %+v", name, st.Stage, st.Feedback, r)
				}
			}
		}
		// top bounds the lists.
		ss := journey.NewSelfService(journey.Config{})
		for _, v := range visitors {
			ss.Add(v.Trail)
		}
		if r := ss.Result(2); len(r.Terms) != 2 || r.Terms[0] != truth.SelfService.Terms[0] {
			t.Errorf("seed %d top 2 terms: %+v", seed, r.Terms)
		}
	}
}

func at(sec int, tp event.Touchpoint) event.Touchpoint {
	tp.Derived = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second).UnixMicro()
	if tp.Type != event.TypeSearch {
		tp.Results = -1
	}
	return tp
}

// The friction of the "ask" stage, by hand: what counts and what does not.
func TestTicketSignals(t *testing.T) {
	pv := func(path string) event.Touchpoint {
		return event.Touchpoint{Type: event.TypePageview, URL: "https://s.example" + path}
	}
	search := event.Touchpoint{Type: event.TypeSearch, Query: "refund", Results: 3}
	tk := func(id string, st event.TicketStatus) event.Touchpoint {
		return event.Touchpoint{Type: event.TypeTicket, Ticket: id, Status: st}
	}
	buy := event.Touchpoint{Type: event.TypeCheckoutStep, Step: 3}
	const hour, day = 3600, 86400
	for _, c := range []struct {
		name  string
		trail []event.Touchpoint
		want  []string
	}{
		{"search then ticket", []event.Touchpoint{at(0, pv("/")), at(10, search), at(60, tk("1", event.TicketOpened))},
			[]string{journey.SignalSearchThenTicket}},
		{"help page then ticket", []event.Touchpoint{at(0, pv("/faq/returns")), at(60, tk("1", event.TicketOpened))},
			[]string{journey.SignalSearchThenTicket}},
		{"search, then a ticket in another session", []event.Touchpoint{at(0, search), at(2*hour, tk("1", event.TicketOpened))}, nil},
		{"a reply after a search is no new ticket", []event.Touchpoint{at(0, search), at(60, tk("1", event.TicketReplied))}, nil},
		{"ticket after purchase", []event.Touchpoint{at(0, buy), at(3*day, tk("1", event.TicketOpened))},
			[]string{journey.SignalTicketAfterPurchase}},
		{"ticket before purchase", []event.Touchpoint{at(0, tk("1", event.TicketOpened)), at(3*hour, buy)}, nil},
		{"two tickets in 7 days", []event.Touchpoint{at(0, tk("1", event.TicketOpened)), at(6*day, tk("2", event.TicketOpened))},
			[]string{journey.SignalRepeatTicket}},
		{"two tickets 8 days apart", []event.Touchpoint{at(0, tk("1", event.TicketOpened)), at(8*day, tk("2", event.TicketOpened))}, nil},
		{"one ticket opened twice", []event.Touchpoint{at(0, tk("1", event.TicketOpened)), at(day, tk("1", event.TicketOpened))}, nil},
	} {
		got := journey.FindSignals(c.trail, journey.DefaultConfig()).Signals
		if len(got) != len(c.want) || len(got) > 0 && got[0] != c.want[0] {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// A ticket is in the ask stage.
	tp := tk("1", event.TicketOpened)
	if s := journey.StageOf(&tp, journey.Config{}, false); s != journey.StageAsk {
		t.Errorf("a ticket is %s", s)
	}
}

// Self-service by hand: the window, the kinds of escalation, the keys.
func TestSelfServiceRules(t *testing.T) {
	cfg := journey.DefaultConfig()
	cfg.SelfServiceWindow = time.Hour
	ss := journey.NewSelfService(cfg)
	pv := func(path string) event.Touchpoint {
		return event.Touchpoint{Type: event.TypePageview, URL: "https://s.example" + path + "?x=1"}
	}
	q := func(s string) event.Touchpoint { return event.Touchpoint{Type: event.TypeSearch, Query: s, Results: 1} }
	chat := event.Touchpoint{Type: event.TypeChatOpen}
	ticket := event.Touchpoint{Type: event.TypeTicket, Ticket: "1", Status: event.TicketOpened}
	ss.Add([]event.Touchpoint{at(0, pv("/faq/a")), at(60, q("  Refund  Policy ")), at(120, chat)}) // both failed, by chat
	ss.Add([]event.Touchpoint{at(0, pv("/faq/a")), at(7200, ticket)})                              // past the window: served
	ss.Add([]event.Touchpoint{at(0, q("refund policy")), at(1800, ticket)})                        // failed, by ticket
	ss.Add([]event.Touchpoint{at(0, pv("/products/1")), at(60, chat)})                             // no help touch
	ss.Add([]event.Touchpoint{at(0, chat), at(60, pv("/faq/a"))})                                  // the chat came first: served
	r := ss.Result(0)
	if r.Visitors != 5 || r.Helped != 4 || r.SelfServed != 2 || r.Chat != 1 || r.Ticket != 1 || r.Rate != 0.5 || r.WindowHours != 1 {
		t.Errorf("overall %+v", r)
	}
	if len(r.Pages) != 1 || r.Pages[0] != (journey.SelfServiceItem{Key: "/faq/a", Visitors: 3, SelfServed: 2, Rate: 2.0 / 3, Chat: 1}) {
		t.Errorf("pages %+v", r.Pages)
	}
	if len(r.Terms) != 1 || r.Terms[0] != (journey.SelfServiceItem{Key: "refund policy", Visitors: 2, SelfServed: 0, Rate: 0, Chat: 1, Ticket: 1}) {
		t.Errorf("terms %+v", r.Terms)
	}
	if got := journey.NormalizeTerm("  Ünïcode\tTERM  x "); got != "ünïcode term x" {
		t.Errorf("NormalizeTerm: %q", got)
	}
}
