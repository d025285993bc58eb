package collector

import (
	"context"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// addTrail is what the ask-stage accumulators have in common.
type addTrail interface {
	Add(trail []event.Touchpoint)
}

// scanWhole feeds the whole trails of the visitors active in [from, to) to
// acc, whose Scope windows them (stages need what came before).
func (s *Server) scanWhole(qc context.Context, site string, a scanArgs, acc addTrail) error {
	release, err := s.scanSlot()
	if err != nil {
		return err
	}
	defer release()
	return s.store.ScanTrails(qc, site, a.from, a.to, func(_ event.VisitorID, trail []event.Touchpoint) error {
		acc.Add(trail)
		return nil
	})
}

func topArg(ctx *fasthttp.RequestCtx, def int) (int, error) {
	t := ctx.QueryArgs().Peek("top")
	if len(t) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(string(t))
	if err != nil || n < 1 || n > 1000 {
		return 0, errStatus(fasthttp.StatusBadRequest, "top: want 1..1000")
	}
	return n, nil
}

func (s *Server) scope(a scanArgs) journey.Scope {
	return journey.Scope{From: a.from, To: a.to, Segment: a.segment, LapsedAfter: s.journeyCfg.LapsedAfter}
}

// selfService answers GET /v1/sites/{site}/selfservice?from=&to=&segment=&top=:
// of the visitors who searched or read help pages, the share who opened no
// chat and no ticket within the configured window, overall, by help page
// and by search term (journey.SelfService).
func (s *Server) selfService(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	a, err := s.readScanArgs(ctx)
	if err != nil {
		return err
	}
	top, err := topArg(ctx, 20)
	if err != nil {
		return err
	}
	ss := journey.NewSelfService(s.journeyCfg)
	ss.Scope = s.scope(a)
	if err := s.scanWhole(qc, site, a, ss); err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site    string `json:"site"`
		Segment string `json:"segment"`
		journey.SelfServiceResult
	}{site, a.segment.String(), ss.Result(top)})
}

// satisfaction answers GET /v1/sites/{site}/satisfaction?from=&to=&segment=&top=:
// ratings (feedback, and help-desk ratings of tickets) by stage and by the
// touchpoint they follow (journey.Satisfaction).
func (s *Server) satisfaction(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	a, err := s.readScanArgs(ctx)
	if err != nil {
		return err
	}
	top, err := topArg(ctx, 20)
	if err != nil {
		return err
	}
	sa := journey.NewSatisfaction(s.journeyCfg)
	sa.Scope = s.scope(a)
	if err := s.scanWhole(qc, site, a, sa); err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site    string `json:"site"`
		Segment string `json:"segment"`
		journey.SatisfactionResult
	}{site, a.segment.String(), sa.Result(top)})
}
