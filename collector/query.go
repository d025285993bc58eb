package collector

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// maxUserTouchpoints bounds a user's merged trail in one answer.
const maxUserTouchpoints = 50_000

// query routes /v1/sites/{site}/…: the closed query API (queryRoutes).
// The token is checked first, then the site; an unknown path is 404 and a
// known one with the wrong method 405 with Allow. Reads run under the
// query deadline; erasing does not (it must not stop half-way).
func (s *Server) query(ctx *fasthttp.RequestCtx) error {
	seg, err := pathSegments(ctx, "/v1/sites/")
	if err != nil {
		return err
	}
	if len(seg) < 2 || seg[0] == "" {
		return errNotFound
	}
	site, rest := seg[0], seg[1:]
	r, allow := matchQuery(rest, string(ctx.Method()))
	scope := ScopeRead
	if r != nil {
		scope = r.scope
	}
	if _, err := s.authorize(ctx, site, scope); err != nil {
		return err
	}
	if s.sites[site] == nil {
		return errStatus(fasthttp.StatusNotFound, "unknown site %q", site)
	}
	if r == nil {
		if allow == nil {
			return errNotFound
		}
		return &errAllow{allow}
	}
	if r.method == "DELETE" {
		return r.h(s, ctx, ctx, site, rest)
	}
	qc, done := s.queryContext(ctx)
	defer done()
	return s.queryError(qc, r.h(s, qc, ctx, site, rest))
}

// rangeArgs reads from, to, limit and cursor.
func rangeArgs(ctx *fasthttp.RequestCtx) (from, to time.Time, limit int, cursor string, err error) {
	args := ctx.QueryArgs()
	if from, err = parseTimeArg("from", args.Peek("from")); err != nil {
		return
	}
	if to, err = parseTimeArg("to", args.Peek("to")); err != nil {
		return
	}
	if l := args.Peek("limit"); len(l) > 0 {
		n, perr := strconv.Atoi(string(l))
		if perr != nil || n < 1 || n > store.MaxLimit {
			err = errStatus(fasthttp.StatusBadRequest, "limit: want 1..%d", store.MaxLimit)
			return
		}
		limit = n
	}
	cursor = string(args.Peek("cursor"))
	return
}

// parseTimeArg accepts RFC 3339, a date (YYYY-MM-DD, UTC midnight) or Unix
// milliseconds.
func parseTimeArg(name string, v []byte) (time.Time, error) {
	if len(v) == 0 {
		return time.Time{}, nil
	}
	s := string(v)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, errStatus(fasthttp.StatusBadRequest, "%s: want RFC 3339, YYYY-MM-DD or Unix milliseconds", name)
}

func parseVisitorArg(v string) (event.VisitorID, error) {
	id, err := event.ParseVisitor(v)
	if err != nil {
		return id, errStatus(fasthttp.StatusBadRequest, "visitor: %v", err)
	}
	return id, nil
}

func (s *Server) visitorTrail(qc context.Context, ctx *fasthttp.RequestCtx, site, visitor string) error {
	v, err := parseVisitorArg(visitor)
	if err != nil {
		return err
	}
	from, to, limit, cursor, err := rangeArgs(ctx)
	if err != nil {
		return err
	}
	buf := getJSONBuf(128 + touchpointJSONSize*min(max(limit, 1), 4*trailChunk))
	defer putJSONBuf(buf)
	b := append(*buf, `{"site":`...)
	b = event.AppendJSONString(b, site)
	b = append(b, `,"visitor":"`...)
	b = v.AppendHex(b)
	b = append(b, `","touchpoints":[`...)
	first := true
	next, n, err := readTrail(qc, s.reads, site, v, store.TrailQuery{From: from, To: to, Limit: limit, Cursor: cursor}, func(tps []event.Touchpoint) {
		for i := range tps {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendTouchpoint(b, &tps[i], site, v)
		}
	})
	*buf = b // grown or not, the buffer goes back to the pool
	if err != nil {
		return err
	}
	if n == 0 && cursor == "" {
		if err := s.mustKnowVisitor(qc, site, v); err != nil {
			return err // an unknown visitor is 404; a known one with nothing in range, an empty page
		}
	}
	b = append(b, `],"next":`...)
	b = event.AppendJSONString(b, next)
	b = append(b, '}', '\n')
	*buf = b
	writeJSONBytes(ctx, b)
	return nil
}

// touchpointJSONSize is about what one touchpoint takes in JSON (560 bytes
// on the benchmark's shop traffic): answers are pre-sized with it.
const touchpointJSONSize = 600

func appendTouchpoints(b []byte, tps []event.Touchpoint, site string, v event.VisitorID) []byte {
	b = append(b, '[')
	for i := range tps {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTouchpoint(b, &tps[i], site, v)
	}
	return append(b, ']')
}

// appendTouchpoint appends tp's JSON, filling in the site and visitor that
// a store read may leave out.
func appendTouchpoint(b []byte, tp *event.Touchpoint, site string, v event.VisitorID) []byte {
	if tp.Site == "" {
		tp.Site = site
	}
	if tp.Visitor.IsZero() {
		tp.Visitor = v
	}
	return event.AppendJSON(b, tp)
}

// mustKnowVisitor returns a 404 error when the visitor has no touchpoint.
func (s *Server) mustKnowVisitor(ctx context.Context, site string, v event.VisitorID) error {
	return knowVisitor(ctx, s.reads.Trail, site, v)
}

func knowVisitor(ctx context.Context, trail func(context.Context, string, event.VisitorID, store.TrailQuery) (store.TrailPage, error), site string, v event.VisitorID) error {
	page, err := trail(ctx, site, v, store.TrailQuery{Limit: 1})
	if err != nil {
		return err
	}
	if len(page.Touchpoints) == 0 {
		return errStatus(fasthttp.StatusNotFound, "no touchpoints for visitor %s", v)
	}
	return nil
}

// UserTrail reads every visitor stitched to user and merges their trails in
// trail order. It is what GET …/users/{u}/trail answers, and the journey
// endpoints build on it.
func (s *Server) UserTrail(ctx context.Context, site, user string) (visitors []event.VisitorID, trail []event.Touchpoint, truncated bool, err error) {
	visitors, err = s.reads.UserVisitors(ctx, site, user)
	if err != nil {
		return nil, nil, false, err
	}
	trails := make([][]event.Touchpoint, 0, len(visitors))
	n := 0
	for _, v := range visitors {
		var vt []event.Touchpoint
		q := store.TrailQuery{Limit: store.MaxLimit}
		for {
			page, err := s.reads.Trail(ctx, site, v, q)
			if err != nil {
				return nil, nil, false, err
			}
			for i := range page.Touchpoints {
				page.Touchpoints[i].Site, page.Touchpoints[i].Visitor = site, v
			}
			vt = append(vt, page.Touchpoints...)
			if page.Next == "" {
				break
			}
			if n+len(vt) >= maxUserTouchpoints {
				truncated = true
				break
			}
			q.Cursor = page.Next
		}
		trails = append(trails, vt)
		n += len(vt)
	}
	// In a cluster the visitors' trails come from their own stores; merged
	// here as on one node.
	trail = journey.Merge(trails...)
	if len(trail) > maxUserTouchpoints {
		trail, truncated = trail[:maxUserTouchpoints], true
	}
	return visitors, trail, truncated, nil
}

func (s *Server) userTrail(qc context.Context, ctx *fasthttp.RequestCtx, site, user string) error {
	release, err := s.scanSlot()
	if err != nil {
		return err
	}
	defer release()
	visitors, trail, truncated, err := s.UserTrail(qc, site, user)
	if err != nil {
		return err
	}
	if len(visitors) == 0 {
		return errStatus(fasthttp.StatusNotFound, "no visitor identified as %q", user)
	}
	buf := getJSONBuf(256 + 40*len(visitors) + touchpointJSONSize*len(trail))
	defer putJSONBuf(buf)
	b := append(*buf, `{"site":`...)
	b = event.AppendJSONString(b, site)
	b = append(b, `,"user":`...)
	b = event.AppendJSONString(b, user)
	b = append(b, `,"visitors":[`...)
	for i, v := range visitors {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = v.AppendHex(b)
		b = append(b, '"')
	}
	b = append(b, `],"touchpoints":`...)
	b = appendTouchpoints(b, trail, site, event.VisitorID{})
	b = append(b, `,"truncated":`...)
	b = strconv.AppendBool(b, truncated)
	b = append(b, '}', '\n')
	*buf = b
	writeJSONBytes(ctx, b)
	return nil
}

type visitorJSON struct {
	Visitor  string    `json:"visitor"`
	Day      string    `json:"day"`
	LastSeen time.Time `json:"last_seen"`
	Count    uint32    `json:"count"`
}

func (s *Server) visitors(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	page, missing, err := s.visitorsPage(qc, ctx, site)
	if err != nil {
		return err
	}
	out := struct {
		Site     string        `json:"site"`
		Visitors []visitorJSON `json:"visitors"`
		Next     string        `json:"next"`
	}{Site: site, Visitors: make([]visitorJSON, 0, len(page.Visitors)), Next: page.Next}
	for _, v := range page.Visitors {
		out.Visitors = append(out.Visitors, visitorJSON{
			Visitor: v.Visitor.String(), Day: v.Day.Format(time.DateOnly), LastSeen: v.LastSeen.UTC(), Count: v.Count,
		})
	}
	return writeSiteJSON(ctx, out, missing)
}

func (s *Server) eraseVisitor(ctx *fasthttp.RequestCtx, site, visitor string) error {
	v, err := parseVisitorArg(visitor)
	if err != nil {
		return err
	}
	trail := s.store.Trail
	if s.eraser != nil { // the stores owning the visitor, not this node's own
		trail = s.eraser.Trail
	}
	known := knowVisitor(ctx, trail, site, v)
	var he *httpError
	if known != nil && !errors.As(known, &he) {
		return known
	}
	// An unknown visitor is erased all the same: the tombstone refuses the
	// events dated before now that may still arrive. The answer says that
	// nothing was stored for it.
	if s.eraser != nil {
		rep, err := s.eraser.EraseVisitorReport(ctx, site, v)
		if err != nil {
			return err
		}
		if known != nil {
			return known
		}
		s.log.Info("visitor erased across stores", "site", site, "visitor", v.String(), "partial", rep.Partial, "stream_deleted", rep.StreamDeleted)
		return writeJSON(ctx, eraseStatus(rep), struct {
			Erased string `json:"erased"`
			eraseAcross
		}{v.String(), newEraseAcross(rep)})
	}
	if err := s.store.EraseVisitor(ctx, site, v); err != nil {
		return err
	}
	if known != nil {
		return known
	}
	s.log.Info("visitor erased", "site", site, "visitor", v.String())
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Erased string `json:"erased"`
	}{v.String()})
}

// Eraser erases across stores and replicas and says where the erasure was
// applied: a cluster node's cluster.Router (Deps.Eraser).
type Eraser interface {
	// Trail reads from a store owning the visitor (to answer 404 for an
	// unknown one).
	Trail(ctx context.Context, site string, v event.VisitorID, q store.TrailQuery) (store.TrailPage, error)
	EraseVisitorReport(ctx context.Context, site string, v event.VisitorID) (cluster.EraseReport, error)
	EraseUserReport(ctx context.Context, site, user string) (cluster.EraseReport, error)
}

// eraseAcross is what an erasure through a query node adds to the answer:
// the partitions it went to, the stores that applied it and those that
// have not yet (partial: they apply it when they come back and replay the
// stream), and the messages deleted from the stream.
type eraseAcross struct {
	Partial       bool                     `json:"partial"`
	Partitions    []cluster.PartitionErase `json:"partitions"`
	StreamDeleted int                      `json:"stream_deleted"`
}

func newEraseAcross(rep cluster.EraseReport) eraseAcross {
	return eraseAcross{Partial: rep.Partial, Partitions: rep.Partitions, StreamDeleted: rep.StreamDeleted}
}

// eraseStatus is 200 once every live owner applied the erasure, else 202:
// it is in the stream, and the stores missing apply it on their return.
func eraseStatus(rep cluster.EraseReport) int {
	if rep.Partial {
		return fasthttp.StatusAccepted
	}
	return fasthttp.StatusOK
}

// eraseUser erases every visitor stitched to a user (see the store's
// EraseUser); an unknown user erases nothing and answers 404.
func (s *Server) eraseUser(ctx *fasthttp.RequestCtx, site, user string) error {
	if s.eraser != nil {
		rep, err := s.eraser.EraseUserReport(ctx, site, user)
		if err != nil {
			return err
		}
		if len(rep.Visitors) == 0 {
			return errStatus(fasthttp.StatusNotFound, "no visitor of user %q", user)
		}
		s.log.Info("user erased across stores", "site", site, "visitors", len(rep.Visitors), "partial", rep.Partial, "stream_deleted", rep.StreamDeleted)
		return writeJSON(ctx, eraseStatus(rep), struct {
			ErasedUser string   `json:"erased_user"`
			Erased     []string `json:"erased"`
			eraseAcross
		}{user, visitorStrings(rep.Visitors), newEraseAcross(rep)})
	}
	vs, err := s.store.EraseUser(ctx, site, user)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return errStatus(fasthttp.StatusNotFound, "no visitor of user %q", user)
	}
	s.log.Info("user erased", "site", site, "visitors", len(vs))
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		ErasedUser string   `json:"erased_user"`
		Erased     []string `json:"erased"`
	}{user, visitorStrings(vs)})
}

func visitorStrings(vs []event.VisitorID) []string {
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = v.String()
	}
	return ids
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx.SetStatusCode(status)
	writeJSONBytes(ctx, append(b, '\n'))
	return nil
}
