package collector

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// Site-wide questions (funnel, paths, friction, attribution, engagement,
// the journey map, self-service, satisfaction) are one pass of a
// pkg/journey accumulator over the trails of the visitors active in
// [from, to). A question is read from the request once (siteQuery) and
// its accumulator built from it by one function (newSiteAcc), which a
// single node, a store answering its share of a scattered question and
// the query node merging the shares all use: the three cannot drift.

// Scatterer sends a site-wide question to one live store of every
// partition and hands each partial answer to merge (cluster.Router). It
// returns the partitions nobody answered for.
type Scatterer interface {
	Scatter(ctx context.Context, body []byte, merge func(partial []byte) error) (cluster.Missing, error)
}

// siteQuery is a site-wide question with its parameters read and checked.
// It travels as JSON from a query node to the stores.
type siteQuery struct {
	Kind     string          `json:"kind"`
	Site     string          `json:"site"`
	From     time.Time       `json:"from"`
	To       time.Time       `json:"to"`
	Segment  journey.Segment `json:"segment"`
	Steps    string          `json:"steps,omitempty"`  // funnel
	Within   time.Duration   `json:"within,omitempty"` // funnel
	Start    string          `json:"start,omitempty"`  // paths
	Depth    int             `json:"depth,omitempty"`  // paths
	Channel  string          `json:"channel,omitempty"`
	Top      int             `json:"top,omitempty"`      // of the answer, not of the partial state
	Examples int             `json:"examples,omitempty"` // friction
	Limit    int             `json:"limit,omitempty"`    // visitors
	Cursor   string          `json:"cursor,omitempty"`   // visitors
}

// readSiteQuery reads the question kind asks from the request's arguments.
func (s *Server) readSiteQuery(ctx *fasthttp.RequestCtx, site, kind string) (siteQuery, error) {
	a, err := s.readScanArgs(ctx)
	if err != nil {
		return siteQuery{}, err
	}
	q := siteQuery{Kind: kind, Site: site, From: a.from, To: a.to, Segment: a.segment}
	args := ctx.QueryArgs()
	switch kind {
	case "funnel":
		q.Steps = string(args.Peek("steps"))
		if _, err := journey.ParseSteps(q.Steps); err != nil {
			return q, errStatus(fasthttp.StatusBadRequest, "steps: %v", err)
		}
		q.Within = 24 * time.Hour
		if w := args.Peek("within"); len(w) > 0 {
			if q.Within, err = time.ParseDuration(string(w)); err != nil || q.Within <= 0 {
				return q, errStatus(fasthttp.StatusBadRequest, "within: want a duration like 30m or 24h")
			}
		}
	case "paths":
		if st := args.Peek("start"); len(st) > 0 {
			if _, err := journey.ParseStep(string(st)); err != nil {
				return q, errStatus(fasthttp.StatusBadRequest, "start: %v", err)
			}
			q.Start = string(st)
		}
		q.Depth, q.Top = 5, 20
		if d := args.Peek("depth"); len(d) > 0 {
			if q.Depth, err = strconv.Atoi(string(d)); err != nil || q.Depth < 1 || q.Depth > 20 {
				return q, errStatus(fasthttp.StatusBadRequest, "depth: want 1..20")
			}
		}
		if t := args.Peek("top"); len(t) > 0 {
			if q.Top, err = strconv.Atoi(string(t)); err != nil || q.Top < 1 {
				return q, errStatus(fasthttp.StatusBadRequest, "top: want a positive number")
			}
		}
	case "friction":
		q.Examples = 5
		if e := args.Peek("examples"); len(e) > 0 {
			if q.Examples, err = strconv.Atoi(string(e)); err != nil || q.Examples < 0 || q.Examples > 20 {
				return q, errStatus(fasthttp.StatusBadRequest, "examples: want 0..20")
			}
		}
	case "engagement":
		q.Top = 20
		if t := args.Peek("top"); len(t) > 0 {
			if q.Top, err = strconv.Atoi(string(t)); err != nil || q.Top < 1 {
				return q, errStatus(fasthttp.StatusBadRequest, "top: want a positive number")
			}
		}
	case "map":
		q.Channel = string(args.Peek("channel"))
		if _, err := parseChannelArg(q.Channel); err != nil {
			return q, errStatus(fasthttp.StatusBadRequest, "%v", err)
		}
		q.Top = 5
		if t := args.Peek("top"); len(t) > 0 {
			if q.Top, err = strconv.Atoi(string(t)); err != nil || q.Top < 1 || q.Top > 50 {
				return q, errStatus(fasthttp.StatusBadRequest, "top: want 1..50")
			}
		}
	case "selfservice", "satisfaction":
		if q.Top, err = topArg(ctx, 20); err != nil {
			return q, err
		}
	}
	return q, nil
}

// siteAcc is a question's accumulator, whatever its kind.
type siteAcc struct {
	q   siteQuery
	cfg journey.Config
	n   int // visitors counted (the kinds filtered by segment here)

	add    func(v event.VisitorID, trail []event.Touchpoint) // the whole trail; the slice is reused after
	result func() any                                        // the answer's JSON object
	state  func() ([]byte, error)                            // the accumulator's partial state
	fold   func(state []byte) error                          // merge a partial state of the same question
}

// newSiteAcc builds the accumulator of q: the one place that maps a
// question's parameters onto pkg/journey.
func newSiteAcc(q siteQuery, cfg journey.Config) (*siteAcc, error) {
	a := &siteAcc{q: q, cfg: cfg}
	scope := journey.Scope{From: q.From, To: q.To, Segment: q.Segment, LapsedAfter: cfg.LapsedAfter}
	seg := q.Segment.String()
	switch q.Kind {
	case "funnel":
		steps, err := journey.ParseSteps(q.Steps)
		if err != nil {
			return nil, fmt.Errorf("steps: %w", err)
		}
		mk := func() *journey.Funnel { return journey.NewFunnel(steps, q.Within) }
		f := mk()
		a.add = a.filtered(func(_ event.VisitorID, window, _ []event.Touchpoint) { f.Add(window) })
		a.state, a.fold = partialOf(f, mk)
		a.result = func() any {
			return struct {
				Site     string `json:"site"`
				Segment  string `json:"segment"`
				Visitors int    `json:"visitors"`
				journey.FunnelResult
			}{q.Site, seg, a.n, f.Result()}
		}
	case "paths":
		var start *journey.Step
		if q.Start != "" {
			st, err := journey.ParseStep(q.Start)
			if err != nil {
				return nil, fmt.Errorf("start: %w", err)
			}
			start = &st
		}
		mk := func() *journey.Paths { return journey.NewPaths(start, q.Depth, cfg) }
		p := mk()
		a.add = a.filtered(func(_ event.VisitorID, window, _ []event.Touchpoint) { p.Add(window) })
		a.state, a.fold = partialOf(p, mk)
		a.result = func() any {
			return struct {
				Site    string `json:"site"`
				Segment string `json:"segment"`
				journey.PathsResult
			}{q.Site, seg, p.Result(q.Top)}
		}
	case "friction":
		mk := func() *journey.Friction { return journey.NewFriction(cfg) }
		f := mk()
		a.add = a.filtered(func(v event.VisitorID, window, _ []event.Touchpoint) { f.Add(v, window) })
		a.state, a.fold = partialOf(f, mk)
		a.result = func() any {
			return struct {
				Site    string `json:"site"`
				Segment string `json:"segment"`
				journey.FrictionResult
			}{q.Site, seg, f.Result(q.Examples)}
		}
	case "attribution":
		mk := func() *journey.Attribution { return journey.NewAttribution(cfg) }
		at := mk()
		a.add = a.filtered(func(_ event.VisitorID, _, whole []event.Touchpoint) {
			at.Add(journey.Window(whole, time.Time{}, q.To), q.From)
		})
		a.state, a.fold = partialOf(at, mk)
		a.result = func() any {
			return struct {
				Site    string `json:"site"`
				Segment string `json:"segment"`
				journey.AttributionResult
			}{q.Site, seg, at.Result()}
		}
	case "engagement":
		mk := func() *journey.Engagement { return journey.NewEngagement(cfg) }
		e := mk()
		a.add = a.filtered(func(_ event.VisitorID, window, _ []event.Touchpoint) { e.Add(window) })
		a.state, a.fold = partialOf(e, mk)
		a.result = func() any {
			return struct {
				Site    string `json:"site"`
				Segment string `json:"segment"`
				journey.EngagementResult
			}{q.Site, seg, e.Result(q.Top)}
		}
	case "map":
		ch, err := parseChannelArg(q.Channel)
		if err != nil {
			return nil, err
		}
		mk := func() *journey.Map {
			m := journey.NewMap(cfg)
			m.Scope, m.Channel = scope, ch
			return m
		}
		m := mk()
		a.add = func(_ event.VisitorID, trail []event.Touchpoint) { m.Add(trail) }
		a.state, a.fold = partialOf(m, mk)
		a.result = func() any {
			return struct {
				Site    string `json:"site"`
				Segment string `json:"segment"`
				Channel string `json:"channel,omitempty"`
				journey.MapResult
			}{q.Site, seg, ch.String(), m.Result(q.Top)}
		}
	case "selfservice":
		mk := func() *journey.SelfService {
			ss := journey.NewSelfService(cfg)
			ss.Scope = scope
			return ss
		}
		ss := mk()
		a.add = func(_ event.VisitorID, trail []event.Touchpoint) { ss.Add(trail) }
		a.state, a.fold = partialOf(ss, mk)
		a.result = func() any {
			return struct {
				Site    string `json:"site"`
				Segment string `json:"segment"`
				journey.SelfServiceResult
			}{q.Site, seg, ss.Result(q.Top)}
		}
	case "satisfaction":
		mk := func() *journey.Satisfaction {
			sa := journey.NewSatisfaction(cfg)
			sa.Scope = scope
			return sa
		}
		sa := mk()
		a.add = func(_ event.VisitorID, trail []event.Touchpoint) { sa.Add(trail) }
		a.state, a.fold = partialOf(sa, mk)
		a.result = func() any {
			return struct {
				Site    string `json:"site"`
				Segment string `json:"segment"`
				journey.SatisfactionResult
			}{q.Site, seg, sa.Result(q.Top)}
		}
	default:
		return nil, fmt.Errorf("no site-wide question %q", q.Kind)
	}
	return a, nil
}

// filtered feeds fn the visitors active in [from, to) of the question's
// segment, counting them: the window of the trail and the whole of it.
func (a *siteAcc) filtered(fn func(v event.VisitorID, window, whole []event.Touchpoint)) func(event.VisitorID, []event.Touchpoint) {
	return func(v event.VisitorID, trail []event.Touchpoint) {
		seg, active := journey.Classify(trail, a.q.From, a.q.To, a.cfg)
		if !active || (a.q.Segment != journey.SegmentAll && seg != a.q.Segment) {
			return
		}
		a.n++
		fn(v, journey.Window(trail, a.q.From, a.q.To), trail)
	}
}

// partial is what a store answers: the visitors counted (uvarint), then
// the accumulator's partial state.
func (a *siteAcc) partial() ([]byte, error) {
	st, err := a.state()
	if err != nil {
		return nil, fmt.Errorf("%s partial state: %w", a.q.Kind, err)
	}
	return append(binary.AppendUvarint(nil, uint64(a.n)), st...), nil
}

// merge folds a store's partial answer into a.
func (a *siteAcc) merge(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return errors.New("partial answer: bad visitor count")
	}
	if err := a.fold(b[k:]); err != nil {
		return fmt.Errorf("%s partial state: %w", a.q.Kind, err)
	}
	a.n += int(n)
	return nil
}

// mergeable is what pkg/journey gives every site-wide accumulator: a
// partial state to send and the merge of another one's.
type mergeable[T any] interface {
	*T
	Merge(o *T) error
	MarshalBinary() ([]byte, error)
	UnmarshalBinary(b []byte) error
}

// partialOf gives an accumulator's partial state and the merge of another
// partial state into it: unmarshalled into a fresh accumulator made by mk
// (the same parameters), then merged.
func partialOf[T any, P mergeable[T]](acc P, mk func() P) (state func() ([]byte, error), fold func([]byte) error) {
	fold = func(b []byte) error {
		o := mk()
		if err := o.UnmarshalBinary(b); err != nil {
			return err
		}
		return acc.Merge((*T)(o))
	}
	return acc.MarshalBinary, fold
}

// siteWide answers a site-wide question: over the node's own store, or,
// on a query node, scattered to the stores and merged.
func (s *Server) siteWide(qc context.Context, ctx *fasthttp.RequestCtx, site, kind string) error {
	q, err := s.readSiteQuery(ctx, site, kind)
	if err != nil {
		return err
	}
	acc, err := newSiteAcc(q, s.journeyCfg)
	if err != nil {
		return errStatus(fasthttp.StatusBadRequest, "%v", err)
	}
	var missing cluster.Missing
	if s.scatter != nil {
		// No scan slot here: the stores take theirs (this node's own, when
		// it is one of them, must not be held by the question waiting for it).
		body, err := json.Marshal(q)
		if err != nil {
			return fmt.Errorf("BUG: site query: %w", err)
		}
		if missing, err = s.scatter.Scatter(qc, body, acc.merge); err != nil {
			return err
		}
		return writeSiteJSON(ctx, acc.result(), missing)
	}
	release, err := s.scanSlot()
	if err != nil {
		return err
	}
	defer release()
	if err := s.store.ScanTrails(qc, site, q.From, q.To, func(v event.VisitorID, trail []event.Touchpoint) error {
		acc.add(v, trail)
		return nil
	}); err != nil {
		return err
	}
	return writeSiteJSON(ctx, acc.result(), nil)
}

// writeSiteJSON writes a site-wide answer; an answer missing partitions
// says so: "partial": true and "missing_partitions" lead the object.
func writeSiteJSON(ctx *fasthttp.RequestCtx, v any, missing cluster.Missing) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(missing) > 0 && len(b) > 1 && b[0] == '{' {
		head := []byte(`{"partial":true,"missing_partitions":`)
		ms, _ := json.Marshal([]int(missing))
		head = append(head, ms...)
		if len(b) > 2 {
			head = append(head, ',')
		}
		b = append(head, b[1:]...)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	writeJSONBytes(ctx, append(b, '\n'))
	return nil
}

// Aggregate answers a store's share of a scattered site-wide question
// (cluster.AggregateFunc): the accumulator of the question over the
// visitors owns accepts, as a partial answer.
func (s *Server) Aggregate(ctx context.Context, body []byte, owns func(string, event.VisitorID) bool) ([]byte, error) {
	var q siteQuery
	if err := json.Unmarshal(body, &q); err != nil {
		return nil, fmt.Errorf("bad site-wide question: %w", err)
	}
	if s.sites[q.Site] == nil {
		return nil, fmt.Errorf("unknown site %q", q.Site)
	}
	release, err := s.scanSlot()
	if err != nil {
		return nil, err
	}
	defer release()
	if q.Kind == "visitors" {
		return s.visitorsShare(ctx, q, owns)
	}
	acc, err := newSiteAcc(q, s.journeyCfg)
	if err != nil {
		return nil, err
	}
	if err := s.store.ScanTrails(ctx, q.Site, q.From, q.To, func(v event.VisitorID, trail []event.Touchpoint) error {
		if owns(q.Site, v) {
			acc.add(v, trail)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return acc.partial()
}
