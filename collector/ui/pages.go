package ui

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/store"
)

func (u *UI) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), u.cfg.Timeout)
}

// mapView is the journey map page's data.
type mapView struct {
	journey.MapResult
	BarsSVG, CurveSVG, FlowsSVG template.HTML
	Next                        [journey.StageCount][]journey.StageFlow // the flows out of each stage
}

func (u *UI) mapPage(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	f, err := u.readFilter(r, true)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	ctx, cancel := u.ctx(r)
	defer cancel()
	m, err := u.journeyMap(ctx, p.Site, f)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	p.Nav, p.Filter = "map", f
	v := &mapView{MapResult: m, BarsSVG: stageBarsChart(&m, p.L), CurveSVG: curveChart(&m, p.L), FlowsSVG: flowChart(&m, p.L)}
	for _, fl := range m.Flows {
		v.Next[fl.From] = append(v.Next[fl.From], fl)
	}
	p.Data = v
	u.render(w, r, http.StatusOK, "map", p)
}

// maxSteps bounds a funnel's steps (and so its page).
const maxSteps = 20

// defaultSteps is the funnel shown before any is chosen.
const defaultSteps = "pageview:/pricing,checkout_step:1,checkout_step:2,checkout_step:3"

type funnelView struct {
	funnelAnswer
	Steps, Within string
	Chart         template.HTML
}

func (u *UI) funnelPage(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	f, err := u.readFilter(r, false)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	q := r.URL.Query()
	v := &funnelView{Steps: q.Get("steps"), Within: q.Get("within")}
	if v.Steps == "" {
		v.Steps = defaultSteps
	}
	if v.Within == "" {
		v.Within = "24h"
	}
	steps, err := journey.ParseSteps(v.Steps)
	if err == nil && len(steps) > maxSteps {
		err = fmt.Errorf("at most %d", maxSteps)
	}
	if err != nil {
		u.fail(w, r, ses, errStatus(http.StatusBadRequest, "steps: "+err.Error()))
		return
	}
	within, err := parseWithin(v.Within)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	ctx, cancel := u.ctx(r)
	defer cancel()
	if v.funnelAnswer, err = u.funnel(ctx, p.Site, f, steps, within); err != nil {
		u.fail(w, r, ses, err)
		return
	}
	rows := make([]hbar, len(v.FunnelResult.Steps))
	first := 0
	if len(v.FunnelResult.Steps) > 0 {
		first = v.FunnelResult.Steps[0].Visitors
	}
	for i, st := range v.FunnelResult.Steps {
		name := stepLabel(st.Step, p.L)
		rows[i] = hbar{label: name, value: st.FromFirst, text: p.L.N(st.Visitors) + " · " + p.L.Pct(st.FromFirst),
			tip: name + ": " + p.L.T("map.visitors", st.Visitors)}
		if i > 0 {
			rows[i].drop = ratio(st.DropOff, first)
			rows[i].dropT = name + ": " + p.L.T("funnel.dropped", st.DropOff, p.L.Dur(st.MedianSeconds))
		}
	}
	v.Chart = barsChart("chart-funnel", p.L.T("funnel.chart"), p.L.T("funnel.chartdesc"), rows, p.L)
	p.Nav, p.Filter, p.Data = "funnel", f, v
	u.render(w, r, http.StatusOK, "funnel", p)
}

// parseWithin reads a conversion window: a Go duration or days ("7d").
func parseWithin(s string) (time.Duration, error) {
	if n, ok := cutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d > 0 && d <= 366 {
			return time.Duration(d) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errStatus(http.StatusBadRequest, "within: want a duration like 30m, 24h or 7d")
	}
	return d, nil
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// stepLabel shows a funnel step ("checkout_step:2") in the locale.
func stepLabel(step string, l *locale) string {
	for i := 0; i < len(step); i++ {
		if step[i] == ':' {
			return l.Label(step[:i] + " " + step[i+1:])
		}
	}
	return l.Label(step)
}

type pathsView struct {
	journey.PathsResult
	StartV string
	DepthV int
	Chart  template.HTML
}

func (u *UI) pathsPage(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	f, err := u.readFilter(r, false)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	q := r.URL.Query()
	v := &pathsView{StartV: q.Get("start"), DepthV: 4}
	if v.StartV == "" {
		v.StartV = "pageview:/pricing"
	}
	start, err := journey.ParseStep(v.StartV)
	if err != nil {
		u.fail(w, r, ses, errStatus(http.StatusBadRequest, "start: "+err.Error()))
		return
	}
	if d := q.Get("depth"); d != "" {
		if v.DepthV, err = strconv.Atoi(d); err != nil || v.DepthV < 1 || v.DepthV > 8 {
			u.fail(w, r, ses, errStatus(http.StatusBadRequest, "depth: want 1..8"))
			return
		}
	}
	ctx, cancel := u.ctx(r)
	defer cancel()
	if v.PathsResult, err = u.paths(ctx, p.Site, f, &start, v.DepthV); err != nil {
		u.fail(w, r, ses, err)
		return
	}
	v.Chart = sankeyChart(&v.PathsResult, stepLabel(v.StartV, p.L), p.L)
	p.Nav, p.Filter, p.Data = "paths", f, v
	u.render(w, r, http.StatusOK, "paths", p)
}

type frictionView struct {
	journey.FrictionResult
	Chart template.HTML
	Steps []stepCount
	Ask   askResults
}

type stepCount struct{ Step, Visitors int }

func (u *UI) frictionPage(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	f, err := u.readFilter(r, false)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	ctx, cancel := u.ctx(r)
	defer cancel()
	fr, ask, err := u.friction(ctx, p.Site, f)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	v := &frictionView{FrictionResult: fr, Ask: ask}
	rows := make([]hbar, len(fr.Signals))
	for i, s := range fr.Signals {
		share := ratio(s.Visitors, fr.Visitors)
		rows[i] = hbar{label: p.L.Signal(s.Signal), value: share, text: p.L.Pct(share), color: colLeft,
			tip: p.L.Signal(s.Signal) + ": " + p.L.T("map.visitors", s.Visitors)}
	}
	for step := uint32(1); step <= 20; step++ {
		if n, ok := fr.AbandonedAtStep[step]; ok {
			v.Steps = append(v.Steps, stepCount{int(step), n})
		}
	}
	v.Chart = barsChart("chart-friction", p.L.T("friction.chart"), p.L.T("map.visitors", fr.Visitors), rows, p.L)
	p.Nav, p.Filter, p.Data = "friction", f, v
	u.render(w, r, http.StatusOK, "friction", p)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (u *UI) visitorsPage(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	ctx, cancel := u.ctx(r)
	defer cancel()
	vs, err := u.recentVisitors(ctx, p.Site, 50)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	if e := r.URL.Query().Get("erased"); e != "" {
		if id, err := event.ParseVisitor(e); err == nil {
			p.Notice = p.L.T("erase.done", id.String())
		}
	}
	if e := r.URL.Query().Get("erased_user"); e != "" && len(e) <= 256 {
		p.Notice = p.L.T("erase.userdone", e)
	}
	p.Nav, p.Data = "visitors", vs
	u.render(w, r, http.StatusOK, "visitors", p)
}

// timelineView is a visitor's or a user's timeline.
type timelineView struct {
	Site      string
	Visitor   string // a visitor's page
	User      string // a user's page
	Visitors  []string
	Journey   journey.Journey
	Sessions  []tlSession // the ones this page shows
	Truncated bool
	Admin     bool
	Chart     template.HTML // the sessions shown, along time
	// The page of sessions shown: First to Last (1-based) of Total;
	// Earlier and Later are the upto= of the pages before and after (0:
	// none).
	First, Last, Total, Earlier, Later int
}

// maxShown bounds the touchpoints one timeline page shows.
const maxShown = 200

// window keeps the sessions of one page: whole sessions of at most
// maxShown touchpoints in all (a longer session is cut), ending with
// session upto (1-based; out of range: the last).
func (tv *timelineView) window(upto int) {
	n := len(tv.Sessions)
	if upto < 1 || upto > n {
		upto = n
	}
	// back from upto, then the page after it, forward
	first, count := upto, 0
	for first > 0 && (count == 0 || count+len(tv.Sessions[first-1].Touches) <= maxShown) {
		count += len(tv.Sessions[first-1].Touches)
		first--
	}
	later, count := upto, 0
	for later < n && (count == 0 || count+len(tv.Sessions[later].Touches) <= maxShown) {
		count += len(tv.Sessions[later].Touches)
		later++
	}
	tv.First, tv.Last, tv.Total = first+1, upto, n
	if first > 0 {
		tv.Earlier = first
	}
	if later > upto {
		tv.Later = later
	}
	tv.Sessions = tv.Sessions[first:upto]
	for i := range tv.Sessions {
		if len(tv.Sessions[i].Touches) > maxShown {
			tv.Sessions[i].Touches, tv.Sessions[i].Cut = tv.Sessions[i].Touches[:maxShown], true
		}
	}
}

// Signals lists the friction signals marked in a session.
func (s *tlSession) Signals() []string {
	var out []string
	for _, t := range s.Touches {
		out = append(out, t.Signals...)
	}
	return out
}

// PageURL is the address of the timeline page ending with session upto.
func (tv *timelineView) PageURL(upto int) string {
	q := url.Values{"upto": {strconv.Itoa(upto)}}
	if tv.User != "" {
		q.Set("id", tv.User)
		return "/ui/s/" + url.PathEscape(tv.Site) + "/user?" + q.Encode()
	}
	return "/ui/s/" + url.PathEscape(tv.Site) + "/visitors/" + tv.Visitor + "?" + q.Encode()
}

func (u *UI) visitorPage(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	v, err := parseVisitor(r.PathValue("visitor"))
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	release, err := u.slot()
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	defer release()
	ctx, cancel := u.ctx(r)
	defer cancel()
	trail, cut, err := u.trail(ctx, p.Site, v)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	if len(trail) == 0 {
		u.fail(w, r, ses, errStatus(http.StatusNotFound, ""))
		return
	}
	tv := &timelineView{Site: p.Site, Visitor: v.String(), Journey: journey.Build(trail, u.d.Journey), Truncated: cut, Admin: ses.id.Admin}
	tv.Sessions = timeline(trail, &tv.Journey, u.d.Journey)
	upto, _ := strconv.Atoi(r.URL.Query().Get("upto"))
	tv.window(upto)
	tv.Chart = sessionsChart(tv.Sessions, p.L)
	p.Nav, p.Data, p.Title = "visitors", tv, p.L.T("tl.visitor", short(tv.Visitor))
	u.render(w, r, http.StatusOK, "timeline", p)
}

func (u *UI) userPage(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	user := r.URL.Query().Get("id")
	if user == "" || len(user) > 256 {
		u.fail(w, r, ses, errStatus(http.StatusBadRequest, "id: want a user id"))
		return
	}
	release, err := u.slot()
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	defer release()
	ctx, cancel := u.ctx(r)
	defer cancel()
	visitors, trail, cut, err := u.userTrail(ctx, p.Site, user)
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	if len(visitors) == 0 {
		u.fail(w, r, ses, errStatus(http.StatusNotFound, ""))
		return
	}
	tv := &timelineView{Site: p.Site, User: user, Journey: journey.Build(trail, u.d.Journey), Truncated: cut, Admin: ses.id.Admin}
	for _, v := range visitors {
		tv.Visitors = append(tv.Visitors, v.String())
	}
	tv.Sessions = timeline(trail, &tv.Journey, u.d.Journey)
	upto, _ := strconv.Atoi(r.URL.Query().Get("upto"))
	tv.window(upto)
	tv.Chart = sessionsChart(tv.Sessions, p.L)
	p.Nav, p.Data, p.Title = "visitors", tv, p.L.T("tl.user", user)
	u.render(w, r, http.StatusOK, "timeline", p)
}

func parseVisitor(s string) (event.VisitorID, error) {
	v, err := event.ParseVisitor(s)
	if err != nil {
		return v, errStatus(http.StatusBadRequest, "visitor: "+err.Error())
	}
	return v, nil
}

// short abbreviates a visitor id for headings.
func short(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// eraseView is the confirmation of an erase.
type eraseView struct {
	ID      string // the visitor or user
	Action  string // where the form posts
	Cancel  string
	User    bool
	Warning string
}

// eraseConfirm asks an admin to confirm erasing a visitor.
func (u *UI) eraseConfirm(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	if !ses.id.Admin {
		u.fail(w, r, ses, errStatus(http.StatusForbidden, ""))
		return
	}
	v, err := parseVisitor(r.PathValue("visitor"))
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	base := "/ui/s/" + url.PathEscape(p.Site) + "/visitors/" + v.String()
	p.Nav, p.Title = "visitors", p.L.T("erase.title", short(v.String()))
	p.Data = &eraseView{ID: v.String(), Action: base + "/erase", Cancel: base, Warning: p.L.T("erase.warn")}
	u.render(w, r, http.StatusOK, "erase", p)
}

// eraseUserConfirm asks an admin to confirm erasing a user and every
// visitor stitched to it.
func (u *UI) eraseUserConfirm(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	user := r.URL.Query().Get("id")
	if !ses.id.Admin {
		u.fail(w, r, ses, errStatus(http.StatusForbidden, ""))
		return
	}
	if user == "" || len(user) > 256 {
		u.fail(w, r, ses, errStatus(http.StatusBadRequest, "id: want a user id"))
		return
	}
	site := url.PathEscape(p.Site)
	p.Nav, p.Title = "visitors", p.L.T("erase.usertitle", user)
	p.Data = &eraseView{ID: user, User: true, Action: "/ui/s/" + site + "/user/erase",
		Cancel: "/ui/s/" + site + "/user?id=" + url.QueryEscape(user), Warning: p.L.T("erase.userwarn")}
	u.render(w, r, http.StatusOK, "erase", p)
}

// allowedToErase checks an erase post: an admin's session, its CSRF
// token, this origin.
func (u *UI) allowedToErase(w http.ResponseWriter, r *http.Request, ses *session) bool {
	if !ses.id.Admin || !sameOrigin(r) || !ses.checkCSRF(r) {
		u.fail(w, r, ses, errStatus(http.StatusForbidden, ""))
		return false
	}
	return true
}

// erase erases a visitor.
func (u *UI) erase(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	if !u.allowedToErase(w, r, ses) {
		return
	}
	v, err := parseVisitor(r.PathValue("visitor"))
	if err != nil {
		u.fail(w, r, ses, err)
		return
	}
	ctx, cancel := u.ctx(r)
	defer cancel()
	if err := u.d.Store.EraseVisitor(ctx, p.Site, v); err != nil && !errors.Is(err, store.ErrNotFound) {
		u.fail(w, r, ses, err)
		return
	}
	u.d.Log.Info("visitor erased", "site", p.Site, "visitor", v.String(), "token", ses.id.Name)
	http.Redirect(w, r, "/ui/s/"+url.PathEscape(p.Site)+"/visitors?erased="+v.String(), http.StatusSeeOther)
}

// eraseUser erases a user and every visitor stitched to it.
func (u *UI) eraseUser(w http.ResponseWriter, r *http.Request, ses *session, p *page) {
	if !u.allowedToErase(w, r, ses) {
		return
	}
	user := r.PostFormValue("id")
	if user == "" || len(user) > 256 {
		u.fail(w, r, ses, errStatus(http.StatusBadRequest, "id: want a user id"))
		return
	}
	ctx, cancel := u.ctx(r)
	defer cancel()
	vs, err := u.d.Store.EraseUser(ctx, p.Site, user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		u.fail(w, r, ses, err)
		return
	}
	u.d.Log.Info("user erased", "site", p.Site, "visitors", len(vs), "token", ses.id.Name)
	http.Redirect(w, r, "/ui/s/"+url.PathEscape(p.Site)+"/visitors?erased_user="+url.QueryEscape(user), http.StatusSeeOther)
}
