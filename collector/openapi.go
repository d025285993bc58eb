package collector

import (
	_ "embed"
	"strings"

	"github.com/valyala/fasthttp"
)

// OpenAPI is the collector's OpenAPI 3.1 document: every route, status and
// error shape. It is the contract: the end-to-end tests validate every
// answer they receive against it. Served at /v1/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// serveOpenAPI answers GET /v1/openapi.json.
func serveOpenAPI(ctx *fasthttp.RequestCtx) {
	if !allowMethods(ctx, "GET", "HEAD") {
		return
	}
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "public, max-age=3600")
	ctx.SetBody(OpenAPI)
}

// allowMethods reports whether the request's method is one of methods,
// and otherwise answers 405 with an Allow header (RFC 9110 15.5.6).
func allowMethods(ctx *fasthttp.RequestCtx, methods ...string) bool {
	m := string(ctx.Method())
	for _, a := range methods {
		if m == a {
			return true
		}
	}
	methodNotAllowed(ctx, methods)
	return false
}

func methodNotAllowed(ctx *fasthttp.RequestCtx, methods []string) {
	allow := strings.Join(methods, ", ")
	writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed: use "+allow, 0)
	ctx.Response.Header.Set(fasthttp.HeaderAllow, allow)
}

// errAllow is a 405 error naming the methods the path answers, for wrap to
// set as the Allow header.
type errAllow struct{ methods []string }

func (e *errAllow) Error() string { return "method not allowed: use " + strings.Join(e.methods, ", ") }

// queryRoute is one route of the query API under /v1/sites/{site}/: its
// path segments after the site ("*" matches any one) and its method.
type queryRoute struct {
	segs   []string
	method string
	scope  Scope
	h      func(s *Server, ctx *fasthttp.RequestCtx, site string, seg []string) error
}

// queryRoutes is the query API; query matches a path against them and
// answers 404 when no route has the path, 405 with Allow when none has the
// method too.
var queryRoutes = []queryRoute{
	{[]string{"visitors"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, _ []string) error { return s.visitors(ctx, site) }},
	{[]string{"visitors", "*"}, "DELETE", ScopeAdmin, func(s *Server, ctx *fasthttp.RequestCtx, site string, seg []string) error {
		return s.eraseVisitor(ctx, site, seg[1])
	}},
	{[]string{"visitors", "*", "trail"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, seg []string) error {
		return s.visitorTrail(ctx, site, seg[1])
	}},
	{[]string{"visitors", "*", "journey"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, seg []string) error {
		return s.visitorJourney(ctx, site, seg[1])
	}},
	{[]string{"users", "*"}, "DELETE", ScopeAdmin, func(s *Server, ctx *fasthttp.RequestCtx, site string, seg []string) error {
		return s.eraseUser(ctx, site, seg[1])
	}},
	{[]string{"users", "*", "trail"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, seg []string) error {
		return s.userTrail(ctx, site, seg[1])
	}},
	{[]string{"users", "*", "journey"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, seg []string) error {
		return s.userJourney(ctx, site, seg[1])
	}},
	{[]string{"funnel"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, _ []string) error { return s.funnel(ctx, site) }},
	{[]string{"paths"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, _ []string) error { return s.paths(ctx, site) }},
	{[]string{"friction"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, _ []string) error { return s.friction(ctx, site) }},
	{[]string{"attribution"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, _ []string) error {
		return s.attribution(ctx, site)
	}},
	{[]string{"export"}, "GET", ScopeRead, func(s *Server, ctx *fasthttp.RequestCtx, site string, _ []string) error { return s.export(ctx, site) }},
}

// matchQuery finds the route of seg (the segments after the site) for
// method; GET routes answer HEAD too. With no route for the method it
// returns the methods the path has (nil: no such path).
func matchQuery(seg []string, method string) (r *queryRoute, allow []string) {
	for i := range queryRoutes {
		qr := &queryRoutes[i]
		if len(qr.segs) != len(seg) {
			continue
		}
		match := true
		for j, p := range qr.segs {
			if p != "*" && p != seg[j] || p == "*" && seg[j] == "" {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		if qr.method == method || qr.method == "GET" && method == "HEAD" {
			return qr, nil
		}
		allow = append(allow, qr.method)
		if qr.method == "GET" {
			allow = append(allow, "HEAD")
		}
	}
	return nil, allow
}

// RouteList names every route the collector answers as "METHOD /path",
// with the OpenAPI document's path templates: the test that keeps the
// document and the router in step reads it.
func RouteList() []string {
	out := []string{"POST /v1/events", "OPTIONS /v1/events", "GET /v1/p.gif", "GET /t.js", "GET /t-chat.js",
		"GET /healthz", "GET /readyz", "GET /metrics", "GET /v1/openapi.json"}
	for _, r := range queryRoutes {
		p := "/v1/sites/{site}"
		for i, s := range r.segs {
			if s == "*" {
				s = map[string]string{"visitors": "{visitor}", "users": "{user}"}[r.segs[i-1]]
			}
			p += "/" + s
		}
		out = append(out, r.method+" "+p)
	}
	return out
}
