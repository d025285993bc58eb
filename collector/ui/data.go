package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// The pages' questions, answered with pkg/journey over the store, as the
// query API answers them (the handler tests hold the two to the same
// numbers).

// errBusy is returned when every scan slot is taken.
var errBusy = errors.New("too many scans running")

// filter is the range, segment and channel of a site-wide page.
type filter struct {
	From, To time.Time // To exclusive
	Segment  journey.Segment
	Channel  event.Channel
	// Form values: the dates as typed (To inclusive), for the inputs.
	FromDay, ToDay     string
	SegmentV, ChannelV string
	WithChannel        bool // the page offers the channel filter
	Query              string
}

// Segments and Channels list the filter's choices: value and message key.
var (
	Segments = [][2]string{{"", "segment.all"}, {"new", "segment.new"}, {"returning", "segment.return"}, {"lapsed", "segment.lapsed"}}
	Channels = [][2]string{{"", "channel.all"}, {"direct", "ch.direct"}, {"search", "ch.search"}, {"social", "ch.social"},
		{"email", "ch.email"}, {"paid", "ch.paid"}, {"referral", "ch.referral"}}
)

// readFilter reads from, to (days, to inclusive), segment and channel.
// Default: the last 7 days and today, as the CLI's.
func (u *UI) readFilter(r *http.Request, withChannel bool) (*filter, error) {
	q := r.URL.Query()
	today := u.d.Now().UTC().Truncate(24 * time.Hour)
	f := &filter{From: today.AddDate(0, 0, -7), To: today.AddDate(0, 0, 1), WithChannel: withChannel}
	if v := q.Get("from"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return nil, errStatus(http.StatusBadRequest, "from: want YYYY-MM-DD")
		}
		f.From = t
	}
	if v := q.Get("to"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return nil, errStatus(http.StatusBadRequest, "to: want YYYY-MM-DD")
		}
		f.To = t.AddDate(0, 0, 1)
	}
	if !f.To.After(f.From) {
		return nil, errStatus(http.StatusBadRequest, "to: before from")
	}
	if f.To.Sub(f.From) > u.cfg.MaxRange {
		return nil, errStatus(http.StatusBadRequest, fmt.Sprintf("the range is longer than the maximum of %d days", int(u.cfg.MaxRange.Hours()/24)))
	}
	seg, err := journey.ParseSegment(q.Get("segment"))
	if err != nil {
		return nil, errStatus(http.StatusBadRequest, err.Error())
	}
	f.Segment, f.SegmentV = seg, q.Get("segment")
	if seg == journey.SegmentAll {
		f.SegmentV = ""
	}
	if withChannel {
		if v := q.Get("channel"); v != "" {
			ch := event.ParseChannel(v)
			if ch == event.ChannelUnknown || ch == event.ChannelInternal {
				return nil, errStatus(http.StatusBadRequest, "channel: want direct, search, social, email, paid or referral")
			}
			f.Channel, f.ChannelV = ch, v
		}
	}
	f.FromDay, f.ToDay = f.From.Format(time.DateOnly), f.To.AddDate(0, 0, -1).Format(time.DateOnly)
	v := url.Values{"from": {f.FromDay}, "to": {f.ToDay}}
	if f.SegmentV != "" {
		v.Set("segment", f.SegmentV)
	}
	f.Query = v.Encode()
	return f, nil
}

func (f *filter) scope(cfg *journey.Config) journey.Scope {
	return journey.Scope{From: f.From, To: f.To, Segment: f.Segment, LapsedAfter: cfg.LapsedAfter}
}

// scan gives every visitor active in the filter's range, with its whole
// trail, to fn.
func (u *UI) scan(ctx context.Context, site string, f *filter, fn func(v event.VisitorID, trail []event.Touchpoint)) error {
	release, err := u.slot()
	if err != nil {
		return err
	}
	defer release()
	return u.d.Store.ScanTrails(ctx, site, f.From, f.To, func(v event.VisitorID, trail []event.Touchpoint) error {
		fn(v, trail)
		return nil
	})
}

// slot takes a scan slot (Deps.ScanSlot) for a site-wide scan or a whole
// journey; release it when done.
func (u *UI) slot() (release func(), err error) {
	if u.d.ScanSlot == nil {
		return func() {}, nil
	}
	release, err = u.d.ScanSlot()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBusy, err)
	}
	return release, nil
}

// journeyMap is GET …/map's answer.
func (u *UI) journeyMap(ctx context.Context, site string, f *filter) (journey.MapResult, error) {
	m := journey.NewMap(u.d.Journey)
	m.Scope, m.Channel = f.scope(&u.d.Journey), f.Channel
	err := u.scan(ctx, site, f, func(_ event.VisitorID, trail []event.Touchpoint) { m.Add(trail) })
	return m.Result(5), err
}

// funnelAnswer is a funnel with a few visitors who dropped off at each
// step.
type funnelAnswer struct {
	journey.FunnelResult
	Visitors int
	Dropped  [][]string // per step: visitor ids who reached the previous step, not this one
}

const funnelExamples = 3

func (u *UI) funnel(ctx context.Context, site string, f *filter, steps []journey.Step, within time.Duration) (funnelAnswer, error) {
	fu := journey.NewFunnel(steps, within)
	scope := f.scope(&u.d.Journey)
	a := funnelAnswer{Dropped: make([][]string, len(steps))}
	need := len(steps) - 1 // steps still wanting examples
	err := u.scan(ctx, site, f, func(v event.VisitorID, trail []event.Touchpoint) {
		w, _, ok := scope.Apply(trail)
		if !ok {
			return
		}
		a.Visitors++
		fu.Add(w)
		if need == 0 {
			return
		}
		one := journey.NewFunnel(steps, within) // this visitor's reach, by the same rule
		one.Add(w)
		reached := 0
		for _, st := range one.Result().Steps {
			reached += st.Visitors
		}
		if reached > 0 && reached < len(steps) && len(a.Dropped[reached]) < funnelExamples {
			a.Dropped[reached] = append(a.Dropped[reached], v.String())
			if len(a.Dropped[reached]) == funnelExamples {
				need--
			}
		}
	})
	a.FunnelResult = fu.Result()
	return a, err
}

func (u *UI) paths(ctx context.Context, site string, f *filter, start *journey.Step, depth int) (journey.PathsResult, error) {
	p := journey.NewPaths(start, depth, u.d.Journey)
	p.Scope = f.scope(&u.d.Journey)
	err := u.scan(ctx, site, f, func(_ event.VisitorID, trail []event.Touchpoint) { p.Add(trail) })
	return p.Result(10), err
}

// askResults are the ask stage's numbers, shown on the friction page.
type askResults struct {
	Self journey.SelfServiceResult
	Sat  journey.SatisfactionResult
}

// friction scans once for the friction signals and the ask stage's
// self-service and satisfaction (as the API's …/selfservice and
// …/satisfaction answer them).
func (u *UI) friction(ctx context.Context, site string, f *filter) (journey.FrictionResult, askResults, error) {
	fr := journey.NewFriction(u.d.Journey)
	ss := journey.NewSelfService(u.d.Journey)
	sa := journey.NewSatisfaction(u.d.Journey)
	fr.Scope = f.scope(&u.d.Journey)
	ss.Scope, sa.Scope = fr.Scope, fr.Scope
	err := u.scan(ctx, site, f, func(v event.VisitorID, trail []event.Touchpoint) {
		fr.Add(v, trail)
		ss.Add(trail)
		sa.Add(trail)
	})
	return fr.Result(5), askResults{Self: ss.Result(10), Sat: sa.Result(10)}, err
}

// recentVisitors returns up to n visitors last active in the 30 days to
// now, newest first.
func (u *UI) recentVisitors(ctx context.Context, site string, n int) ([]store.VisitorDay, error) {
	day := u.d.Now().UTC().Truncate(24 * time.Hour)
	seen := map[event.VisitorID]bool{}
	var out []store.VisitorDay
	for d := 0; d < 30 && len(out) < n; d++ {
		from := day.AddDate(0, 0, -d)
		page, err := u.d.Store.Visitors(ctx, site, store.VisitorQuery{From: from, To: from.AddDate(0, 0, 1), Limit: store.MaxLimit})
		if err != nil {
			return nil, err
		}
		slices.SortFunc(page.Visitors, func(a, b store.VisitorDay) int { return b.LastSeen.Compare(a.LastSeen) })
		for _, v := range page.Visitors {
			if len(out) == n {
				break
			}
			if !seen[v.Visitor] {
				seen[v.Visitor] = true
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// maxTimeline bounds the touchpoints of a timeline.
const maxTimeline = 5000

// trail reads a visitor's whole trail (up to maxTimeline touchpoints).
func (u *UI) trail(ctx context.Context, site string, v event.VisitorID) ([]event.Touchpoint, bool, error) {
	var trail []event.Touchpoint
	q := store.TrailQuery{Limit: store.MaxLimit}
	for {
		page, err := u.d.Store.Trail(ctx, site, v, q)
		if err != nil {
			return nil, false, err
		}
		for i := range page.Touchpoints {
			page.Touchpoints[i].Visitor = v
		}
		trail = append(trail, page.Touchpoints...)
		if page.Next == "" {
			return trail, false, nil
		}
		if len(trail) >= maxTimeline {
			return trail[:maxTimeline], true, nil
		}
		q.Cursor = page.Next
	}
}

// userTrail merges the trails of every visitor stitched to user.
func (u *UI) userTrail(ctx context.Context, site, user string) ([]event.VisitorID, []event.Touchpoint, bool, error) {
	visitors, err := u.d.Store.UserVisitors(ctx, site, user)
	if err != nil {
		return nil, nil, false, err
	}
	var trails [][]event.Touchpoint
	truncated := false
	for _, v := range visitors {
		t, cut, err := u.trail(ctx, site, v)
		if err != nil {
			return nil, nil, false, err
		}
		truncated = truncated || cut
		trails = append(trails, t)
	}
	merged := journey.Merge(trails...)
	if len(merged) > maxTimeline {
		merged, truncated = merged[:maxTimeline], true
	}
	return visitors, merged, truncated, nil
}

// tlTouch is one touchpoint of a timeline.
type tlTouch struct {
	TP      *event.Touchpoint
	Time    time.Time
	Stage   journey.Stage
	Signals []string // the friction signals it marks
	Visitor string   // for a user's timeline: which of its visitors
}

// tlSession is one session band of a timeline.
type tlSession struct {
	journey.Session
	N       int
	Cut     bool // Touches holds only the first maxShown
	Touches []tlTouch
	Class   string // device class of the first touchpoint that has one
	Device  string // its browser and OS
	Country string
}

// timeline lays a trail out as sessions of touchpoints, each with its
// stage and the friction signal it marks.
func timeline(trail []event.Touchpoint, j *journey.Journey, cfg journey.Config) []tlSession {
	out := make([]tlSession, len(j.Sessions))
	firstPV := true
	var lastStep int = -1 // index of the furthest checkout step of an abandoned checkout
	if j.LastCheckoutStep > 0 {
		for i := range trail {
			if trail[i].Type == event.TypeCheckoutStep && trail[i].Step == j.LastCheckoutStep {
				lastStep = i
			}
		}
	}
	repeated := cmp.Or(cfg.RepeatedSearches, 3)
	quickExit := slices.Contains(j.Friction, journey.SignalQuickExitHelp)
	low := cmp.Or(cfg.LowFeedback, 0.6)
	repeatWindow := cmp.Or(cfg.RepeatTicketWindow, 7*24*time.Hour).Microseconds()
	conv := journey.Step{Type: event.TypeCheckoutStep, Number: cmp.Or(cfg.CheckoutLastStep, 3)}
	if cfg.Conversion != nil {
		conv = *cfg.Conversion
	}
	purchased := false
	lastTicket, lastTicketAt := "", int64(0)
	for k, s := range j.Sessions {
		ts := &out[k]
		ts.Session, ts.N = s, k+1
		searches, help := 0, false
		for i := s.First; i <= s.Last; i++ {
			tp := &trail[i]
			st := journey.StageOf(tp, cfg, firstPV && tp.Type == event.TypePageview)
			if tp.Type == event.TypePageview {
				firstPV = false
			}
			t := tlTouch{TP: tp, Time: tp.Time(), Stage: st, Visitor: tp.Visitor.String()}
			switch tp.Type {
			case event.TypePageview:
				help = help || st == journey.StageAsk
			case event.TypeSearch:
				searches++
				switch {
				case tp.Results == 0:
					t.mark(journey.SignalSearchNoResults)
				case searches == repeated:
					t.mark(journey.SignalRepeatedSearch)
				}
			case event.TypeChatOpen:
				switch {
				case searches > 0:
					t.mark(journey.SignalSearchThenChat)
				case help:
					t.mark(journey.SignalHelpThenChat)
				}
			case event.TypeCheckoutStep:
				if i == lastStep {
					t.mark(journey.SignalCheckoutAbandoned)
				}
			case event.TypeFeedback:
				if tp.Scale > 0 && float64(tp.Score)/float64(tp.Scale) < low {
					t.mark(journey.SignalLowFeedback)
				}
			case event.TypeTicket:
				if tp.Status != event.TicketOpened {
					break
				}
				if searches > 0 || help {
					t.mark(journey.SignalSearchThenTicket)
				}
				if purchased {
					t.mark(journey.SignalTicketAfterPurchase)
				}
				if lastTicket != "" && tp.Ticket != lastTicket && tp.Derived-lastTicketAt <= repeatWindow {
					t.mark(journey.SignalRepeatTicket)
				}
				lastTicket, lastTicketAt = tp.Ticket, tp.Derived
			case event.TypeEngagement:
				// A help page left at once, when the journey shows the
				// signal (a search, chat or ticket came after).
				ms, scroll, ok := tp.Engagement()
				if ok && quickExit && st == journey.StageAsk && ms < cmp.Or(cfg.QuickExit, 10*time.Second).Milliseconds() &&
					scroll < cmp.Or(cfg.QuickExitScroll, 25) {
					t.mark(journey.SignalQuickExitHelp)
				}
			}
			if conv.Match(tp) {
				purchased = true
			}
			if ts.Device == "" && tp.Device != event.DeviceUnknown {
				ts.Class, ts.Device = tp.Device.String(), joinNonEmpty(tp.Browser, tp.OS)
			}
			if ts.Country == "" && tp.Country != "" {
				ts.Country = joinNonEmpty(tp.Country, tp.City)
			}
			ts.Touches = append(ts.Touches, t)
		}
	}
	return out
}

// mark adds a friction signal to the touch.
func (t *tlTouch) mark(signal string) { t.Signals = append(t.Signals, signal) }

func joinNonEmpty(parts ...string) string {
	s := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if s != "" {
			s += " · "
		}
		s += p
	}
	return s
}
