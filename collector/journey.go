package collector

import (
	"context"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// The journey endpoints: one visitor's or user's journey, and site-wide
// funnels, paths, friction and attribution computed in one pass over the
// trails of the visitors active in [from, to).

// visitorTrailAll reads a visitor's whole trail.
func (s *Server) visitorTrailAll(ctx context.Context, site string, v event.VisitorID) ([]event.Touchpoint, error) {
	var trail []event.Touchpoint
	q := store.TrailQuery{Limit: store.MaxLimit}
	for {
		page, err := s.store.Trail(ctx, site, v, q)
		if err != nil {
			return nil, err
		}
		trail = append(trail, page.Touchpoints...)
		if page.Next == "" || len(trail) >= maxUserTouchpoints {
			return trail, nil
		}
		q.Cursor = page.Next
	}
}

func (s *Server) visitorJourney(qc context.Context, ctx *fasthttp.RequestCtx, site, visitor string) error {
	v, err := parseVisitorArg(visitor)
	if err != nil {
		return err
	}
	release, err := s.scanSlot()
	if err != nil {
		return err
	}
	defer release()
	trail, err := s.visitorTrailAll(qc, site, v)
	if err != nil {
		return err
	}
	if len(trail) == 0 {
		return errStatus(fasthttp.StatusNotFound, "no touchpoints for visitor %s", v)
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site    string `json:"site"`
		Visitor string `json:"visitor"`
		journey.Journey
	}{site, v.String(), journey.Build(trail, s.journeyCfg)})
}

func (s *Server) userJourney(qc context.Context, ctx *fasthttp.RequestCtx, site, user string) error {
	release, err := s.scanSlot()
	if err != nil {
		return err
	}
	defer release()
	visitors, trail, truncated, err := s.UserTrail(qc, site, user)
	if err != nil {
		return err
	}
	if len(visitors) == 0 {
		return errStatus(fasthttp.StatusNotFound, "no visitor identified as %q", user)
	}
	ids := make([]string, len(visitors))
	for i, v := range visitors {
		ids[i] = v.String()
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site      string   `json:"site"`
		User      string   `json:"user"`
		Visitors  []string `json:"visitors"`
		Truncated bool     `json:"truncated"`
		journey.Journey
	}{site, user, ids, truncated, journey.Build(trail, s.journeyCfg)})
}

// scanArgs are the common arguments of the site-wide endpoints.
type scanArgs struct {
	from, to time.Time
	segment  journey.Segment
}

func (s *Server) readScanArgs(ctx *fasthttp.RequestCtx) (scanArgs, error) {
	var a scanArgs
	var err error
	args := ctx.QueryArgs()
	if a.from, err = parseTimeArg("from", args.Peek("from")); err != nil {
		return a, err
	}
	if a.to, err = parseTimeArg("to", args.Peek("to")); err != nil {
		return a, err
	}
	if a.segment, err = journey.ParseSegment(string(args.Peek("segment"))); err != nil {
		return a, errStatus(fasthttp.StatusBadRequest, "%v", err)
	}
	if a.from, a.to, err = s.scanRange(a.from, a.to); err != nil {
		return a, err
	}
	return a, nil
}

// scan streams the window [from, to) of every active visitor's trail of the
// segment to fn; the whole trail comes along for what needs history.
// It takes a scan slot, and stops when qc ends.
func (s *Server) scan(qc context.Context, site string, a scanArgs, fn func(v event.VisitorID, window, whole []event.Touchpoint)) (int, error) {
	release, err := s.scanSlot()
	if err != nil {
		return 0, err
	}
	defer release()
	n := 0
	err = s.store.ScanTrails(qc, site, a.from, a.to, func(v event.VisitorID, trail []event.Touchpoint) error {
		seg, active := journey.Classify(trail, a.from, a.to, s.journeyCfg)
		if !active || (a.segment != journey.SegmentAll && seg != a.segment) {
			return nil
		}
		n++
		fn(v, journey.Window(trail, a.from, a.to), trail)
		return nil
	})
	return n, err
}

func (s *Server) funnel(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	a, err := s.readScanArgs(ctx)
	if err != nil {
		return err
	}
	steps, err := journey.ParseSteps(string(ctx.QueryArgs().Peek("steps")))
	if err != nil {
		return errStatus(fasthttp.StatusBadRequest, "steps: %v", err)
	}
	within := 24 * time.Hour
	if w := ctx.QueryArgs().Peek("within"); len(w) > 0 {
		if within, err = time.ParseDuration(string(w)); err != nil || within <= 0 {
			return errStatus(fasthttp.StatusBadRequest, "within: want a duration like 30m or 24h")
		}
	}
	f := journey.NewFunnel(steps, within)
	n, err := s.scan(qc, site, a, func(_ event.VisitorID, window, _ []event.Touchpoint) { f.Add(window) })
	if err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site     string `json:"site"`
		Segment  string `json:"segment"`
		Visitors int    `json:"visitors"`
		journey.FunnelResult
	}{site, a.segment.String(), n, f.Result()})
}

func (s *Server) paths(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	a, err := s.readScanArgs(ctx)
	if err != nil {
		return err
	}
	args := ctx.QueryArgs()
	var start *journey.Step
	if st := args.Peek("start"); len(st) > 0 {
		step, err := journey.ParseStep(string(st))
		if err != nil {
			return errStatus(fasthttp.StatusBadRequest, "start: %v", err)
		}
		start = &step
	}
	depth, top := 5, 20
	if d := args.Peek("depth"); len(d) > 0 {
		if depth, err = strconv.Atoi(string(d)); err != nil || depth < 1 || depth > 20 {
			return errStatus(fasthttp.StatusBadRequest, "depth: want 1..20")
		}
	}
	if t := args.Peek("top"); len(t) > 0 {
		if top, err = strconv.Atoi(string(t)); err != nil || top < 1 {
			return errStatus(fasthttp.StatusBadRequest, "top: want a positive number")
		}
	}
	p := journey.NewPaths(start, depth, s.journeyCfg)
	if _, err := s.scan(qc, site, a, func(_ event.VisitorID, window, _ []event.Touchpoint) { p.Add(window) }); err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site    string `json:"site"`
		Segment string `json:"segment"`
		journey.PathsResult
	}{site, a.segment.String(), p.Result(top)})
}

func (s *Server) friction(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	a, err := s.readScanArgs(ctx)
	if err != nil {
		return err
	}
	examples := 5
	if e := ctx.QueryArgs().Peek("examples"); len(e) > 0 {
		if examples, err = strconv.Atoi(string(e)); err != nil || examples < 0 || examples > 20 {
			return errStatus(fasthttp.StatusBadRequest, "examples: want 0..20")
		}
	}
	f := journey.NewFriction(s.journeyCfg)
	if _, err := s.scan(qc, site, a, func(v event.VisitorID, window, _ []event.Touchpoint) { f.Add(v, window) }); err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site    string `json:"site"`
		Segment string `json:"segment"`
		journey.FrictionResult
	}{site, a.segment.String(), f.Result(examples)})
}

func (s *Server) attribution(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	a, err := s.readScanArgs(ctx)
	if err != nil {
		return err
	}
	at := journey.NewAttribution(s.journeyCfg)
	if _, err := s.scan(qc, site, a, func(_ event.VisitorID, _, whole []event.Touchpoint) {
		at.Add(journey.Window(whole, time.Time{}, a.to), a.from)
	}); err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site    string `json:"site"`
		Segment string `json:"segment"`
		journey.AttributionResult
	}{site, a.segment.String(), at.Result()})
}

// engagement answers GET …/engagement: engaged time and scroll depth of the
// top pages and of the help pages, from the engagement reports of
// t-engage.js.
func (s *Server) engagement(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	a, err := s.readScanArgs(ctx)
	if err != nil {
		return err
	}
	top := 20
	if t := ctx.QueryArgs().Peek("top"); len(t) > 0 {
		if top, err = strconv.Atoi(string(t)); err != nil || top < 1 {
			return errStatus(fasthttp.StatusBadRequest, "top: want a positive number")
		}
	}
	e := journey.NewEngagement(s.journeyCfg)
	if _, err := s.scan(qc, site, a, func(_ event.VisitorID, window, _ []event.Touchpoint) { e.Add(window) }); err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site    string `json:"site"`
		Segment string `json:"segment"`
		journey.EngagementResult
	}{site, a.segment.String(), e.Result(top)})
}
