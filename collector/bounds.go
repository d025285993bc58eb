package collector

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Bounded queries: every query runs under a context with a deadline
// (QueryTimeout), cancelled when the collector shuts down and when the
// client goes away; site-wide scans (and whole journeys) take one of
// MaxScans slots or are refused at once; scans read a bounded time range.

// Causes of a cancelled query context.
var (
	errShuttingDown = errors.New("collector shutting down")
	errClientGone   = errors.New("client went away")
)

// queryContext returns the context one query runs under, and its cancel.
func (s *Server) queryContext(ctx *fasthttp.RequestCtx) (context.Context, func()) {
	tctx, cancelTimeout := context.WithTimeout(s.base, s.cfg.QueryTimeout)
	qctx, cancel := context.WithCancelCause(tctx)
	stopWatch := watchGone(ctx, func() { cancel(errClientGone) })
	return qctx, func() {
		stopWatch()
		cancel(nil)
		cancelTimeout()
	}
}

// queryError answers a query that ended with err under qctx: a cancelled
// or expired context says why, whatever error the store wrapped it in.
func (s *Server) queryError(qctx context.Context, err error) error {
	if err == nil || qctx.Err() == nil {
		return err
	}
	cause := context.Cause(qctx)
	switch {
	case errors.Is(cause, errShuttingDown):
		s.metrics.queries.WithLabelValues("shutdown").Inc()
		return &httpError{status: fasthttp.StatusServiceUnavailable, msg: "collector shutting down, retry later", retryAfter: 1}
	case errors.Is(cause, errClientGone):
		s.metrics.queries.WithLabelValues("gone").Inc()
		return &httpError{status: fasthttp.StatusServiceUnavailable, msg: "client went away"}
	default:
		s.metrics.queries.WithLabelValues("deadline").Inc()
		return &httpError{status: fasthttp.StatusServiceUnavailable,
			msg: "query stopped at its deadline of " + s.cfg.QueryTimeout.String() + ": ask for a shorter range", retryAfter: 1}
	}
}

// scanSlot takes one of the MaxScans slots for a scan; release it when done.
func (s *Server) scanSlot() (release func(), err error) {
	select {
	case s.scans <- struct{}{}:
		return func() { <-s.scans }, nil
	default:
		s.metrics.queries.WithLabelValues("busy").Inc()
		return nil, &httpError{status: fasthttp.StatusServiceUnavailable,
			msg: "too many scans running, retry later", retryAfter: 1}
	}
}

// scanRange bounds a scan's [from, to): without both it is the last
// DefaultRange (up to now, or up to to); longer than MaxRange is refused.
func (s *Server) scanRange(from, to time.Time) (time.Time, time.Time, error) {
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.Add(-s.cfg.DefaultRange)
	}
	if !from.Before(to) {
		return from, to, errStatus(fasthttp.StatusBadRequest, "from must be before to")
	}
	if to.Sub(from) > s.cfg.MaxRange {
		return from, to, errStatus(fasthttp.StatusBadRequest, "range of %s is longer than the maximum of %s",
			to.Sub(from).Round(time.Hour), s.cfg.MaxRange)
	}
	return from, to, nil
}

// NetConn returns the connection under the connection cap's wrapper (as
// tls.Conn does), for watchGone.
func (c *limitedConn) NetConn() net.Conn { return c.Conn }
