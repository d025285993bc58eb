package collector

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/collector/compat"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// The compatibility APIs (collector/compat translates; this file mounts):
// each request is admitted, read and gunzipped as POST /v1/events is
// (readAdmitted), translated into a wire batch, and put through accept —
// the decoder, validation, trust rules, enrichment and the batch writer —
// then answered in the provider's own form.

// Route labels of the compatibility APIs (metrics, logs).
const (
	routeSegment   = "segment"
	routePostHog   = "posthog"
	routePlausible = "plausible"
	routeUmami     = "umami"
)

// compatPaths are the paths of each API, whether switched on or not.
var compatPaths = map[string]string{
	"/v1/batch": routeSegment, "/v1/track": routeSegment, "/v1/page": routeSegment, "/v1/screen": routeSegment,
	"/v1/identify": routeSegment, "/v1/group": routeSegment, "/v1/alias": routeSegment,
	"/capture/": routePostHog, "/capture": routePostHog, "/batch/": routePostHog, "/batch": routePostHog,
	"/i/v0/e/": routePostHog, "/i/v0/e": routePostHog, "/e/": routePostHog, "/e": routePostHog,
	"/api/event": routePlausible,
	"/api/send":  routeUmami,
}

// compatRouteLabel is routeLabel for the compatibility paths: "other" for
// any other path.
func compatRouteLabel(path []byte) string {
	if r, ok := compatPaths[string(path)]; ok {
		return r
	}
	return "other"
}

func isCompatRoute(route string) bool {
	switch route {
	case routeSegment, routePostHog, routePlausible, routeUmami:
		return true
	}
	return false
}

// compatSites finds the site a provider's request is for.
type compatSites struct {
	domains map[string]*Site // Plausible
	umami   map[string]*Site
	posthog map[string]*Site // public project keys
}

// newCompat returns the handlers of the switched-on APIs by path.
func (s *Server) newCompat() map[string]fasthttp.RequestHandler {
	s.compatSites = compatSites{domains: map[string]*Site{}, umami: map[string]*Site{}, posthog: map[string]*Site{}}
	for _, site := range s.sites {
		for _, d := range site.Domains {
			s.compatSites.domains[plausibleDomain(d)] = site
		}
		for _, w := range site.UmamiWebsites {
			s.compatSites.umami[w] = site
		}
		for _, k := range site.PostHogKeys {
			s.compatSites.posthog[k] = site
		}
	}
	on := map[string]bool{routeSegment: s.cfg.Compat.Segment, routePostHog: s.cfg.Compat.PostHog,
		routePlausible: s.cfg.Compat.Plausible, routeUmami: s.cfg.Compat.Umami}
	m := map[string]fasthttp.RequestHandler{}
	for path, api := range compatPaths {
		if !on[api] {
			continue
		}
		kind := strings.TrimPrefix(path, "/v1/") // Segment's message type
		m[path] = s.wrap(api, func(ctx *fasthttp.RequestCtx) error { return s.compatIngest(ctx, api, kind) })
	}
	return m
}

// plausibleDomain is how Plausible compares domains: lower case, without
// "www.".
func plausibleDomain(d string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "www.")
}

// compatState is the per-request scratch of a translation, pooled.
type compatState struct {
	seg  compat.Segment
	ph   compat.PostHog
	br   compat.Browser
	b    compat.Batch
	wire []byte
	rej  []compat.Rejection
}

var compatPool = sync.Pool{New: func() any { return new(compatState) }}

func putCompatState(cs *compatState) {
	if cap(cs.wire) > 1<<20 { // do not pool what one big batch grew
		cs.wire = nil
	}
	cs.b.Reset()
	compatPool.Put(cs)
}

// compatIngest answers one request of a compatibility API.
func (s *Server) compatIngest(ctx *fasthttp.RequestCtx, api, kind string) error {
	if ctx.IsOptions() {
		return s.compatPreflight(ctx)
	}
	if !ctx.IsPost() {
		return &httpError{status: fasthttp.StatusMethodNotAllowed, msg: "use POST", allow: "POST, OPTIONS"}
	}
	ip := s.clientIP(ctx)
	var key []byte
	limit := s.cfg.MaxBodyBytes
	switch api {
	case routeSegment:
		key = basicUser(ctx)
		limit = max(limit, compat.SegmentMaxBatch)
	case routePostHog:
		switch string(ctx.QueryArgs().Peek("compression")) {
		case "", "gzip":
		case "gzip-js": // posthog-js: a gzipped body whatever the headers say
			ctx.Request.Header.Set(fasthttp.HeaderContentEncoding, "gzip")
		default:
			return errStatus(fasthttp.StatusUnsupportedMediaType, "compression %q not supported (send JSON, gzipped or not)", truncateBytes(ctx.QueryArgs().Peek("compression"), 32))
		}
	}
	st := getIngestState()
	defer putIngestState(st)
	body, n, err := s.readAdmitted(ctx, st, ip, s.writeKeys.any(key), limit, compatContentType)
	defer s.release(n)
	if err != nil {
		return err
	}
	cs := compatPool.Get().(*compatState)
	defer putCompatState(cs)
	lim := compat.Limits{MaxProps: s.cfg.Limits.MaxProps, MaxProp: s.cfg.Limits.MaxProp, OrderStep: s.journeyCfg.CheckoutLastStep}
	b := &cs.b
	switch api {
	case routeSegment:
		err = cs.seg.Parse(body, kind, lim, b)
	case routePostHog:
		err = cs.ph.Parse(body, lim, b)
	case routePlausible:
		err = cs.br.Plausible(body, lim, b)
	case routeUmami:
		err = cs.br.Umami(body, string(ctx.Request.Header.Peek(fasthttp.HeaderOrigin)), lim, b)
	}
	switch {
	case errors.Is(err, compat.ErrTooLarge):
		return errStatus(fasthttp.StatusRequestEntityTooLarge, "%v", err)
	case err != nil:
		return errStatus(fasthttp.StatusBadRequest, "%v", err)
	}
	site, key, err := s.compatSite(api, b.SiteKey, key)
	if err != nil {
		return err
	}
	if len(b.Rejected) > 0 {
		s.metrics.events.WithLabelValues("rejected").Add(float64(len(b.Rejected)))
		s.metrics.rejected.WithLabelValues("message").Add(float64(len(b.Rejected)))
	}
	cs.wire = b.AppendWire(cs.wire[:0], site.ID)
	if err := s.accept(ctx, st, cs.wire, ip, key); err != nil {
		return err
	}
	return s.compatAnswer(ctx, api, st, cs)
}

// compatSite finds the site of a request and the write key it acts with
// (nil: a browser's request).
func (s *Server) compatSite(api, siteKey string, key []byte) (*Site, []byte, error) {
	switch api {
	case routeSegment:
		if len(key) == 0 {
			key = []byte(siteKey) // writeKey in the body
		}
		if len(key) == 0 {
			return nil, nil, &httpError{status: fasthttp.StatusUnauthorized, msg: "missing write key: send the site's write key as the Basic auth user name"}
		}
		if site := s.siteByWriteKey(key); site != nil {
			return site, key, nil
		}
		return nil, nil, &httpError{status: fasthttp.StatusUnauthorized, msg: "invalid write key"}
	case routePostHog:
		if siteKey == "" {
			return nil, nil, &httpError{status: fasthttp.StatusUnauthorized, msg: "missing api_key: send the project key the site is configured with"}
		}
		if site := s.siteByWriteKey([]byte(siteKey)); site != nil {
			return site, []byte(siteKey), nil
		}
		if site := s.compatSites.posthog[siteKey]; site != nil {
			return site, nil, nil
		}
		return nil, nil, &httpError{status: fasthttp.StatusUnauthorized, msg: "unknown api_key: no site has it among its write_keys or posthog_keys"}
	case routePlausible:
		for d := range strings.SplitSeq(siteKey, ",") {
			if site := s.compatSites.domains[plausibleDomain(d)]; site != nil {
				return site, nil, nil
			}
		}
		if siteKey == "" {
			return nil, nil, errStatus(fasthttp.StatusBadRequest, "missing d (domain)")
		}
		return nil, nil, errStatus(fasthttp.StatusNotFound, "no site has the domain %q", truncate(siteKey, 64))
	case routeUmami:
		if site := s.compatSites.umami[siteKey]; site != nil {
			return site, nil, nil
		}
		if siteKey == "" {
			return nil, nil, errStatus(fasthttp.StatusBadRequest, "missing payload.website")
		}
		return nil, nil, errStatus(fasthttp.StatusNotFound, "no site has the Umami website id %q", truncate(siteKey, 64))
	}
	panic("BUG: unknown compatibility API " + api)
}

// siteByWriteKey returns the site key is a write key of, comparing in
// constant time with every site's keys; nil when none.
func (s *Server) siteByWriteKey(key []byte) *Site {
	var found *Site
	for _, site := range s.cfg.Sites {
		if s.writeKeys.check(site.ID, key) && found == nil {
			found = s.sites[site.ID]
		}
	}
	return found
}

// compatAnswer answers an accepted request in the provider's form: Segment
// {"success":true,…}, PostHog {"status":1,…} (both 200, with our accepted
// and rejected counts, rejections by message index), Plausible 202 "ok",
// Umami 200 "ok". A request of one message that was refused (none of its
// events stored) answers 400 with the reason.
func (s *Server) compatAnswer(ctx *fasthttp.RequestCtx, api string, st *ingestState, cs *compatState) error {
	b := &cs.b
	rej := append(cs.rej[:0], b.Rejected...)
	for _, r := range st.rejected {
		rej = append(rej, compat.Rejection{Index: b.Src[r.index], Err: r.err.Error()})
	}
	slices.SortStableFunc(rej, func(x, y compat.Rejection) int { return x.Index - y.Index })
	cs.rej = rej
	if b.Messages == 1 && len(rej) > 0 && st.accepted == 0 {
		return errStatus(fasthttp.StatusBadRequest, "%s", rej[0].Err)
	}
	ctx.Response.ResetBody()
	switch api {
	case routePlausible, routeUmami:
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetStatusCode(fasthttp.StatusOK)
		if api == routePlausible {
			ctx.SetStatusCode(fasthttp.StatusAccepted)
		}
		ctx.SetBodyString("ok")
		return nil
	}
	out := st.out[:0]
	if api == routeSegment {
		out = append(out, `{"success":true`...)
	} else {
		out = append(out, `{"status":1`...)
	}
	out = append(out, `,"accepted":`...)
	out = strconv.AppendInt(out, int64(st.accepted), 10)
	if st.dropped > 0 {
		out = append(out, `,"dropped":`...)
		out = strconv.AppendInt(out, int64(st.dropped), 10)
	}
	if b.Ignored > 0 {
		out = append(out, `,"ignored":`...)
		out = strconv.AppendInt(out, int64(b.Ignored), 10)
	}
	out = append(out, `,"rejected":[`...)
	for i, r := range rej {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"index":`...)
		out = strconv.AppendInt(out, int64(r.Index), 10)
		out = append(out, `,"error":`...)
		out = event.AppendJSONString(out, r.Err)
		out = append(out, '}')
	}
	out = append(out, ']', '}', '\n')
	st.out = out
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.SetBody(out)
	return nil
}

// compatPreflight answers OPTIONS as for /v1/events, allowing also the
// header Umami's script sends.
func (s *Server) compatPreflight(ctx *fasthttp.RequestCtx) error {
	if err := s.preflight(ctx); err != nil {
		return err
	}
	ctx.Response.Header.Set(fasthttp.HeaderAccessControlAllowHeaders, "Content-Type, Content-Encoding, Authorization, X-Umami-Cache")
	return nil
}

// compatContentType accepts what the providers' clients send: JSON,
// text/plain (Plausible's, posthog-js's beacons), none, and
// application/x-www-form-urlencoded or octet-stream that some HTTP
// libraries put on a raw (gzipped) body; the body must be JSON whatever
// the header says.
func compatContentType(ct []byte) bool {
	if ingestContentType(ct) {
		return true
	}
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	return bytes.EqualFold(ct, []byte("application/x-www-form-urlencoded")) || bytes.EqualFold(ct, []byte("application/octet-stream"))
}

// basicUser returns the user name of an "Authorization: Basic …" header,
// or nil.
func basicUser(ctx *fasthttp.RequestCtx) []byte {
	h := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	const prefix = "Basic "
	if len(h) <= len(prefix) || !bytes.EqualFold(h[:len(prefix)], []byte(prefix)) {
		return nil
	}
	dec, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(h[len(prefix):])))
	if err != nil {
		return nil
	}
	user, _, _ := bytes.Cut(dec, []byte(":"))
	return user
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// validateCompat checks the sites' Plausible domains, Umami website ids
// and PostHog keys: each names one site.
func (c Config) validateCompat() error {
	owner := map[string]string{}
	claim := func(kind, v, site string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("site %q: empty %s", site, kind)
		}
		k := kind + "\x00" + v
		if o, ok := owner[k]; ok && o != site {
			return fmt.Errorf("%s %q belongs to both site %q and site %q", kind, v, o, site)
		}
		owner[k] = site
		return nil
	}
	on := map[string]bool{routeSegment: c.Compat.Segment, routePostHog: c.Compat.PostHog,
		routePlausible: c.Compat.Plausible, routeUmami: c.Compat.Umami}
	for path, api := range compatPaths {
		for _, own := range [...][2]string{{"ingest_path", c.IngestPath}, {"snippet_path", c.SnippetPath}} {
			if on[api] && own[1] == path {
				return fmt.Errorf("%s %q is also the path of the %s API (compat.%s): choose another", own[0], path, api, api)
			}
		}
	}
	for _, s := range c.Sites {
		for _, d := range s.Domains {
			if err := claim("domain", plausibleDomain(d), s.ID); err != nil {
				return err
			}
		}
		for _, w := range s.UmamiWebsites {
			if err := claim("umami website", w, s.ID); err != nil {
				return err
			}
		}
		for _, k := range s.PostHogKeys {
			if err := claim("posthog key", k, s.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
