package journey_test

import (
	"encoding/json"
	"fmt"
	"strings"
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
		{name: "events at the same time keep their seq order", trail: []event.Touchpoint{
			tp(0, event.TypePageview, "/", channel(event.ChannelSearch), seq(1)), tp(time.Minute, event.TypeSearch, "/", seq(2), results(0)),
			tp(time.Minute, event.TypeChatOpen, "/", seq(3))},
			sessions: 1, stages: "discover explore ask", friction: []string{journey.SignalSearchNoResults, journey.SignalSearchThenChat}},
		{name: "a new external channel starts a session", trail: []event.Touchpoint{
			tp(0, event.TypePageview, "/", channel(event.ChannelDirect)), tp(time.Minute, event.TypePageview, "/a", channel(event.ChannelInternal)),
			tp(2*time.Minute, event.TypePageview, "/b", channel(event.ChannelSocial)), tp(3*time.Minute, event.TypePageview, "/c", channel(event.ChannelSocial)),
			tp(4*time.Minute, event.TypePageview, "/d", channel(event.ChannelDirect))},
			sessions: 2, stages: "explore"},
		{name: "the landing page view from outside is discover whatever the page", trail: []event.Touchpoint{
			tp(0, event.TypePageview, "/pricing", channel(event.ChannelPaid)), tp(time.Minute, event.TypePageview, "/pricing", channel(event.ChannelInternal)),
			tp(2*time.Minute, event.TypeSearch, "/pricing"), tp(3*time.Minute, event.TypeSearch, "/help/x"), tp(4*time.Minute, event.TypeIdentify, "/"),
			tp(5*time.Minute, event.TypePageview, "/dashboard"), tp(6*time.Minute, event.TypeCustom, "/")},
			sessions: 1, stages: "discover buy explore ask use engage"},
		{name: "3 of 5 is not low feedback; unknown results are not friction; two searches are not repeated", trail: []event.Touchpoint{
			tp(0, event.TypeFeedback, "/", func(p *event.Touchpoint) { p.Score, p.Scale = 3, 5 }), tp(time.Minute, event.TypeSearch, "/"),
			tp(2*time.Minute, event.TypeSearch, "/", results(5)), tp(33*time.Minute, event.TypeSearch, "/", results(2))},
			sessions: 2, stages: "engage explore"},
		{name: "three searches in one session are repeated", trail: []event.Touchpoint{
			tp(0, event.TypeSearch, "/", results(1)), tp(time.Minute, event.TypeSearch, "/", results(1)), tp(2*time.Minute, event.TypeSearch, "/", results(1))},
			sessions: 1, stages: "explore", friction: []string{journey.SignalRepeatedSearch}},
		{name: "a chat in a later session is neither search_then_chat nor help_then_chat", trail: []event.Touchpoint{
			tp(0, event.TypePageview, "/help/returns"), tp(time.Minute, event.TypeSearch, "/help/returns", results(3)), tp(time.Hour, event.TypeChatOpen, "/")},
			sessions: 2, stages: "ask"},
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

// A user's two visitors with interleaved touchpoints make one journey.
func TestMergedUserJourney(t *testing.T) {
	phone := []event.Touchpoint{tp(0, event.TypePageview, "/", visitor(1), seq(1), channel(event.ChannelSocial)),
		tp(2*time.Minute, event.TypePageview, "/pricing", visitor(1), seq(2), channel(event.ChannelInternal)),
		tp(20*time.Minute, event.TypeIdentify, "/", visitor(1), seq(3), func(p *event.Touchpoint) { p.User = "u" })}
	laptop := []event.Touchpoint{tp(time.Minute, event.TypePageview, "/", visitor(2), seq(1), channel(event.ChannelDirect)),
		tp(10*time.Minute, event.TypeIdentify, "/", visitor(2), seq(2), func(p *event.Touchpoint) { p.User = "u" }),
		tp(25*time.Minute, event.TypeCheckoutStep, "/checkout", visitor(2), seq(3), step(1)),
		tp(26*time.Minute, event.TypeCheckoutStep, "/checkout", visitor(2), seq(4), step(3))}
	j := journey.Build(journey.Merge(phone, laptop), journey.DefaultConfig())
	if j.Touchpoints != 7 || len(j.Sessions) != 1 || !j.Converted || j.FirstTouch.Channel != "social" || j.LastTouch.Channel != "direct" {
		t.Errorf("merged journey %+v", j)
	}
	if s := j.Sessions[0]; s.Counts["pageview"] != 3 || s.Counts["identify"] != 2 || s.EntryPage != "/" || s.ExitPage != "/pricing" || s.Duration != 26*60 {
		t.Errorf("merged session %+v", s)
	}
	if got := fmt.Sprint(j.Stages); got != "[discover explore buy use buy]" {
		t.Errorf("stages %s", got)
	}
}

// The funnel counts the earliest of the runs that reach furthest, within
// the window from its start, each visitor once.
func TestFunnelRules(t *testing.T) {
	steps, _ := journey.ParseSteps("pageview:/pricing,checkout_step:1,checkout_step:2")
	f := func(name string, within time.Duration, trail []event.Touchpoint, want []int, medians []float64) {
		t.Helper()
		fn := journey.NewFunnel(steps, within)
		fn.Add(trail)
		fn.Add(nil)
		r := fn.Result()
		for k, st := range r.Steps {
			if st.Visitors != want[k] || st.MedianSeconds != medians[k] {
				t.Errorf("%s: step %d: %d visitors, median %v; want %d, %v", name, k, st.Visitors, st.MedianSeconds, want[k], medians[k])
			}
		}
	}
	pricing := func(at time.Duration) event.Touchpoint { return tp(at, event.TypePageview, "/pricing") }
	checkout := func(at time.Duration, n uint32) event.Touchpoint {
		return tp(at, event.TypeCheckoutStep, "/checkout", step(n))
	}
	f("nothing", time.Hour, []event.Touchpoint{tp(0, event.TypePageview, "/")}, []int{0, 0, 0}, []float64{0, 0, 0})
	f("steps out of order", time.Hour, []event.Touchpoint{checkout(0, 1), pricing(time.Minute), checkout(2*time.Minute, 2)}, []int{1, 0, 0}, []float64{0, 0, 0})
	f("twice through counts once", time.Hour, []event.Touchpoint{pricing(0), checkout(time.Minute, 1), pricing(2 * time.Minute), checkout(4*time.Minute, 1)},
		[]int{1, 1, 0}, []float64{0, 60, 0})
	f("a later start reaches further", 10*time.Minute, []event.Touchpoint{pricing(0), checkout(time.Minute, 1),
		pricing(20 * time.Minute), checkout(22*time.Minute, 1), checkout(25*time.Minute, 2)}, []int{1, 1, 1}, []float64{0, 120, 180})
	f("the window counts from step 1", 10*time.Minute, []event.Touchpoint{pricing(0), checkout(5*time.Minute, 1), checkout(11*time.Minute, 2)},
		[]int{1, 1, 0}, []float64{0, 300, 0})
	f("exactly the window is within it", 10*time.Minute, []event.Touchpoint{pricing(0), checkout(5*time.Minute, 1), checkout(10*time.Minute, 2)},
		[]int{1, 1, 1}, []float64{0, 300, 300})
	f("no window", 0, []event.Touchpoint{pricing(0), checkout(50*time.Hour, 1)}, []int{1, 1, 0}, []float64{0, 180000, 0})
}

// Paths stop at the end of the session; transitions count visitors per
// depth.
func TestPathsStopAtSessionEnd(t *testing.T) {
	p := journey.NewPaths(nil, 3, journey.DefaultConfig())
	p.Add([]event.Touchpoint{tp(0, event.TypePageview, "/"), tp(time.Minute, event.TypeSearch, "/"), tp(time.Hour, event.TypeChatOpen, "/")})
	p.Add([]event.Touchpoint{tp(0, event.TypePageview, "/"), tp(time.Minute, event.TypeSearch, "/"),
		tp(2*time.Minute, event.TypeCheckoutStep, "/", step(2)), tp(3*time.Minute, event.TypeChatOpen, "/")})
	r := p.Result(1)
	if r.Visitors != 2 || len(r.Paths) != 1 || fmt.Sprint(r.Paths[0].Path) != "[pageview / search]" {
		t.Errorf("paths %+v", r.Paths)
	}
	want := "[{0 pageview / search 2} {1 search checkout_step 2 1}]"
	if got := fmt.Sprint(r.Transitions); got != want {
		t.Errorf("transitions %s, want %s", got, want)
	}
}

// Abandoned checkouts report the furthest step and the last page of that
// session.
func TestAbandonPage(t *testing.T) {
	trail := []event.Touchpoint{tp(0, event.TypePageview, "/pricing"), tp(time.Minute, event.TypeCheckoutStep, "/checkout", step(1)),
		tp(2*time.Minute, event.TypePageview, "/shipping-costs"), tp(2*time.Hour, event.TypePageview, "/"), tp(3*time.Hour, event.TypeCheckoutStep, "/", step(1))}
	v := journey.FindSignals(trail, journey.Config{})
	if v.LastStep != 1 || v.AbandonPage != "/shipping-costs" {
		t.Errorf("%+v", v)
	}
	fr := journey.NewFriction(journey.Config{})
	fr.Add(event.VisitorID{1}, trail)
	fr.Add(event.VisitorID{2}, append(trail, tp(4*time.Hour, event.TypeCheckoutStep, "/", step(3))))
	r := fr.Result(5)
	if r.Visitors != 2 || r.AbandonedAtStep[1] != 1 || len(r.AbandonPages) != 1 || r.Signals[4].Visitors != 1 ||
		r.Signals[4].Examples[0] != (event.VisitorID{1}).String() {
		t.Errorf("%+v", r)
	}
}

// Result types marshal with snake_case names; stages, steps and segments
// as their names.
func TestJSON(t *testing.T) {
	var cfg struct {
		Rules []journey.StageRule `json:"rules"`
		Step  journey.Step        `json:"step"`
		Seg   journey.Segment     `json:"seg"`
	}
	in := `{"rules":[{"pattern":"/docs*","stage":"use"}],"step":"checkout_step:2","seg":"lapsed"}`
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(cfg)
	if string(out) != in {
		t.Errorf("round trip %s", out)
	}
	if err := json.Unmarshal([]byte(`{"rules":[{"stage":"sleep"}]}`), &cfg); err == nil {
		t.Error("unknown stage accepted")
	}
	j, _ := json.Marshal(journey.Build([]event.Touchpoint{tp(0, event.TypePageview, "/", channel(event.ChannelEmail), utm("nov"))}, journey.Config{}))
	for _, want := range []string{`"sessions":[{"start":"2026-11-23T23:50:00Z"`, `"entry_page":"/"`, `"campaign":"news/nov"`,
		`"counts":{"pageview":1}`, `"stages":["discover"]`, `"first_touch":{"channel":"email","campaign":"news/nov"}`} {
		if !strings.Contains(string(j), want) {
			t.Errorf("journey JSON %s\nlacks %s", j, want)
		}
	}
}

func TestMatchAndLabel(t *testing.T) {
	f := func(step string, p event.Touchpoint, match bool, label string) {
		t.Helper()
		st, err := journey.ParseStep(step)
		if err != nil {
			t.Fatal(err)
		}
		if st.Match(&p) != match || journey.Label(&p) != label || st.String() != step {
			t.Errorf("%s on %s: match %v, label %q, string %q", step, p.URL, st.Match(&p), journey.Label(&p), st.String())
		}
	}
	f("pageview:/help*", tp(0, event.TypePageview, "/help/returns?x=1#top"), true, "pageview /help/returns")
	f("pageview:/help/*", tp(0, event.TypePageview, "/help"), false, "pageview /help")
	f("pageview:/p/?", tp(0, event.TypePageview, "/p/7"), true, "pageview /p/7")
	f("search:REFUND", tp(0, event.TypeSearch, "/", func(p *event.Touchpoint) { p.Query = "my refund please" }), true, "search")
	f("custom:signup", tp(0, event.TypeCustom, "/", func(p *event.Touchpoint) { p.Name = "signup" }), true, "custom signup")
	f("chat_open:drift", tp(0, event.TypeChatOpen, "/", func(p *event.Touchpoint) { p.Widget = "intercom" }), false, "chat_open")
	f("checkout_step:2", tp(0, event.TypeCheckoutStep, "/", step(2)), true, "checkout_step 2")
	f("pageview", tp(0, event.TypePageview, ""), true, "pageview /")
}
