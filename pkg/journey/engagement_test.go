package journey_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

func engaged(ms int64, scroll int) func(*event.Touchpoint) {
	return func(p *event.Touchpoint) {
		p.Props = []event.Prop{{Key: event.PropEngagedMS, Value: strconv.FormatInt(ms, 10)}, {Key: event.PropScroll, Value: strconv.Itoa(scroll)}}
	}
}

func TestQuickExitHelp(t *testing.T) {
	cfg := journey.DefaultConfig()
	const E = event.TypeEngagement
	s := time.Second
	f := func(name string, want bool, trail ...event.Touchpoint) {
		t.Helper()
		got := slices.Contains(journey.FindSignals(trail, cfg).Signals, journey.SignalQuickExitHelp)
		if got != want {
			t.Errorf("%s: quick_exit_help %v, want %v", name, got, want)
		}
	}
	f("help left in 3 s with 5 % scrolled, then a search", true,
		tp(0, event.TypePageview, "/faq/returns"), tp(3*s, E, "/faq/returns", engaged(3000, 5)),
		tp(4*s, event.TypePageview, "/search?q=refund"), tp(4*s, event.TypeSearch, "/search?q=refund"))
	f("the search made on the help page itself, before the page's report", true,
		tp(0, event.TypePageview, "/help"), tp(2*s, event.TypeSearch, "/help"), tp(2*s, E, "/help", engaged(2000, 0)))
	f("then a chat", true,
		tp(0, event.TypePageview, "/support"), tp(5*s, E, "/support", engaged(5000, 10)), tp(6*s, event.TypeChatOpen, "/support"))
	f("read for a minute", false,
		tp(0, event.TypePageview, "/faq"), tp(60*s, E, "/faq", engaged(60000, 10)), tp(61*s, event.TypeSearch, "/faq"))
	f("quick but scrolled to the answer", false,
		tp(0, event.TypePageview, "/faq"), tp(5*s, E, "/faq", engaged(5000, 90)), tp(6*s, event.TypeChatOpen, "/faq"))
	f("quick, then nothing asked", false,
		tp(0, event.TypePageview, "/faq"), tp(3*s, E, "/faq", engaged(3000, 0)), tp(4*s, event.TypePageview, "/products"))
	f("quick on a product page, then a search", false,
		tp(0, event.TypePageview, "/products"), tp(3*s, E, "/products", engaged(3000, 0)), tp(4*s, event.TypeSearch, "/products"))
	f("a search in a later session", false,
		tp(0, event.TypePageview, "/faq"), tp(3*s, E, "/faq", engaged(3000, 0)), tp(2*time.Hour, event.TypeSearch, "/"))
	f("the help page hidden early then read: the largest report counts", false,
		tp(0, event.TypePageview, "/faq"), tp(2*s, E, "/faq", engaged(2000, 0)), tp(90*s, E, "/faq", engaged(40000, 60)),
		tp(91*s, event.TypeSearch, "/faq"))
	f("no engagement report: unknown, no signal", false,
		tp(0, event.TypePageview, "/faq"), tp(1*s, event.TypeSearch, "/faq"))
}

// Engagement reports pass through stages and paths as if absent, and the
// per-page figures come from them.
func TestEngagementPerPage(t *testing.T) {
	cfg := journey.DefaultConfig()
	const E = event.TypeEngagement
	s := time.Second
	trail := []event.Touchpoint{
		tp(0, event.TypePageview, "/"), tp(20*s, E, "/", engaged(20000, 100)),
		tp(21*s, event.TypePageview, "/faq"), tp(25*s, E, "/faq", engaged(4000, 10)),
		tp(26*s, event.TypePageview, "/faq"), tp(60*s, E, "/faq", engaged(30000, 80)), tp(70*s, E, "/faq", engaged(34000, 90)),
		tp(71*s, event.TypePageview, "/pricing"),
	}
	if got := journey.Stages(trail, cfg); !slices.Equal(got, []journey.Stage{journey.StageExplore, journey.StageAsk, journey.StageBuy}) {
		t.Errorf("stages %v: engagement must not be a stage", got)
	}
	pages := journey.PagesEngagement(trail, cfg)
	want := []journey.PageEngagement{
		{Page: "/faq", Views: 2, Engaged: 2, MedianEngagedSeconds: 19, MeanEngagedSeconds: 19, MeanScroll: 50, Scrolled75: 1, QuickExits: 1},
		{Page: "/", Views: 1, Engaged: 1, MedianEngagedSeconds: 20, MeanEngagedSeconds: 20, MeanScroll: 100, Scrolled75: 1},
		{Page: "/pricing", Views: 1},
	}
	if !slices.Equal(pages, want) {
		t.Errorf("pages\n got %+v\nwant %+v", pages, want)
	}
	e := journey.NewEngagement(cfg)
	e.Add(trail)
	e.Add(trail)
	r := e.Result(2)
	if r.Visitors != 2 || len(r.Pages) != 2 || r.Pages[0].Views != 4 || r.Help.Views != 4 || r.Help.QuickExits != 2 ||
		len(r.HelpPages) != 1 || r.HelpPages[0].Page != "/faq" {
		t.Errorf("result %+v", r)
	}

	p := journey.NewPaths(nil, 5, cfg)
	p.Add(trail)
	for _, path := range p.Result(10).Paths {
		for _, label := range path.Path {
			if label == "engagement" || len(label) > 10 && label[:10] == "engagement" {
				t.Errorf("path %v holds an engagement report", path.Path)
			}
		}
	}
}
