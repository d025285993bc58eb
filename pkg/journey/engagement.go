package journey

import (
	"cmp"
	"slices"
	"strings"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Engagement touchpoints (t-engage.js) report, for one page view, its
// engaged milliseconds and its deepest scroll. They describe a page view
// rather than being a step of the journey: stages, paths and the journey
// map pass over them, and they are read here.

// pageVisit is one page view with what its engagement touchpoints said (a
// page hidden and shown again reports again, with the totals so far: the
// largest counts).
type pageVisit struct {
	path     string
	help     bool // an ask page by the stage rules
	engaged  bool // an engagement touchpoint arrived for it
	ms       int64
	scroll   int
	askAfter bool // a search, chat or ticket came after it in its session
}

// isAskTouch reports a touchpoint by which a visitor asks for help: a
// search, a chat opened, or a help-desk ticket opened.
func isAskTouch(tp *event.Touchpoint) bool {
	return tp.Type == event.TypeSearch || tp.Type == event.TypeChatOpen || tp.Type == event.TypeTicket && tp.Status == event.TicketOpened
}

// visits returns the page views of trail with their engagement. An
// engagement touchpoint belongs to the latest page view of its URL path in
// its session (it is sent when that page is hidden or left, so after it).
// dst is reused.
func visits(dst []pageVisit, trail []event.Touchpoint, cfg *Config) []pageVisit {
	dst = dst[:0]
	sp := newSplitter(cfg)
	sessionStart := 0
	for i := range trail {
		tp := &trail[i]
		if sp.next(tp) {
			sessionStart = len(dst)
		}
		switch {
		case tp.Type == event.TypePageview:
			p := urlPath(tp.URL)
			dst = append(dst, pageVisit{path: p, help: cfg.isHelpPage(p)})
		case tp.Type == event.TypeEngagement:
			ms, scroll, ok := tp.Engagement()
			if !ok {
				continue
			}
			p := urlPath(tp.URL)
			for k := len(dst) - 1; k >= sessionStart; k-- {
				if v := &dst[k]; v.path == p {
					v.engaged, v.ms, v.scroll = true, max(v.ms, ms), max(v.scroll, scroll)
					break
				}
			}
		case isAskTouch(tp):
			for k := sessionStart; k < len(dst); k++ {
				dst[k].askAfter = true
			}
		}
	}
	return dst
}

// quickExit reports a page view left quickly with little scrolling.
func (v *pageVisit) quickExit(cfg *Config) bool {
	return v.engaged && v.ms < cfg.QuickExit.Milliseconds() && v.scroll < cfg.QuickExitScroll
}

// quickExitHelp reports the friction signal quick_exit_help in trail: a
// help page left quickly, then a search, chat or ticket in its session.
func quickExitHelp(trail []event.Touchpoint, cfg *Config, buf []pageVisit) bool {
	for _, v := range visits(buf, trail, cfg) {
		if v.help && v.askAfter && v.quickExit(cfg) {
			return true
		}
	}
	return false
}

// PageEngagement is how one page (or every help page together) was used.
type PageEngagement struct {
	Page string `json:"page"`
	// Views counts page views; Engaged those with an engagement report.
	Views   int `json:"views"`
	Engaged int `json:"engaged"`
	// MedianEngagedSeconds and MeanEngagedSeconds are over the engaged
	// page views (the median within RelativeAccuracy over more than
	// ExactValues of them).
	MedianEngagedSeconds float64 `json:"median_engaged_seconds"`
	MeanEngagedSeconds   float64 `json:"mean_engaged_seconds"`
	// MeanScroll is the mean deepest scroll of the engaged page views, in
	// percent; Scrolled75 how many of them reached 75 % or more.
	MeanScroll float64 `json:"mean_scroll"`
	Scrolled75 int     `json:"scrolled_75"`
	// QuickExits counts engaged page views left within QuickExit with less
	// than QuickExitScroll scrolled.
	QuickExits int `json:"quick_exits"`
}

// EngagementResult is the answer of GET …/engagement.
type EngagementResult struct {
	Visitors int `json:"visitors"`
	// Pages are the most viewed pages, most views first.
	Pages []PageEngagement `json:"pages"`
	// Help is every help page (ask by the stage rules) together; HelpPages
	// the most viewed of them.
	Help      PageEngagement   `json:"help"`
	HelpPages []PageEngagement `json:"help_pages"`
}

type pageAcc struct {
	views, engaged, quick, scrolled75 int
	scrollSum, msSum                  int64
	seconds                           quantity // engaged seconds
	help                              bool
}

func (a *pageAcc) add(v *pageVisit, cfg *Config) {
	a.views++
	if !v.engaged {
		return
	}
	a.engaged++
	a.msSum += v.ms
	a.seconds.add(float64(v.ms) / 1000)
	a.scrollSum += int64(v.scroll)
	if v.scroll >= 75 {
		a.scrolled75++
	}
	if v.quickExit(cfg) {
		a.quick++
	}
}

func (a *pageAcc) result(page string) PageEngagement {
	r := PageEngagement{Page: page, Views: a.views, Engaged: a.engaged, QuickExits: a.quick, Scrolled75: a.scrolled75}
	if a.engaged > 0 {
		r.MeanEngagedSeconds = round2(float64(a.msSum) / 1000 / float64(a.engaged))
		r.MedianEngagedSeconds = round2(a.seconds.median())
		r.MeanScroll = round2(float64(a.scrollSum) / float64(a.engaged))
	}
	return r
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// Engagement accumulates engaged time and scroll depth per page over many
// visitors. Partial states merge (Merge, MarshalBinary). Not safe for
// concurrent use.
type Engagement struct {
	// Scope, when set, restricts the counts to some visitors and to the
	// part of their trails in its range.
	Scope Scope

	cfg      Config
	visitors int
	pages    map[string]*pageAcc
	help     pageAcc
	buf      []pageVisit
}

// NewEngagement returns an empty engagement accumulator.
func NewEngagement(cfg Config) *Engagement {
	return &Engagement{cfg: cfg.withDefaults(), pages: map[string]*pageAcc{}}
}

// Add counts one visitor's trail (in trail order). Trails may be reused
// afterwards.
func (e *Engagement) Add(trail []event.Touchpoint) {
	trail, ok := e.Scope.apply(trail)
	if !ok {
		return
	}
	e.visitors++
	e.buf = visits(e.buf, trail, &e.cfg)
	for i := range e.buf {
		v := &e.buf[i]
		a := e.pages[v.path]
		if a == nil {
			a = &pageAcc{help: v.help}
			e.pages[strings.Clone(v.path)] = a
		}
		a.add(v, &e.cfg)
		if v.help {
			e.help.add(v, &e.cfg)
		}
	}
}

// Result returns the top pages (at most top, all when top ≤ 0) and the
// help pages. It shares nothing with e.
func (e *Engagement) Result(top int) EngagementResult {
	r := EngagementResult{Visitors: e.visitors, Pages: []PageEngagement{}, HelpPages: []PageEngagement{}}
	for p, a := range e.pages {
		pe := a.result(p)
		r.Pages = append(r.Pages, pe)
		if a.help {
			r.HelpPages = append(r.HelpPages, pe)
		}
	}
	byViews := func(a, b PageEngagement) int {
		return cmp.Or(cmp.Compare(b.Views, a.Views), cmp.Compare(a.Page, b.Page))
	}
	slices.SortFunc(r.Pages, byViews)
	slices.SortFunc(r.HelpPages, byViews)
	if top > 0 {
		r.Pages = r.Pages[:min(top, len(r.Pages))]
		r.HelpPages = r.HelpPages[:min(top, len(r.HelpPages))]
	}
	r.Help = e.help.result("help pages")
	return r
}

// PagesEngagement returns the engagement of one trail's pages, most viewed
// first: for a visitor's or a user's journey.
func PagesEngagement(trail []event.Touchpoint, cfg Config) []PageEngagement {
	e := NewEngagement(cfg)
	e.Add(trail)
	return e.Result(0).Pages
}
