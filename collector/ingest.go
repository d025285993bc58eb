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
	recs     *recBuf // handed to the writer, which gives it back to recPool
	memo     enrich.Memo
	raw      bytes.Buffer // the body as read
	body     bytes.Buffer // the body gunzipped
	gz       *gzip.Reader
	rejected []rejection
	out      []byte
	accepted int // as answered
	dropped  int // bots, as answered
}

type rejection struct {
	index int
	err   error
}

var ingestPool = sync.Pool{New: func() any { return new(ingestState) }}

// decodeState is the parse state of one body: a parsed 500-event batch
// takes several times its bytes, so only the decode slots hold one, and
// it goes back to its pool before the wait for the commit (the pooled
// ingestState stays with its request until the answer).
type decodeState struct {
	dec   event.Decoder
	batch event.Batch
}

var decodePool = sync.Pool{New: func() any { return new(decodeState) }}

func getIngestState() *ingestState {
	st := ingestPool.Get().(*ingestState)
	st.recs = recPool.Get().(*recBuf)
	return st
}

func putIngestState(st *ingestState) {
	if st.recs != nil { // not handed to the writer
		st.recs.Release()
		st.recs = nil
	}
	st.memo.Reset()
	st.body.Reset()
	if st.raw.Cap() > 1<<20 { // do not pool what one big body grew
		st.raw = bytes.Buffer{}
	}
	st.raw.Reset()
	st.rejected = st.rejected[:0]
	st.out = st.out[:0]
	st.accepted, st.dropped = 0, 0
	ingestPool.Put(st)
}

// recBuf is the memory of one request's records: the writer keeps it until
// their group is committed (async durability answers before), then calls
// Release, which puts it back in recPool.
type recBuf struct {
	recs []store.Record
	slab []byte // the records' values
}

var recPool = sync.Pool{New: func() any { return new(recBuf) }}

// Release implements store.Releaser.
func (b *recBuf) Release() {
	clear(b.recs)
	b.recs = b.recs[:0]
	if cap(b.slab) > 1<<20 { // do not pool what one big batch grew
		b.slab = nil
	}
	b.slab = b.slab[:0]
	recPool.Put(b)
}

// TrustedIPHeader carries the client IP a write-key holder acts for.
const TrustedIPHeader = "X-Touchtrail-Client-IP"

// ingest answers POST /v1/events: admission on the headers, then the body.
func (s *Server) ingest(ctx *fasthttp.RequestCtx) error {
	ip := s.clientIP(ctx)
	key := bearer(ctx)
	st := getIngestState()
	defer putIngestState(st)
	body, n, err := s.readAdmitted(ctx, st, ip, s.writeKeys.any(key), s.cfg.MaxBodyBytes, ingestContentType)
	defer s.release(n)
	if err != nil {
		return err
	}
	return s.accept(ctx, st, body, ip, key)
}

// readAdmitted admits an ingest request on its headers (admit: limit bounds
// its body, okType its content type), then reads the body and gunzips it.
// Whatever it returns, the caller must release the n bytes it reserved
// once done with the body.
func (s *Server) readAdmitted(ctx *fasthttp.RequestCtx, st *ingestState, ip netip.Addr, trusted bool, limit int, okType func([]byte) bool) (body []byte, n int64, err error) {
	n, err = s.admit(ctx, ip, trusted, limit, okType)
	if err != nil {
		switch {
		case s.cfg.RefusalDelay <= 0:
		case err == errOverloaded:
			s.holdRefusal(0)
		case err == errOverloadedWaited: // waited refusal_delay for room already
			s.holdRefusal(time.Duration(s.cfg.RefusalDelay))
		}
		s.drainBody(ctx, limit)
		return nil, 0, err
	}
	s.metrics.inflight.Add(float64(n))
	raw, err := s.readStream(ctx, st, limit)
	if err != nil {
		return nil, n, err
	}
	body, err = s.inflate(ctx, st, raw)
	if err != nil {
		return nil, n, err
	}
	if len(body) > len(raw) { // gunzipped: its bytes count too
		extra := int64(len(body))
		if !s.admitted.acquire(extra) {
			return nil, n, errOverloaded
		}
		s.metrics.inflight.Add(float64(extra))
		n += extra
	}
	return body, n, nil
}

// release gives back n admitted bytes.
func (s *Server) release(n int64) {
	if n > 0 {
		s.admitted.release(n)
		s.metrics.inflight.Sub(float64(n))
	}
}

// pixel answers GET /v1/p.gif?site=…&type=…&visitor=…: the query becomes a
// one-event batch and takes the same path as POST /v1/events. A hit without
// an id gets one made from what it says (pixelID), so a reload within the
// same second is stored once and no hit is lost for want of an id. A hit
// that cannot be stored still gets the GIF (a browser shows a broken image
// otherwise, and cannot retry anyway); it is counted by reason.
func (s *Server) pixel(ctx *fasthttp.RequestCtx) error {
	if !ctx.IsGet() {
		return &errAllow{[]string{"GET"}}
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
		err = s.accept(ctx, st, b, ip, nil)
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
// The caller has admitted it (rate limit, capacity). key is the write key
// the request presents (nil: none, a browser's request).
func (s *Server) accept(ctx *fasthttp.RequestCtx, st *ingestState, body []byte, ip netip.Addr, key []byte) error {
	s.decodeSlots <- struct{}{}
	ds := decodePool.Get().(*decodeState)
	decoded := func() {
		if ds != nil {
			ds.batch.Reset()
			decodePool.Put(ds)
			ds = nil
			<-s.decodeSlots
		}
	}
	defer decoded()
	ds.dec.MaxEvents = s.cfg.MaxEvents
	if err := ds.dec.Decode(body, &ds.batch); err != nil {
		if errors.Is(err, event.ErrTooManyEvents) {
			return errStatus(fasthttp.StatusRequestEntityTooLarge, "%v", err)
		}
		return errStatus(fasthttp.StatusBadRequest, "%v", err)
	}
	b := &ds.batch
	site := s.sites[b.Site]
	if site == nil {
		if b.Site == "" {
			return errStatus(fasthttp.StatusBadRequest, "missing site")
		}
		return errStatus(fasthttp.StatusNotFound, "unknown site %q", b.Site)
	}
	trusted := false
	if len(key) > 0 {
		if !s.writeKeys.check(site.ID, key) {
			return errStatus(fasthttp.StatusUnauthorized, "invalid write key for site %q", site.ID)
		}
		trusted = true
		if h := ctx.Request.Header.Peek(TrustedIPHeader); len(h) > 0 {
			if a, err := event.ParseAddrBytes(h); err == nil {
				ip = a.Unmap()
			}
		}
	}
	origin := ctx.Request.Header.Peek(fasthttp.HeaderOrigin)
	if !trusted {
		if !s.originAllowed(site, origin) {
			return errStatus(fasthttp.StatusForbidden, "origin %q may not send events for site %q", origin, site.ID)
		}
	}
	setCORS(ctx, origin)
	s.metrics.batchSize.Observe(float64(len(b.Events)))
	if !trusted && s.cfg.RespectDNT && (string(ctx.Request.Header.Peek("DNT")) == "1" || string(ctx.Request.Header.Peek("Sec-GPC")) == "1") {
		s.metrics.events.WithLabelValues(reasonDNT).Add(float64(len(b.Events)))
		s.metrics.refused.WithLabelValues(reasonDNT).Inc()
		return s.answer(ctx, st, 0, len(b.Events))
	}

	now := s.now()
	nowMicros := now.UnixMicro()
	ua := string(ctx.Request.Header.UserAgent()) // once per request, not per event
	accepted, dropped, spam := 0, 0, 0
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
			if err = s.enricher.EnrichMemo(tp, &st.memo); errors.Is(err, enrich.ErrBot) {
				dropped++
				continue
			} else if errors.Is(err, enrich.ErrSpam) {
				spam++
				continue
			}
		}
		// The IP is never kept, whatever happened above.
		tp.ClientIP, tp.UserAgent = netip.Addr{}, ""
		if err != nil {
			st.rejected = append(st.rejected, rejection{index: i, err: err})
			continue
		}
		rb := st.recs
		rb.recs = append(rb.recs, store.NewRecord(tp, &rb.slab))
		accepted++
	}
	s.countOutcomes(st, dropped, spam)
	decoded() // the records are encoded: the parse state is not needed for the wait
	if len(st.recs.recs) > 0 {
		// The writer keeps the records (async durability answers before
		// they are written) and gives their memory back when done.
		rb := st.recs
		st.recs = nil
		var err error
		if s.owned != nil {
			err = s.owned.SubmitFor(rb.recs, time.Duration(s.cfg.WriteTimeout), rb)
		} else {
			// Another submitter may keep the records: their memory is
			// given up, not pooled.
			wctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.WriteTimeout))
			err = s.writer.Submit(wctx, rb.recs)
			cancel()
		}
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
		s.metrics.accepted.Add(float64(accepted))
	}
	return s.answer(ctx, st, accepted, dropped+spam)
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
func (s *Server) countOutcomes(st *ingestState, dropped, spam int) {
	if dropped > 0 {
		s.metrics.events.WithLabelValues(reasonBot).Add(float64(dropped))
	}
	if spam > 0 {
		s.metrics.events.WithLabelValues(reasonSpam).Add(float64(spam))
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
	st.accepted, st.dropped = accepted, dropped
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
