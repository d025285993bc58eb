package collector

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/store"
)

// handle routes a request. The ingest routes come first: they are the hot
// path and need no allocation to match.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	switch string(path) {
	case "/v1/events", s.cfg.IngestPath, "/":
		if len(path) == 1 && !ctx.IsPost() && !ctx.IsOptions() {
			break // GET / is no endpoint; POST / is /v1/events for data-api given as an origin
		}
		switch {
		case ctx.IsPost():
			s.routeIngest(ctx)
		case ctx.IsOptions():
			s.routePreflight(ctx)
		default:
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "use POST", 0)
			ctx.Response.Header.Set("Allow", "POST, OPTIONS")
		}
		return
	case "/v1/p.gif":
		s.routePixel(ctx)
		return
	case "/healthz":
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"ok"}` + "\n")
		return
	case "/readyz":
		if s.draining.Load() {
			writeError(ctx, fasthttp.StatusServiceUnavailable, "shutting down", 0)
			return
		}
		if dc, ok := s.store.(store.DiskChecker); ok {
			if err := dc.DiskFull(); err != nil {
				writeError(ctx, fasthttp.StatusServiceUnavailable, "not ready: "+err.Error(), 30)
				return
			}
		}
		if s.ready != nil {
			if err := s.ready(); err != nil {
				writeError(ctx, fasthttp.StatusServiceUnavailable, "not ready: "+err.Error(), 1)
				return
			}
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"ready"}` + "\n")
		return
	case "/metrics":
		if !s.cfg.PublicMetrics {
			if _, err := s.authorize(ctx, "", ScopeRead); err != nil {
				st, msg, _ := s.mapError(err)
				writeError(ctx, st, msg, 0)
				return
			}
		}
		s.promH(ctx)
		return
	}
	if _, ok := s.assets[string(path)]; ok {
		s.routeSnippet(ctx)
		return
	}
	if h := s.compat[string(path)]; h != nil {
		h(ctx)
		return
	}
	if s.ui != nil && (string(path) == "/ui" || bytes.HasPrefix(path, []byte("/ui/"))) {
		s.ui(ctx)
		return
	}
	if hookRoute(path) { // authenticated by the hook's secret, not a token
		s.wrap("hooks", s.routeHook)(ctx)
		return
	}
	if bytes.HasPrefix(path, []byte("/v1/sites/")) {
		s.wrap("query", s.query)(ctx)
		return
	}
	writeError(ctx, fasthttp.StatusNotFound, "no such endpoint", 0)
}

// pathSegments splits the raw path after prefix into unescaped segments, so
// that a user id may hold an escaped "/".
func pathSegments(ctx *fasthttp.RequestCtx, prefix string) ([]string, error) {
	raw := string(ctx.URI().PathOriginal())
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	raw = strings.TrimPrefix(raw, prefix)
	raw = strings.TrimSuffix(raw, "/")
	parts := strings.Split(raw, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, errStatus(fasthttp.StatusBadRequest, "bad path escape in %q", p)
		}
		parts[i] = u
	}
	return parts, nil
}
