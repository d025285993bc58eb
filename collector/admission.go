package collector

import (
	"bytes"
	"io"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Admission: an ingest request is judged on its headers before its body is
// read (the server streams request bodies, so nothing past the first few
// KiB has been read when the handler starts). A refusal costs a short
// answer; fasthttp then discards a small unread body or closes the
// connection. What is admitted is bounded by configuration: the bytes of
// bodies being read or worked on (MaxIngestBytes), whatever the number of
// connections.

// inflight counts the ingest body bytes admitted and not yet answered.
type inflight struct {
	max int64
	n   atomic.Int64
}

// acquire reserves n bytes; it fails when that would pass the bound, unless
// nothing is in flight (one request of any admitted size always goes).
func (f *inflight) acquire(n int64) bool {
	for {
		cur := f.n.Load()
		if cur > 0 && cur+n > f.max {
			return false
		}
		if f.n.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (f *inflight) release(n int64) { f.n.Add(-n) }

var errOverloaded = &httpError{status: fasthttp.StatusServiceUnavailable, msg: "collector overloaded, retry later", retryAfter: 1}

// errOverloadedWaited is errOverloaded after the request waited
// refusal_delay for room in the writer's queue (waitRoom).
var errOverloadedWaited = &httpError{status: fasthttp.StatusServiceUnavailable, msg: "collector overloaded, retry later", retryAfter: 1}

// roomWaiter is a writer whose queue can be waited on (a store.Writer).
type roomWaiter interface {
	WaitRoom(n int, timeout time.Duration) bool
}

// waitRoom waits up to refusal_delay for room for a whole batch in the
// writer's queue, and reports whether there is. A request that meets a
// full queue would be held that long before its 503 anyway: waiting for
// room instead takes it whenever the writer catches up meanwhile, so a
// burst (or a compaction's stall) slows the clients down rather than
// refusing them; only a writer slower than the traffic for longer refuses.
func (s *Server) waitRoom() bool {
	rw, ok := s.wstats.(roomWaiter)
	if !ok || s.cfg.RefusalDelay <= 0 {
		return false
	}
	return rw.WaitRoom(s.cfg.MaxEvents, time.Duration(s.cfg.RefusalDelay))
}

// admit decides from the headers alone whether the body of an ingest
// request may be read, and reserves its bytes (release them with
// s.admitted.release). trusted says the request carries some site's write
// key (checked against the batch's site once it is decoded): such senders
// are not rate limited per IP.
func (s *Server) admit(ctx *fasthttp.RequestCtx, ip netip.Addr, trusted bool, limit int, okType func([]byte) bool) (int64, error) {
	if s.draining.Load() {
		return 0, &httpError{status: fasthttp.StatusServiceUnavailable, msg: "collector shutting down", retryAfter: 1}
	}
	if ct := ctx.Request.Header.ContentType(); !okType(ct) {
		return 0, errStatus(fasthttp.StatusUnsupportedMediaType, "content type %q not supported (use application/json or text/plain)", truncateBytes(ct, 64))
	}
	cl := ctx.Request.Header.ContentLength()
	if cl > limit {
		return 0, errStatus(fasthttp.StatusRequestEntityTooLarge, "body larger than %d bytes", limit)
	}
	if !trusted {
		if ok, wait := s.limiter.allow(ip, s.now()); !ok {
			return 0, &httpError{status: fasthttp.StatusTooManyRequests, msg: "rate limit exceeded", retryAfter: wait}
		}
	}
	if s.wstats != nil {
		if st := s.wstats.Stats(); st.QueueSize > 0 && st.Queued > 0 && st.Queued+s.cfg.MaxEvents > st.QueueSize && !s.waitRoom() {
			return 0, errOverloadedWaited
		}
	}
	n := int64(cl)
	if n < 0 { // chunked: as much as it may be
		n = int64(limit)
	}
	if !s.admitted.acquire(n) {
		return 0, errOverloaded
	}
	return n, nil
}

// ingestContentType accepts what the snippet (text/plain: a beacon needs
// no preflight), the SDK (application/json) and curl send; none at all is
// taken as JSON.
func ingestContentType(ct []byte) bool {
	if len(ct) == 0 {
		return true
	}
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	return bytes.EqualFold(ct, []byte("text/plain")) || bytes.EqualFold(ct, []byte("application/json"))
}

func truncateBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// readStream reads the admitted request body into st.raw, within maxBytes
// bytes.
func (s *Server) readStream(ctx *fasthttp.RequestCtx, st *ingestState, maxBytes int) ([]byte, error) {
	r := ctx.RequestBodyStream()
	if r == nil { // a server that does not stream (Handler used directly)
		b := ctx.PostBody()
		if len(b) > maxBytes {
			return nil, errStatus(fasthttp.StatusRequestEntityTooLarge, "body larger than %d bytes", maxBytes)
		}
		return b, nil
	}
	limit := int64(maxBytes)
	if cl := ctx.Request.Header.ContentLength(); cl > 0 {
		st.raw.Grow(cl)
	}
	n, err := st.raw.ReadFrom(io.LimitReader(r, limit+1))
	if n > limit {
		return nil, errStatus(fasthttp.StatusRequestEntityTooLarge, "body larger than %d bytes", maxBytes)
	}
	if err != nil {
		return nil, errStatus(fasthttp.StatusBadRequest, "cannot read the body: %v", err)
	}
	return st.raw.Bytes(), nil
}

// holdRefusal waits before an overload refusal is answered: RefusalDelay,
// or longer when more than MaxRefusalRate refusals a second are due, at
// most maxRefusalHold (under the 30 s a client commonly waits for an
// answer); less when the collector shuts down. The
// connection's goroutine waits (a few KiB); the unread body waits in the
// kernel. So a flood of clients that ignore Retry-After costs at most
// MaxRefusalRate refusals a second, whatever the number of connections.
func (s *Server) holdRefusal(waited time.Duration) {
	wait := time.Duration(s.cfg.RefusalDelay) - waited
	if s.refusals != nil {
		r := s.refusals.Reserve()
		switch d := r.Delay(); {
		case d > maxRefusalHold:
			r.Cancel() // no debt past the cap: it would hold refusals after the flood
			wait = maxRefusalHold
		case d > wait:
			wait = d
		}
	}
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.base.Done():
	}
}

// maxRefusalHold bounds how long a refusal is held.
const maxRefusalHold = 20 * time.Second

// drainBufs are the big buffers refused bodies are read into and dropped:
// fasthttp would discard them through its 4 KiB read buffer, a read
// system call for every 4 KiB, which under a flood of refusals costs more
// than the refusals themselves. A bufio.Reader hands a read of at least
// its size straight to the connection.
var (
	drainBufs  = make(chan []byte, maxDrains)
	drainsMade atomic.Int32
)

const maxDrains = 16

// drainBody reads the unread body of a refused request of at most limit
// bytes and drops it, keeping the connection usable; with no drain
// buffer free it leaves the body to fasthttp, which discards it after the
// answer.
func (s *Server) drainBody(ctx *fasthttp.RequestCtx, limit int) {
	r := ctx.RequestBodyStream()
	if r == nil || ctx.Request.Header.ContentLength() > limit {
		return
	}
	var buf []byte
	select {
	case buf = <-drainBufs:
	default:
		if drainsMade.Add(1) > maxDrains {
			drainsMade.Add(-1)
			return
		}
		buf = make([]byte, 64<<10)
	}
	defer func() { drainBufs <- buf }()
	// A body that is not on its way is not waited for: the answer must
	// not wait on it. The connection is then closed after the answer.
	if ctx.SetReadDeadline(time.Now().Add(drainWait)) != nil {
		return
	}
	for left := limit; left > 0; {
		n, err := r.Read(buf[:min(len(buf), left)])
		left -= n
		if err == io.EOF {
			return
		}
		if err != nil {
			ctx.SetConnectionClose()
			return
		}
	}
}

// drainWait bounds the wait for the rest of a refused body.
const drainWait = 200 * time.Millisecond
