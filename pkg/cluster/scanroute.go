package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// PartitionsError is returned by ScanTrails, wrapping
// store.ErrUnavailable, when partitions have no live store left to scan:
// a scan is complete or fails, it is never silently partial.
type PartitionsError struct {
	Missing Missing // in order
	Cause   error   // the last failure of a store that held them, if any
}

func (e *PartitionsError) Error() string {
	s := fmt.Sprintf("partitions %s have no live store to read them from (missing_partitions: %v)", FormatPartitions(e.Missing), []int(e.Missing))
	if e.Cause != nil {
		s += "; last failure: " + e.Cause.Error()
	}
	return s + ": " + store.ErrUnavailable.Error()
}

// Unwrap makes errors.Is(err, store.ErrUnavailable) true.
func (e *PartitionsError) Unwrap() error { return store.ErrUnavailable }

// scanChunk is the default of Router.ScanChunk.
const scanChunk = 256 << 10

// ScanTrails implements store.Store across the stores: it opens a scan on
// one live owner of every partition (the owners assigned as Scatter
// assigns them), each store streams the whole trails of the visitors of
// its partitions in visitor-id order, and ScanTrails merges the streams,
// so fn sees every visitor once, in visitor-id order, as a single node's
// store gives them. A store that fails or goes silent mid-stream is
// replaced by another live owner of its partitions, which resumes after
// the last visitor fn got from it. When partitions have no live owner left
// the error is a *PartitionsError naming them (before fn is called if
// they had none at the start). ctx's deadline or cancellation stops the
// stores' scans. Safe for concurrent use.
func (r *Router) ScanTrails(ctx context.Context, site string, from, to time.Time, fn func(v event.VisitorID, trail []event.Touchpoint) error) error {
	if err := store.CheckSite(site); err != nil {
		return err
	}
	sc, plan, err := r.planScan(ctx)
	if err != nil {
		return err
	}
	chunk := r.ScanChunk
	if chunk <= 0 {
		chunk = scanChunk
	}
	if mp := int(r.nc.MaxPayload()) - 4096; mp > 0 && mp < chunk {
		chunk = mp
	}
	sc.req = scanRequest{Site: site, From: from, To: to, Of: r.stream.Partitions, Chunk: chunk,
		Heartbeat: max(r.Timeout/2, 50*time.Millisecond)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err = sc.merge(ctx, plan.stores, nil, fn)
	var ee emitError
	if errors.As(err, &ee) {
		return ee.err
	}
	if pe := (*PartitionsError)(nil); errors.As(err, &pe) {
		r.m.partialAnswers.Inc()
	}
	return err
}

func (r *Router) planScan(ctx context.Context) (*trailScan, scatterPlan, error) {
	members, err := r.liveMembers(ctx)
	if err != nil {
		return nil, scatterPlan{}, fmt.Errorf("cannot read membership: %w: %w", store.ErrUnavailable, err)
	}
	sc := &trailScan{r: r, owners: ownersOf(members, r.stream.Partitions), failed: map[string]bool{}}
	plan := assign(allPartitions(r.stream.Partitions), sc.owners, sc.failed)
	if len(plan.orphans) > 0 {
		r.m.partialAnswers.Inc()
		return nil, plan, &PartitionsError{Missing: plan.orphans}
	}
	return sc, plan, nil
}

// trailScan is one ScanTrails: the owners, and the stores failed so far.
type trailScan struct {
	r      *Router
	req    scanRequest // Partitions and After set per session
	mu     sync.Mutex  // failed
	owners [][]string
	failed map[string]bool
}

// emitError is an error of fn (or of a merge downstream): not a store's
// failure, nothing to fail over.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }
func (e emitError) Unwrap() error { return e.err }

type emitFunc func(v event.VisitorID, trail []event.Touchpoint) error

// merge streams the stores' partitions to emit in visitor-id order,
// leaving out the visitors up to after.
func (sc *trailScan) merge(ctx context.Context, stores map[string][]int, after []byte, emit emitFunc) error {
	if len(stores) == 1 {
		for node, parts := range stores {
			return sc.stream(ctx, node, parts, after, emit)
		}
	}
	type item struct {
		v     event.VisitorID
		trail []event.Touchpoint
	}
	type source struct {
		ch   chan item
		err  error
		head *item
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	var srcs []*source
	for node, parts := range stores {
		src := &source{ch: make(chan item, 16)}
		srcs = append(srcs, src)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(src.ch)
			src.err = sc.stream(ctx, node, parts, after, func(v event.VisitorID, trail []event.Touchpoint) error {
				select {
				case src.ch <- item{v, trail}:
					return nil
				case <-ctx.Done():
					return emitError{context.Cause(ctx)}
				}
			})
		}()
	}
	// advance reads a source's next visitor into head; false at its end.
	advance := func(s *source) (bool, error) {
		it, ok := <-s.ch
		if !ok {
			s.head = nil
			return false, s.err
		}
		s.head = &it
		return true, nil
	}
	// Every stream's first visitor, or its failure: all of them, so that
	// an error names every partition left without a store.
	live := srcs[:0:0]
	var errs []error
	for _, s := range srcs {
		ok, err := advance(s)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			live = append(live, s)
		}
	}
	if len(errs) > 0 {
		return joinScanErrors(errs)
	}
	for len(live) > 0 {
		best := 0
		for i := 1; i < len(live); i++ {
			if bytes.Compare(live[i].head.v[:], live[best].head.v[:]) < 0 {
				best = i
			}
		}
		s := live[best]
		if err := emit(s.head.v, s.head.trail); err != nil {
			return emitError{err}
		}
		ok, err := advance(s)
		if err != nil {
			return err
		}
		if !ok {
			live = append(live[:best], live[best+1:]...)
		}
	}
	return nil
}

// stream reads parts from node into emit; when node fails, the partitions
// go to other live owners, which resume after the last visitor emitted.
func (sc *trailScan) stream(ctx context.Context, node string, parts []int, after []byte, emit emitFunc) error {
	last := after
	err := sc.session(ctx, node, parts, after, func(v event.VisitorID, trail []event.Touchpoint) error {
		if err := emit(v, trail); err != nil {
			return err
		}
		last = bytes.Clone(v[:])
		return nil
	})
	var ee emitError
	if err == nil || errors.As(err, &ee) {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("scan of partitions %s on %s: %w", FormatPartitions(parts), node, context.Cause(ctx))
	}
	reason := "error"
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		reason = "no_responders"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		reason = "timeout"
	}
	sc.r.m.scatterFailed.WithLabelValues(reason).Inc()
	sc.r.log.Warn("scan failed: asking a replica", "store", node, "partitions", FormatPartitions(parts), "err", err)
	sc.mu.Lock()
	sc.failed[node] = true
	plan := assign(parts, sc.owners, sc.failed)
	sc.mu.Unlock()
	if len(plan.orphans) > 0 {
		return &PartitionsError{Missing: plan.orphans, Cause: err}
	}
	return sc.merge(ctx, plan.stores, last, emit)
}

// joinScanErrors makes one error of the failures of a merge's streams:
// the partitions every PartitionsError names, or the first other error.
func joinScanErrors(errs []error) error {
	var missing Missing
	var cause error
	for _, err := range errs {
		var pe *PartitionsError
		if !errors.As(err, &pe) {
			return err
		}
		missing = append(missing, pe.Missing...)
		if cause == nil {
			cause = pe.Cause
		}
	}
	slices.Sort(missing)
	return &PartitionsError{Missing: slices.Compact(missing), Cause: cause}
}

// session runs one scan session on node: open, then a pull per chunk
// until the last, decoding the visitor records into emit.
func (sc *trailScan) session(ctx context.Context, node string, parts []int, after []byte, emit emitFunc) error {
	r := sc.r
	req := sc.req
	req.Partitions, req.After = parts, after
	if d, ok := ctx.Deadline(); ok {
		req.Timeout = time.Until(d)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("BUG: scan request: %w", err)
	}
	subj := scanSubject(r.stream.Subject, node)
	rr := recordReader{site: req.Site}
	session := ""
	alive := make(chan struct{}) // closed when the session ends
	defer close(alive)
	stop := func() {
		if session != "" {
			_ = r.nc.Publish(session+".ctl", []byte("stop"))
		}
	}
	start := time.Now()
	for {
		pctx, cancel := context.WithTimeout(ctx, r.Timeout)
		m, err := r.nc.RequestWithContext(pctx, subj, body)
		cancel()
		if err != nil {
			stop()
			switch {
			case errors.Is(err, nats.ErrNoResponders):
				return fmt.Errorf("store %s is gone: %w", node, err)
			case ctx.Err() != nil:
				return fmt.Errorf("store %s: %w", node, context.Cause(ctx))
			}
			return fmt.Errorf("store %s did not answer a pull within %s: %w", node, r.Timeout, err)
		}
		if e := m.Header.Get(hdrError); e != "" {
			return fmt.Errorf("store %s: %s", node, e)
		}
		if session == "" {
			if session = m.Header.Get(hdrSession); session == "" {
				return fmt.Errorf("store %s: a scan answer without a session", node)
			}
			subj, body = session, nil
			go keepAlive(r.nc, session, alive)
		}
		rr.buf = append(rr.buf, m.Data...)
		for {
			v, trail, ok, err := rr.next()
			if err != nil {
				stop()
				return fmt.Errorf("store %s: %w", node, err)
			}
			if !ok {
				break
			}
			if err := emit(v, trail); err != nil {
				stop()
				if ee := (emitError{}); errors.As(err, &ee) {
					return err
				}
				return emitError{err}
			}
		}
		if m.Header.Get(hdrLast) != "" {
			took := time.Since(start).Seconds()
			for _, p := range parts {
				r.m.scatterSeconds.WithLabelValues(partLabel(p)).Observe(took)
			}
			if len(rr.buf) != 0 {
				return fmt.Errorf("store %s: the scan stream ended inside a record", node)
			}
			return nil
		}
	}
}

// keepAlive tells the store of a session that its reader is still there
// until done is closed: the merge may hold a stream back (emit blocked)
// for as long as the other streams have visitors with smaller ids.
func keepAlive(nc *nats.Conn, session string, done <-chan struct{}) {
	t := time.NewTicker(idleAfter / 4)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			_ = nc.Publish(session+".ctl", []byte("alive"))
		}
	}
}
