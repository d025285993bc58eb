package journey_test

import (
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

var t0 = time.Date(2026, 11, 23, 23, 50, 0, 0, time.UTC)

func tp(offset time.Duration, typ event.Type, url string, mods ...func(*event.Touchpoint)) event.Touchpoint {
	p := event.Touchpoint{Type: typ, URL: "https://shop.example" + url, Derived: t0.Add(offset).UnixMicro(), Results: -1}
	for _, m := range mods {
		m(&p)
	}
	return p
}

func seq(n uint32) func(*event.Touchpoint) { return func(p *event.Touchpoint) { p.Seq = n } }
func visitor(b byte) func(*event.Touchpoint) {
	return func(p *event.Touchpoint) { p.Visitor = event.VisitorID{15: b} }
}
func utm(c string) func(*event.Touchpoint) {
	return func(p *event.Touchpoint) { p.UTM.Source, p.UTM.Campaign = "news", c }
}
func results(n int32) func(*event.Touchpoint) { return func(p *event.Touchpoint) { p.Results = n } }
func step(n uint32) func(*event.Touchpoint)   { return func(p *event.Touchpoint) { p.Step = n } }
func channel(c event.Channel) func(*event.Touchpoint) {
	return func(p *event.Touchpoint) { p.Channel = c }
}

func TestEdgeCases(t *testing.T) {
	cfg := journey.DefaultConfig()
	for _, c := range []struct {
		name     string
		trail    []event.Touchpoint
		sessions int
		stages   string
		friction []string
	}{
		{name: "empty trail", trail: nil, sessions: 0, stages: ""},
		{name: "one touchpoint", trail: []event.Touchpoint{tp(0, event.TypePageview, "/", channel(event.ChannelSearch))},
			sessions: 1, stages: "discover"},
		{name: "a session crossing midnight is one session", trail: []event.Touchpoint{
			tp(0, event.TypePageview, "/"), tp(20*time.Minute, event.TypePageview, "/pricing"), tp(35*time.Minute, event.TypeCheckoutStep, "/pricing", step(1))},
			sessions: 1, stages: "explore buy", friction: []string{journey.SignalCheckoutAbandoned}},
		{name: "a gap of exactly the threshold splits", trail: []event.Touchpoint{
			tp(0, event.TypePageview, "/"), tp(30*time.Minute, event.TypePageview, "/")}, sessions: 2, stages: "explore"},
		{name: "a gap just under the threshold does not", trail: []event.Touchpoint{
			tp(0, event.TypePageview, "/"), tp(30*time.Minute-time.Microsecond, event.TypePageview, "/")}, sessions: 1, stages: "explore"},
		{name: "a new campaign starts a session", trail: []event.Touchpoint{
			tp(0, event.TypePageview, "/", utm("a")), tp(time.Minute, event.TypePageview, "/x", utm("b")), tp(2*time.Minute, event.TypePageview, "/y")},
			sessions: 2, stages: "explore"},
		{name: "help then chat, search then chat, no results, low feedback", trail: []event.Touchpoint{
			tp(0, event.TypePageview, "/faq"), tp(time.Minute, event.TypeSearch, "/faq", results(0)),
			tp(2*time.Minute, event.TypeChatOpen, "/faq"), tp(3*time.Minute, event.TypeFeedback, "/faq", func(p *event.Touchpoint) { p.Score, p.Scale = 2, 5 })},
			sessions: 1, stages: "ask engage",
			friction: []string{journey.SignalSearchNoResults, journey.SignalSearchThenChat, journey.SignalHelpThenChat, journey.SignalLowFeedback}},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := journey.Build(c.trail, cfg)
			if len(j.Sessions) != c.sessions {
				t.Errorf("%d sessions, want %d: %+v", len(j.Sessions), c.sessions, j.Sessions)
			}
			var stages []string
			for _, s := range j.Stages {
				stages = append(stages, s.String())
			}
			if got := join(stages); got != c.stages {
				t.Errorf("stages %q, want %q", got, c.stages)
			}
			if join(j.Friction) != join(c.friction) {
				t.Errorf("friction %v, want %v", j.Friction, c.friction)
			}
		})
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// Events at the same time keep their seq order; identify merges two
// visitors' interleaved trails in time order.
func TestMergeAndTies(t *testing.T) {
	a := []event.Touchpoint{tp(0, event.TypePageview, "/a1", visitor(1), seq(1)), tp(2*time.Minute, event.TypeIdentify, "/a2", visitor(1), seq(2))}
	b := []event.Touchpoint{tp(time.Minute, event.TypePageview, "/b1", visitor(2), seq(1)), tp(2*time.Minute, event.TypeSearch, "/b2", visitor(2), seq(1)),
		tp(2*time.Minute, event.TypeChatOpen, "/b3", visitor(2), seq(2))}
	m := journey.Merge(a, b)
	// At 2 minutes three touchpoints tie: a's seq 2, b's seq 1 and 2. Seq
	// orders them (b's 1, then a's 2 and b's 2 by visitor id).
	want := []string{"/a1", "/b1", "/b2", "/a2", "/b3"}
	for i, p := range m {
		if got := p.URL[len("https://shop.example"):]; got != want[i] {
			t.Fatalf("merged order %d: %s, want %s", i, got, want[i])
		}
	}
	if s := journey.Sessionize(m, journey.DefaultConfig()); len(s) != 1 || s[0].Counts["pageview"] != 2 {
		t.Errorf("merged sessions %+v", s)
	}
}

func TestParseSteps(t *testing.T) {
	steps, err := journey.ParseSteps("pageview:/pricing, checkout_step:3,custom:signup,search:refund,chat_open")
	if err != nil || len(steps) != 5 || steps[1].Number != 3 || steps[2].Arg != "signup" {
		t.Fatalf("%+v %v", steps, err)
	}
	for _, bad := range []string{"", "teleport", "checkout_step:x", "checkout_step:0"} {
		if _, err := journey.ParseSteps(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	p := tp(0, event.TypePageview, "/pricing?plan=pro")
	if !steps[0].Match(&p) {
		t.Error("pageview:/pricing does not match /pricing?plan=pro")
	}
}
