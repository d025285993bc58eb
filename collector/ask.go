package collector

import (
	"context"
	"strconv"

	"github.com/valyala/fasthttp"
)

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

// selfService answers GET /v1/sites/{site}/selfservice?from=&to=&segment=&top=:
// of the visitors who searched or read help pages, the share who opened no
// chat and no ticket within the configured window, overall, by help page
// and by search term (journey.SelfService).
func (s *Server) selfService(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	return s.siteWide(qc, ctx, site, "selfservice")
}

// satisfaction answers GET /v1/sites/{site}/satisfaction?from=&to=&segment=&top=:
// ratings (feedback, and help-desk ratings of tickets) by stage and by the
// touchpoint they follow (journey.Satisfaction).
func (s *Server) satisfaction(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	return s.siteWide(qc, ctx, site, "satisfaction")
}
