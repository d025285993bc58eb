package collector

import (
	"context"
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
// path segments after the site ("*" matches any one), its method and the
// scope it needs. h gets the request's context under the query deadline
// (reads) or the request itself (erasing, which must not stop half-way).
type queryRoute struct {
	segs   []string
	method string
	scope  Scope
	h      func(s *Server, qc context.Context, ctx *fasthttp.RequestCtx, site string, seg []string) error
}

type routeFunc = func(s *Server, qc context.Context, ctx *fasthttp.RequestCtx, site string, seg []string) error

// siteRoute adapts a handler of the whole site.
func siteRoute(h func(s *Server, qc context.Context, ctx *fasthttp.RequestCtx, site string) error) routeFunc {
	return func(s *Server, qc context.Context, ctx *fasthttp.RequestCtx, site string, _ []string) error {
		return h(s, qc, ctx, site)
	}
}

// idRoute adapts a handler of one visitor or user (seg[1]).
func idRoute(h func(s *Server, qc context.Context, ctx *fasthttp.RequestCtx, site, id string) error) routeFunc {
	return func(s *Server, qc context.Context, ctx *fasthttp.RequestCtx, site string, seg []string) error {
		return h(s, qc, ctx, site, seg[1])
	}
}

// queryRoutes is the query API; query matches a path against them and
// answers 404 when no route has the path, 405 with Allow when none has the
// method too.
var queryRoutes = []queryRoute{
	{[]string{"visitors"}, "GET", ScopeRead, siteRoute((*Server).visitors)},
	{[]string{"visitors", "*"}, "DELETE", ScopeAdmin, idRoute(func(s *Server, _ context.Context, ctx *fasthttp.RequestCtx, site, v string) error {
		return s.eraseVisitor(ctx, site, v)
	})},
	{[]string{"visitors", "*", "trail"}, "GET", ScopeRead, idRoute((*Server).visitorTrail)},
	{[]string{"visitors", "*", "journey"}, "GET", ScopeRead, idRoute((*Server).visitorJourney)},
	{[]string{"users", "*"}, "DELETE", ScopeAdmin, idRoute(func(s *Server, _ context.Context, ctx *fasthttp.RequestCtx, site, u string) error {
		return s.eraseUser(ctx, site, u)
	})},
	{[]string{"users", "*", "trail"}, "GET", ScopeRead, idRoute((*Server).userTrail)},
	{[]string{"users", "*", "journey"}, "GET", ScopeRead, idRoute((*Server).userJourney)},
	{[]string{"funnel"}, "GET", ScopeRead, siteRoute((*Server).funnel)},
	{[]string{"paths"}, "GET", ScopeRead, siteRoute((*Server).paths)},
	{[]string{"friction"}, "GET", ScopeRead, siteRoute((*Server).friction)},
	{[]string{"attribution"}, "GET", ScopeRead, siteRoute((*Server).attribution)},
	{[]string{"map"}, "GET", ScopeRead, siteRoute((*Server).journeyMap)},
	{[]string{"engagement"}, "GET", ScopeRead, siteRoute((*Server).engagement)},
	{[]string{"selfservice"}, "GET", ScopeRead, siteRoute((*Server).selfService)},
	{[]string{"satisfaction"}, "GET", ScopeRead, siteRoute((*Server).satisfaction)},
	{[]string{"export"}, "GET", ScopeRead, siteRoute(func(s *Server, _ context.Context, ctx *fasthttp.RequestCtx, site string) error {
		return s.export(ctx, site) // streamed after the handler returns, under its own deadline
	})},
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
	out := []string{"POST /v1/events", "OPTIONS /v1/events", "POST /", "OPTIONS /", "GET /v1/p.gif",
		"GET /t.js", "GET /t-chat.js", "GET /t-checkout.js", "GET /t-engage.js",
		"GET /healthz", "GET /readyz", "GET /metrics", "GET /v1/openapi.json", "GET /v1/backup",
		"POST /v1/sites/{site}/hooks/{name}"}
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
