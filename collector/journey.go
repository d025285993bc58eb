package collector

import (
	"context"
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
		page, err := s.reads.Trail(ctx, site, v, q)
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

// The site-wide endpoints: each reads its question and answers it through
// siteWide (sitewide.go), on one node or across a cluster's stores.

func (s *Server) funnel(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	return s.siteWide(qc, ctx, site, "funnel")
}

func (s *Server) paths(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	return s.siteWide(qc, ctx, site, "paths")
}

func (s *Server) friction(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	return s.siteWide(qc, ctx, site, "friction")
}

func (s *Server) attribution(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	return s.siteWide(qc, ctx, site, "attribution")
}

// engagement answers GET …/engagement: engaged time and scroll depth of the
// top pages and of the help pages, from the engagement reports of
// t-engage.js.
func (s *Server) engagement(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	return s.siteWide(qc, ctx, site, "engagement")
}
