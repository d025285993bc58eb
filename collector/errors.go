package collector

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// httpError is an error with the status it answers with.
type httpError struct {
	status     int
	msg        string
	retryAfter int    // seconds; 0: no Retry-After header
	allow      string // the Allow header of a 405
}

func (e *httpError) Error() string { return e.msg }

func errStatus(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

var (
	errUnauthorized = &httpError{status: fasthttp.StatusUnauthorized, msg: "missing or invalid token"}
	errNotFound     = &httpError{status: fasthttp.StatusNotFound, msg: "not found"}
	errMethod       = &httpError{status: fasthttp.StatusMethodNotAllowed, msg: "method not allowed", allow: "GET, HEAD"}
)

// handlerFunc is a handler that returns its error for wrap to answer.
type handlerFunc func(ctx *fasthttp.RequestCtx) error

// wrap turns h into a fasthttp handler that answers errors as JSON
// {"error":"…"} with the status they map to (goatcounter's zhttp.Wrap).
func (s *Server) wrap(route string, h handlerFunc) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		err := h(ctx)
		if err == nil {
			return
		}
		status, msg, retry := s.mapError(err)
		if status >= 500 && status != fasthttp.StatusServiceUnavailable && status != fasthttp.StatusInsufficientStorage { // both logged where they arise, throttled
			s.log.Error("request failed", "route", route, "err", err)
		}
		s.metrics.errors.WithLabelValues(route, strconv.Itoa(status)).Inc()
		if route == "events" || route == "pixel" || isCompatRoute(route) {
			s.metrics.refused.WithLabelValues(refusalReason(status)).Inc()
		}
		writeError(ctx, status, msg, retry)
		if he := (*httpError)(nil); errors.As(err, &he) && he.allow != "" {
			ctx.Response.Header.Set("Allow", he.allow)
		}
	}
}

func (s *Server) mapError(err error) (status int, msg string, retryAfter int) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status, he.msg, he.retryAfter
	case errors.Is(err, store.ErrOverloaded):
		return fasthttp.StatusServiceUnavailable, "collector overloaded, retry later", 1
	case errors.Is(err, store.ErrUnavailable):
		return fasthttp.StatusServiceUnavailable, err.Error(), 2
	case errors.Is(err, store.ErrDiskFull):
		return fasthttp.StatusInsufficientStorage, "collector storage full: " + err.Error() + "; retry later", 30
	case errors.Is(err, store.ErrBadCursor):
		return fasthttp.StatusBadRequest, "invalid cursor", 0
	case errors.Is(err, store.ErrInvalidKey):
		return fasthttp.StatusBadRequest, err.Error(), 0
	case errors.Is(err, store.ErrNotFound):
		return fasthttp.StatusNotFound, "not found", 0
	case errors.Is(err, event.ErrInvalid):
		return fasthttp.StatusBadRequest, err.Error(), 0
	case errors.Is(err, store.ErrClosed):
		return fasthttp.StatusServiceUnavailable, "collector shutting down", 1
	case errors.Is(err, context.DeadlineExceeded):
		return fasthttp.StatusServiceUnavailable, "storage too slow, retry later", 1
	}
	return fasthttp.StatusInternalServerError, "internal error", 0
}

func writeError(ctx *fasthttp.RequestCtx, status int, msg string, retryAfter int) {
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	if retryAfter > 0 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	if status == fasthttp.StatusUnauthorized {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="touchtrail"`)
	}
	b := append(ctx.Response.Body()[:0], `{"error":`...)
	b = event.AppendJSONString(b, msg)
	b = append(b, '}', '\n')
	ctx.Response.SetBodyRaw(b)
}
