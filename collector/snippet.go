package collector

import (
	"github.com/valyala/fasthttp"
)

// snippet serves GET /t.js, the tracker.
func (s *Server) snippet(ctx *fasthttp.RequestCtx) error {
	if !ctx.IsGet() && !ctx.IsHead() {
		return errMethod
	}
	return errStatus(fasthttp.StatusNotFound, "snippet not built")
}
