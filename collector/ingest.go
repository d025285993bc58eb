package collector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// ingestState is the per-request scratch of the ingest path, pooled so a
// request allocates next to nothing.
type ingestState struct {
	dec      event.Decoder
	batch    event.Batch
	recs     []store.Record
	slab     []byte
	body     bytes.Buffer // the body gunzipped
	gz       *gzip.Reader
	rejected []rejection
	out      []byte
}

type rejection struct {
	index int
	err   error
}

var ingestPool = sync.Pool{New: func() any { return new(ingestState) }}

// rawPool holds the buffers bodies are read into (apart from the parse
// state, which only the decode slots use).
var rawPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getRawBuf() *bytes.Buffer { return rawPool.Get().(*bytes.Buffer) }

func putRawBuf(b *bytes.Buffer) {
	if b.Cap() > 1<<20 { // do not pool what one big body grew
		return
	}
	b.Reset()
	rawPool.Put(b)
}

func getIngestState() *ingestState { return ingestPool.Get().(*ingestState) }

func putIngestState(st *ingestState) {
	st.batch.Reset()
	clear(st.recs)
	st.recs = st.recs[:0]
	st.slab = st.slab[:0]
	st.body.Reset()
	st.rejected = st.rejected[:0]
	st.out = st.out[:0]
	ingestPool.Put(st)
}

// TrustedIPHeader carries the client IP a write-key holder acts for.
const TrustedIPHeader = "X-Touchtrail-Client-IP"

// ingest answers POST /v1/events: admission on the headers, then the body.
func (s *Server) ingest(ctx *fasthttp.RequestCtx) error {
	ip := s.clientIP(ctx)
	trusted := s.writeKeys.any(bearer(ctx))
	n, err := s.admit(ctx, ip, trusted)
	if err != nil {
		if err == errOverloaded && s.cfg.RefusalDelay > 0 {
			s.holdRefusal()
		}
		s.drainBody(ctx)
		return err
	}
	s.metrics.inflight.Add(float64(n))
	defer func() {
		s.admitted.release(n)
		s.metrics.inflight.Sub(float64(n))
	}()
	rb := getRawBuf()
	defer putRawBuf(rb)
	raw, err := s.readStream(ctx, rb)
	if err != nil {
		return err
	}
	recs, accepted, release, err := s.decode(ctx, raw, ip)
	defer release()
	if err != nil {
		return err
	}
	return s.submit(recs, accepted)
}

// decode turns a read body into records within one of the decode slots:
// only so many bodies are parsed at once (a parsed batch takes several
// times its bytes), and the parse state goes back to its pool before the
// wait for the commit. release gives back what decode reserved.
func (s *Server) decode(ctx *fasthttp.RequestCtx, raw []byte, ip netip.Addr) (recs []store.Record, accepted int, release func(), err error) {
	release = func() {}
	s.decodeSlots <- struct{}{}
	st := getIngestState()
	defer func() {
		putIngestState(st)
		<-s.decodeSlots
	}()
	body, err := s.inflate(ctx, st, raw)
	if err != nil {
		return nil, 0, release, err
	}
	if len(body) > len(raw) { // gunzipped: its bytes count too
		extra := int64(len(body))
		if !s.admitted.acquire(extra) {
			return nil, 0, release, errOverloaded
		}
		s.metrics.inflight.Add(float64(extra))
		release = func() {
			s.admitted.release(extra)
			s.metrics.inflight.Sub(float64(extra))
		}
	}
	recs, accepted, err = s.accept(ctx, st, body, ip)
	return recs, accepted, release, err
}

// pixel answers GET /v1/p.gif?site=…&type=…&visitor=…: the query becomes a
// one-event batch and takes the same path as POST /v1/events. A hit without
// an id gets one made from what it says (pixelID), so a reload within the
// same second is stored once and no hit is lost for want of an id. A hit
// that cannot be stored still gets the GIF (a browser shows a broken image
// otherwise, and cannot retry anyway); it is counted by reason.
func (s *Server) pixel(ctx *fasthttp.RequestCtx) error {
	if !ctx.IsGet() {
		return errMethod
	}
	ip := s.clientIP(ctx)
	st := getIngestState()
	defer putIngestState(st)
	args := ctx.QueryArgs()
	b := append(st.out[:0], '{')
	for k, v := range args.All() {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = event.AppendJSONString(b, string(k))
		b = append(b, ':')
		if string(k) == "cookieless" {
			b = strconv.AppendBool(b, string(v) == "1" || string(v) == "true")
			continue
		}
		b = event.AppendJSONString(b, string(v))
	}
	if !args.Has("id") {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, `"id":"`...)
		b = s.pixelID(b, ctx)
		b = append(b, '"')
	}
	b = append(b, '}')
	st.out = b[:0]
	reason := ""
	var err error
	if ok, _ := s.limiter.allow(ip, s.now()); !ok {
		err = &httpError{status: fasthttp.StatusTooManyRequests, msg: "rate limit exceeded"}
	} else if s.draining.Load() {
		err = errOverloaded
	} else {
		var recs []store.Record
		var n int
		if recs, n, err = s.accept(ctx, st, b, ip); err == nil {
			err = s.submit(recs, n)
		}
	}
	if err != nil {
		status, _, _ := s.mapError(err)
		reason = refusalReason(status)
	} else if len(st.rejected) > 0 {
		reason = "invalid"
	}
	if reason != "" {
		s.metrics.pixelRefused.WithLabelValues(reason).Inc()
	}
	ctx.Response.Reset()
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("image/gif")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	ctx.SetBody(transparentGIF)
	return nil
}

// pixelID appends the id of a pixel hit that has none: 32 hex characters of
// SHA-256 over its site, visitor, type and URL and the current second. A
// hit without a visitor (cookieless) adds the client address and user agent,
// which only ever enter this hash.
func (s *Server) pixelID(dst []byte, ctx *fasthttp.RequestCtx) []byte {
	h := sha256.New()
	args := ctx.QueryArgs()
	for _, k := range []string{"site", "visitor", "type", "url", "name"} {
		h.Write(args.Peek(k))
		h.Write([]byte{0})
	}
	if !args.Has("visitor") {
		ip := s.clientIP(ctx)
		h.Write(ip.AsSlice())
		h.Write(ctx.Request.Header.UserAgent())
	}
	var sec [8]byte
	binary.BigEndian.PutUint64(sec[:], uint64(s.now().Unix()))
	h.Write(sec[:])
	var sum [sha256.Size]byte
	return hex.AppendEncode(dst, h.Sum(sum[:0])[:16])
}

// refusalReason names the reason of a refused ingest request for metrics.
func refusalReason(status int) string {
	switch status {
	case fasthttp.StatusBadRequest, fasthttp.StatusRequestEntityTooLarge, fasthttp.StatusUnsupportedMediaType:
		return "invalid"
	case fasthttp.StatusNotFound:
		return "unknown_site"
	case fasthttp.StatusUnauthorized:
		return "auth"
	case fasthttp.StatusForbidden:
		return "origin"
	case fasthttp.StatusTooManyRequests:
		return "rate"
	case fasthttp.StatusServiceUnavailable:
		return "overload"
	case fasthttp.StatusInsufficientStorage:
		return "disk"
	}
	return "error"
}

var transparentGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// inflate returns the request body, gunzipped within bounds (4 ×
// MaxBodyBytes).
func (s *Server) inflate(ctx *fasthttp.RequestCtx, st *ingestState, body []byte) ([]byte, error) {
	enc := ctx.Request.Header.ContentEncoding()
	switch {
	case len(enc) == 0 || string(enc) == "identity":
		return body, nil
	case string(enc) == "gzip":
	default:
		return nil, errStatus(fasthttp.StatusUnsupportedMediaType, "content encoding %q not supported (use gzip)", enc)
	}
	r := bytes.NewReader(body)
	var err error
	if st.gz == nil {
		st.gz, err = gzip.NewReader(r)
	} else {
		err = st.gz.Reset(r)
	}
	if err != nil {
		return nil, errStatus(fasthttp.StatusBadRequest, "bad gzip body: %v", err)
	}
	limit := int64(4 * s.cfg.MaxBodyBytes)
	n, err := st.body.ReadFrom(io.LimitReader(st.gz, limit+1))
	if err != nil {
		return nil, errStatus(fasthttp.StatusBadRequest, "bad gzip body: %v", err)
	}
	if n > limit {
		return nil, errStatus(fasthttp.StatusRequestEntityTooLarge, "gzip body inflates past %d bytes", limit)
	}
	return st.body.Bytes(), nil
}

// accept decodes, checks, enriches and stores one batch and answers 202.
// The caller has admitted it (rate limit, capacity).
//
// It answers 202 in ctx and returns the records to submit (see submit):
// the caller gives st back before it waits for the commit. An error means
// a refusal of the whole batch.
func (s *Server) accept(ctx *fasthttp.RequestCtx, st *ingestState, body []byte, ip netip.Addr) ([]store.Record, int, error) {
	st.dec.MaxEvents = s.cfg.MaxEvents
	if err := st.dec.Decode(body, &st.batch); err != nil {
		if errors.Is(err, event.ErrTooManyEvents) {
			return nil, 0, errStatus(fasthttp.StatusRequestEntityTooLarge, "%v", err)
		}
		return nil, 0, errStatus(fasthttp.StatusBadRequest, "%v", err)
	}
	b := &st.batch
	site := s.sites[b.Site]
	if site == nil {
		if b.Site == "" {
			return nil, 0, errStatus(fasthttp.StatusBadRequest, "missing site")
		}
		return nil, 0, errStatus(fasthttp.StatusNotFound, "unknown site %q", b.Site)
	}
	trusted := false
	if key := bearer(ctx); len(key) > 0 {
		if !s.writeKeys.check(site.ID, key) {
			return nil, 0, errStatus(fasthttp.StatusUnauthorized, "invalid write key for site %q", site.ID)
		}
		trusted = true
		if h := ctx.Request.Header.Peek(TrustedIPHeader); len(h) > 0 {
			if a, err := netip.ParseAddr(string(h)); err == nil {
				ip = a.Unmap()
			}
		}
	}
	origin := ctx.Request.Header.Peek(fasthttp.HeaderOrigin)
	if !trusted {
		if !s.originAllowed(site, origin) {
			return nil, 0, errStatus(fasthttp.StatusForbidden, "origin %q may not send events for site %q", origin, site.ID)
		}
	}
	setCORS(ctx, origin)
	s.metrics.batchSize.Observe(float64(len(b.Events)))
	if !trusted && s.cfg.RespectDNT && (string(ctx.Request.Header.Peek("DNT")) == "1" || string(ctx.Request.Header.Peek("Sec-GPC")) == "1") {
		s.metrics.events.WithLabelValues(reasonDNT).Add(float64(len(b.Events)))
		s.metrics.refused.WithLabelValues(reasonDNT).Inc()
		return nil, 0, s.answer(ctx, st, 0, len(b.Events))
	}

	now := s.now()
	nowMicros := now.UnixMicro()
	ua := string(ctx.Request.Header.UserAgent()) // once per request, not per event
	accepted, dropped := 0, 0
	for i := range b.Events {
		tp := &b.Events[i]
		err := b.Errs[i]
		if err == nil {
			err = s.prepare(tp, b, site, trusted, ip, ua, now)
		}
		if err == nil {
			if trusted {
				tp.DeriveTimeTrusted(nowMicros)
			} else {
				tp.DeriveTime(nowMicros)
			}
			err = tp.Validate(s.cfg.Limits, nowMicros)
		}
		if err == nil && s.enricher != nil {
			if err = s.enricher.Enrich(tp); errors.Is(err, enrich.ErrBot) {
				dropped++
				continue
			}
		}
		// The IP is never kept, whatever happened above.
		tp.ClientIP, tp.UserAgent = netip.Addr{}, ""
		if err != nil {
			st.rejected = append(st.rejected, rejection{index: i, err: err})
			continue
		}
		st.recs = append(st.recs, store.NewRecord(tp, &st.slab))
		accepted++
	}
	s.countOutcomes(st, dropped)
	recs := st.recs
	if len(recs) > 0 {
		// The writer keeps the records (async durability): give up our
		// claim on their memory instead of reusing it.
		st.recs, st.slab = nil, nil
	}
	return recs, accepted, s.answer(ctx, st, accepted, dropped)
}

// submit hands an accepted batch's records to the writer and counts them:
// accepted once stored (sync) or queued (async), under the refusal's
// reason otherwise.
func (s *Server) submit(recs []store.Record, accepted int) error {
	if len(recs) == 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	err := s.writer.Submit(wctx, recs)
	cancel()
	if err != nil {
		status, _, _ := s.mapError(err)
		reason := refusalReason(status)
		if errors.Is(err, context.DeadlineExceeded) {
			// Queued, not yet durable: the group commit goes on, and a
			// retry is stored once. Not accepted: the client was not
			// told so.
			reason = reasonOverload
		}
		s.metrics.events.WithLabelValues(reason).Add(float64(accepted))
		return fmt.Errorf("submit %d events: %w", accepted, err)
	}
	s.metrics.events.WithLabelValues("accepted").Add(float64(accepted))
	return nil
}

// prepare applies the request's context to one decoded event: its site,
// the client IP and user agent for enrichment, trust rules and, in
// cookieless mode, the derived visitor id.
func (s *Server) prepare(tp *event.Touchpoint, b *event.Batch, site *Site, trusted bool, ip netip.Addr, ua string, now time.Time) error {
	if tp.Site != site.ID {
		return errors.New("site: differs from the batch's site")
	}
	if err := checkIdentity(tp, site, trusted); err != nil {
		return err
	}
	if !trusted {
		// Only write-key holders may speak for another client or set a
		// user id outside identify.
		tp.ClientIP = ip
		tp.UserAgent = ua
		if tp.Type != event.TypeIdentify {
			tp.User = ""
		}
	} else {
		if !tp.ClientIP.IsValid() {
			tp.ClientIP = ip
		}
		// A backend's own user agent says nothing about the visitor: only
		// a "ua" field it sends on the visitor's behalf is used.
	}
	if b.Cookieless && tp.Visitor.IsZero() {
		if s.salts == nil {
			return errors.New("visitor: cookieless mode is not enabled on this collector")
		}
		v, err := s.salts.Visitor(now, site.ID, tp.ClientIP, tp.UserAgent)
		if err != nil {
			return fmt.Errorf("visitor: %w", err)
		}
		tp.Visitor = v
	}
	return nil
}

// countOutcomes counts the events refused one by one; accepted ones are
// counted once the writer has taken them.
func (s *Server) countOutcomes(st *ingestState, dropped int) {
	if dropped > 0 {
		s.metrics.events.WithLabelValues("bot").Add(float64(dropped))
	}
	if len(st.rejected) > 0 {
		s.metrics.events.WithLabelValues("rejected").Add(float64(len(st.rejected)))
		for _, r := range st.rejected {
			field := "event"
			var ve *event.ValidationError
			if errors.As(r.err, &ve) {
				field, _, _ = strings.Cut(ve.Field, ".") // props.<key> → props: bounded labels
			}
			s.metrics.rejected.WithLabelValues(field).Inc()
		}
	}
}

// answer writes 202 {"accepted":n,"rejected":[{"index":i,"error":"…"}],"dropped":k}.
func (s *Server) answer(ctx *fasthttp.RequestCtx, st *ingestState, accepted, dropped int) error {
	b := append(st.out[:0], `{"accepted":`...)
	b = strconv.AppendInt(b, int64(accepted), 10)
	b = append(b, `,"rejected":[`...)
	for i, r := range st.rejected {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(r.index), 10)
		b = append(b, `,"error":`...)
		b = event.AppendJSONString(b, r.err.Error())
		b = append(b, '}')
	}
	b = append(b, ']')
	if dropped > 0 {
		b = append(b, `,"dropped":`...)
		b = strconv.AppendInt(b, int64(dropped), 10)
	}
	b = append(b, '}', '\n')
	st.out = b
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
	return nil
}
