package collector

import (
	"github.com/valyala/fasthttp"
)

// CORS on the ingest path: a browser may send events for a site only from
// one of that site's origins. Beacons are text/plain simple requests (no
// preflight); fetch with other content types preflights, and the preflight
// names the site in ?site= or is answered for any configured origin.

func (s *Server) originAllowed(site *Site, origin []byte) bool {
	return len(origin) == 0 || site.allowsOrigin(origin)
}

// setCORS answers the exact origin (never "*", so credentials may be sent).
func setCORS(ctx *fasthttp.RequestCtx, origin []byte) {
	if len(origin) == 0 {
		return
	}
	h := &ctx.Response.Header
	h.SetBytesV(fasthttp.HeaderAccessControlAllowOrigin, origin)
	h.Set(fasthttp.HeaderAccessControlAllowCredentials, "true")
	h.Set(fasthttp.HeaderVary, "Origin")
}

// preflight answers OPTIONS for the ingest path.
func (s *Server) preflight(ctx *fasthttp.RequestCtx) error {
	origin := ctx.Request.Header.Peek(fasthttp.HeaderOrigin)
	allowed := false
	if id := ctx.QueryArgs().Peek("site"); len(id) > 0 {
		if site := s.sites[string(id)]; site != nil {
			allowed = site.allowsOrigin(origin)
		}
	} else {
		for _, site := range s.sites {
			if site.allowsOrigin(origin) {
				allowed = true
				break
			}
		}
	}
	if !allowed {
		return errStatus(fasthttp.StatusForbidden, "origin %q is not allowed", origin)
	}
	setCORS(ctx, origin)
	h := &ctx.Response.Header
	h.Set(fasthttp.HeaderAccessControlAllowMethods, "POST, GET, OPTIONS")
	h.Set(fasthttp.HeaderAccessControlAllowHeaders, "Content-Type, Content-Encoding, Authorization")
	h.Set(fasthttp.HeaderAccessControlMaxAge, "86400")
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// corsOnError keeps an error answer of the ingest path readable by the
// browser that sent the request (a 429 or 503 with Retry-After, a 413):
// writeError resets the response, so the request's origin is answered again
// when it is one of a site's origins (as a preflight without ?site= is),
// and Retry-After is exposed to scripts.
func (s *Server) corsOnError(ctx *fasthttp.RequestCtx) {
	origin := ctx.Request.Header.Peek(fasthttp.HeaderOrigin)
	if len(origin) == 0 {
		return
	}
	for _, site := range s.sites {
		if site.allowsOrigin(origin) {
			setCORS(ctx, origin)
			ctx.Response.Header.Set(fasthttp.HeaderAccessControlExposeHeaders, "Retry-After")
			return
		}
	}
}
