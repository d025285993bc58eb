package collector

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Hook is a help desk's webhook into a site's trails:
// POST /v1/sites/{site}/hooks/{name}. Each delivery becomes one ticket
// touchpoint in the trail of the visitor it names.
type Hook struct {
	// Name is the last segment of the hook's URL: [A-Za-z0-9_.-]{1,64}.
	Name string `json:"name"`
	// Preset is zendesk, freshdesk, liveagent or generic (the default): the
	// mapping of the help desk's payloads and its authentication.
	Preset string `json:"preset,omitempty"`
	// Secret authenticates deliveries (at least 16 characters): the HMAC
	// key where the help desk signs, else a token it sends.
	Secret string `json:"secret"`
	// Auth overrides the preset's scheme: token, hmac or zendesk.
	Auth string `json:"auth,omitempty"`
	// SignatureHeader names the header of an hmac signature. Default:
	// X-Signature.
	SignatureHeader string `json:"signature_header,omitempty"`
	// Mapping overrides the preset's mapping field by field.
	Mapping Mapping `json:"mapping,omitempty"`
}

// hook is a configured Hook, ready to serve.
type hook struct {
	name    string
	auth    string
	header  string
	secret  []byte
	mapping Mapping
}

// newHook checks h and merges its preset.
func newHook(h Hook) (*hook, error) {
	if !store.ValidSite(h.Name) {
		return nil, fmt.Errorf("hook name %q: want 1 to 64 of A-Z a-z 0-9 _ . -", h.Name)
	}
	name := h.Preset
	if name == "" {
		name = "generic"
	}
	p, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("hook %q: unknown preset %q (want zendesk, freshdesk, liveagent or generic)", h.Name, h.Preset)
	}
	if len(h.Secret) < 16 {
		return nil, fmt.Errorf("hook %q: the secret must be at least 16 characters", h.Name)
	}
	out := &hook{name: h.Name, auth: p.auth, header: h.SignatureHeader, secret: []byte(h.Secret), mapping: h.Mapping.merged(p.mapping)}
	if h.Auth != "" {
		out.auth = h.Auth
	}
	switch out.auth {
	case HookAuthToken, HookAuthHMAC, HookAuthZendesk:
	default:
		return nil, fmt.Errorf("hook %q: unknown auth %q (want token, hmac or zendesk)", h.Name, h.Auth)
	}
	if out.header == "" {
		out.header = "X-Signature"
	}
	if err := out.mapping.check(); err != nil {
		return nil, fmt.Errorf("hook %q: %w", h.Name, err)
	}
	return out, nil
}

var errHookAuth = &httpError{status: fasthttp.StatusUnauthorized, msg: "missing or invalid webhook signature or token"}

// authenticate checks a delivery's signature or token in constant time.
func (h *hook) authenticate(ctx *fasthttp.RequestCtx, body []byte) error {
	switch h.auth {
	case HookAuthZendesk:
		ts := ctx.Request.Header.Peek("X-Zendesk-Webhook-Signature-Timestamp")
		sig := ctx.Request.Header.Peek("X-Zendesk-Webhook-Signature")
		mac := hmac.New(sha256.New, h.secret)
		mac.Write(ts)
		mac.Write(body)
		want := base64.StdEncoding.AppendEncode(nil, mac.Sum(nil))
		if len(ts) == 0 || subtle.ConstantTimeCompare(want, sig) != 1 {
			return errHookAuth
		}
	case HookAuthHMAC:
		sig := string(ctx.Request.Header.Peek(h.header))
		sig = strings.TrimPrefix(strings.TrimSpace(sig), "sha256=")
		mac := hmac.New(sha256.New, h.secret)
		mac.Write(body)
		sum := mac.Sum(nil)
		got, err := hex.DecodeString(sig)
		if err != nil {
			got, err = base64.StdEncoding.DecodeString(sig)
		}
		if err != nil || !hmac.Equal(got, sum) {
			return errHookAuth
		}
	default: // token
		ok := 0
		for _, t := range presentedTokens(ctx) {
			// Hashes first: equal lengths, so the comparison says nothing
			// about the secret's length either.
			a, b := sha256.Sum256(t), sha256.Sum256(h.secret)
			ok |= subtle.ConstantTimeCompare(a[:], b[:])
		}
		if ok != 1 {
			return errHookAuth
		}
	}
	return nil
}

// presentedTokens are the places a help desk can put a token: a bearer
// token, Basic auth's user name and password, X-Touchtrail-Token, ?token=.
func presentedTokens(ctx *fasthttp.RequestCtx) [][]byte {
	var out [][]byte
	if b := bearer(ctx); len(b) > 0 {
		out = append(out, b)
	}
	if a := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization); len(a) > 6 && strings.EqualFold(string(a[:6]), "basic ") {
		if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(a[6:]))); err == nil {
			user, pass, _ := strings.Cut(string(dec), ":")
			out = append(out, []byte(user), []byte(pass))
		}
	}
	if t := ctx.Request.Header.Peek("X-Touchtrail-Token"); len(t) > 0 {
		out = append(out, t)
	}
	if t := ctx.QueryArgs().Peek("token"); len(t) > 0 {
		out = append(out, t)
	}
	return out
}

// Outcomes of touchtrail_hook_deliveries_total.
const (
	hookStored    = "stored"
	hookDuplicate = "duplicate"
	hookAuth      = "auth"
	hookInvalid   = "invalid"
	hookUnknown   = "unknown_visitor"
	hookFailed    = "error"
)

// routeHook answers POST /v1/sites/{site}/hooks/{name}.
func (s *Server) routeHook(ctx *fasthttp.RequestCtx) error {
	seg, err := pathSegments(ctx, "/v1/sites/")
	if err != nil {
		return err
	}
	if len(seg) != 3 || seg[1] != "hooks" {
		return errNotFound
	}
	site := s.sites[seg[0]]
	if site == nil {
		return errStatus(fasthttp.StatusNotFound, "unknown site %q", seg[0])
	}
	h := s.hooks[seg[0]][seg[2]]
	if h == nil {
		return errStatus(fasthttp.StatusNotFound, "no hook %q on site %q", seg[2], seg[0])
	}
	if !ctx.IsPost() {
		return &httpError{status: fasthttp.StatusMethodNotAllowed, msg: "use POST", allow: "POST"}
	}
	outcome, err := s.hook(ctx, site, h)
	s.metrics.hooks.WithLabelValues(h.name, outcome).Inc()
	return err
}

// hook stores one delivery and says what came of it.
func (s *Server) hook(ctx *fasthttp.RequestCtx, site *Site, h *hook) (string, error) {
	body, err := s.hookBody(ctx)
	if err != nil {
		return hookInvalid, err
	}
	if err := h.authenticate(ctx, body); err != nil {
		return hookAuth, err
	}
	if !looksLikeJSON(body) {
		return hookInvalid, errStatus(fasthttp.StatusBadRequest, "body: want a JSON object")
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return hookInvalid, errStatus(fasthttp.StatusBadRequest, "body: malformed JSON: %v", err)
	}
	now := s.now()
	m, err := h.mapping.apply(h.name, v, now.UnixMicro())
	if err != nil {
		return hookInvalid, errStatus(fasthttp.StatusUnprocessableEntity, "%v", err)
	}
	tp := &m.tp
	tp.Site = site.ID
	tp.User = m.user
	qc, done := s.queryContext(ctx)
	defer done()
	if m.visitor != "" {
		if tp.Visitor, err = event.ParseVisitor(m.visitor); err != nil {
			return hookInvalid, errStatus(fasthttp.StatusUnprocessableEntity, "visitor: %v", err)
		}
	} else {
		v, err := s.userVisitor(qc, site.ID, m.user, tp.TS)
		if err != nil {
			return hookFailed, s.queryError(qc, err)
		}
		if v.IsZero() {
			return hookUnknown, errStatus(fasthttp.StatusUnprocessableEntity,
				"user: no visitor identified as %q (the site's identify call stitches a visitor to its user)", m.user)
		}
		tp.Visitor = v
	}
	tp.DeriveTimeTrusted(now.UnixMicro())
	if err := tp.Validate(s.cfg.Limits, now.UnixMicro()); err != nil {
		return hookInvalid, errStatus(fasthttp.StatusUnprocessableEntity, "%v", err)
	}
	// One record, one commit: a delivery is stored whole or not at all.
	rec := store.NewRecord(tp, new([]byte))
	wctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.WriteTimeout))
	err = s.writer.Submit(wctx, []store.Record{rec})
	cancel()
	if err != nil {
		return hookFailed, fmt.Errorf("store hook delivery: %w", err)
	}
	s.metrics.events.WithLabelValues("accepted").Inc()
	b := append([]byte(nil), `{"accepted":1,"id":"`...)
	b = append(b, tp.ID...)
	b = append(b, `","visitor":"`...)
	b = tp.Visitor.AppendHex(b)
	b = append(b, `","ticket":`...)
	b = event.AppendJSONString(b, tp.Ticket)
	b = append(b, `,"status":"`...)
	b = append(b, tp.Status.String()...)
	b = append(b, '"', '}', '\n')
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	writeJSONBytes(ctx, b)
	return hookStored, nil
}

// hookBody reads a delivery's body within MaxBodyBytes.
func (s *Server) hookBody(ctx *fasthttp.RequestCtx) ([]byte, error) {
	if r := ctx.RequestBodyStream(); r != nil {
		b, err := io.ReadAll(io.LimitReader(r, int64(s.cfg.MaxBodyBytes)+1))
		if err != nil {
			return nil, errStatus(fasthttp.StatusBadRequest, "cannot read the body: %v", err)
		}
		if len(b) > s.cfg.MaxBodyBytes {
			return nil, errStatus(fasthttp.StatusRequestEntityTooLarge, "body larger than %d bytes", s.cfg.MaxBodyBytes)
		}
		return b, nil
	}
	b := ctx.PostBody()
	if len(b) > s.cfg.MaxBodyBytes {
		return nil, errStatus(fasthttp.StatusRequestEntityTooLarge, "body larger than %d bytes", s.cfg.MaxBodyBytes)
	}
	return b, nil
}

// userVisitor picks, of the visitors stitched to user, the one active last
// at or before ts (Unix µs): the ticket joins the trail that led to it.
// The zero id means the user has no visitor.
func (s *Server) userVisitor(ctx context.Context, site, user string, ts int64) (event.VisitorID, error) {
	vs, err := s.reads.UserVisitors(ctx, site, user)
	if err != nil || len(vs) == 0 {
		return event.VisitorID{}, err
	}
	best, bestTS := vs[0], int64(-1<<63)
	to := time.UnixMicro(ts + 1)
	for _, v := range vs {
		q := store.TrailQuery{From: to.Add(-90 * 24 * time.Hour), To: to, Limit: store.MaxLimit}
		for range 10 {
			page, err := s.reads.Trail(ctx, site, v, q)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				return event.VisitorID{}, fmt.Errorf("trail of %s: %w", v, err)
			}
			if n := len(page.Touchpoints); n > 0 && page.Touchpoints[n-1].Derived > bestTS {
				best, bestTS = v, page.Touchpoints[n-1].Derived
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
	}
	return best, nil
}

// hookRoute reports whether path is a hook's: /v1/sites/{site}/hooks/{name}.
func hookRoute(path []byte) bool {
	rest, ok := strings.CutPrefix(string(path), "/v1/sites/")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, "/")
	return ok && strings.HasPrefix(rest, "hooks/")
}
