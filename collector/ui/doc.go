// Package ui serves the journey map: read-only pages under /ui/ that show
// a site's journeys — the lifecycle stages with their touchpoints,
// friction and feedback, the funnel, the paths (a Sankey diagram), the
// friction signals with example visitors, visitor and user timelines, and
// the recent visitors — in English, Arabic (right to left) and Romanian.
//
// The pages are html/template (embedded) with SVG charts drawn in Go and
// no script; they call pkg/journey over the store directly, as the query
// API does (never HTTP to the collector). Browsers sign in with a query
// token, exchanged for a session cookie (HttpOnly, SameSite=Strict,
// Secure behind HTTPS); forms carry a CSRF token; every answer has a
// strict Content-Security-Policy and X-Frame-Options: DENY.
//
// # Usage
//
// The collector mounts it (collector/uimount.go) unless its config says
// disable_ui:
//
//	u, err := ui.New(ui.Config{}, ui.Deps{
//		Store: st, Journey: journey.DefaultConfig(), Sites: []string{"shop"},
//		Authenticate: func(token []byte) (ui.Identity, bool) { … },
//	})
//	handler := u.Handler() // an http.Handler for every /ui/ path
//
// A UI is safe for concurrent use.
package ui
