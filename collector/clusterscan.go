package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// The whole trails of a site's visitors (the export, the UI's pages) on a
// cluster node come from every store: Deps.Scatter, a cluster.Router,
// streams them from one live owner of every partition and merges them in
// visitor-id order (cluster.Router.ScanTrails), as a single node's store
// gives them. A partition without a live owner fails the read (503 naming
// the partitions), never a silently incomplete export or page.

// trailScanner reads a site's trails across a cluster's stores.
type trailScanner interface {
	ScanTrails(ctx context.Context, site string, from, to time.Time, fn func(v event.VisitorID, trail []event.Touchpoint) error) error
}

type scanFunc = func(v event.VisitorID, trail []event.Touchpoint) error

// openScan starts the export's read of site's trails within exportTimeout;
// run it once, and call stop when done. On a cluster node the scan begins
// here and its first visitor (or its end) is awaited before the answer
// begins: every store asked has answered by then (a store gone since the
// membership was read is replaced by a replica), so partitions without a
// live store are an error here — the export's 503 naming them — rather
// than a broken body.
func (s *Server) openScan(site string, from, to time.Time) (run func(fn scanFunc) error, stop func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
	ts, ok := s.scatter.(trailScanner)
	if !ok {
		return func(fn scanFunc) error { return s.store.ScanTrails(ctx, site, from, to, fn) }, cancel, nil
	}
	type item struct {
		v     event.VisitorID
		trail []event.Touchpoint // the router's own: not reused
	}
	items := make(chan item, 16)
	var scanErr error // set before items is closed
	go func() {
		defer close(items)
		scanErr = ts.ScanTrails(ctx, site, from, to, func(v event.VisitorID, trail []event.Touchpoint) error {
			select {
			case items <- item{v, trail}:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
	}()
	first, ok := <-items
	if !ok && scanErr != nil {
		cancel()
		return nil, nil, scanErr
	}
	stop = func() {
		cancel()
		for range items { // let the scan end
		}
	}
	return func(fn scanFunc) error {
		if !ok {
			return nil // no visitor
		}
		if err := fn(first.v, first.trail); err != nil {
			return err
		}
		for it := range items {
			if err := fn(it.v, it.trail); err != nil {
				return err
			}
		}
		return scanErr
	}, stop, nil
}

// ScanShare is a store node's share of a query node's scan
// (cluster.ScanFunc): its store's trails, under one of its scan slots.
func (s *Server) ScanShare(ctx context.Context, site string, from, to time.Time, fn func(v event.VisitorID, trail []event.Touchpoint) error) error {
	if s.sites[site] == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	release, err := s.scanSlot()
	if err != nil {
		return err
	}
	defer release()
	return s.store.ScanTrails(ctx, site, from, to, fn)
}

// clusterReads is the store the UI's pages read on a cluster node: its
// router (a visitor's trail from a store owning it, a user's visitors,
// erasure through the stream, whole trails across the stores — on a store
// or all node too, never only its own Badger), but for the visitors list,
// scattered as the API's (a partial list is an error naming the missing
// partitions: the page says so rather than showing fewer visitors).
type clusterReads struct {
	store.Store
	s *Server
}

func (c clusterReads) Visitors(ctx context.Context, site string, q store.VisitorQuery) (store.VisitorPage, error) {
	page, missing, err := c.s.scatterVisitors(ctx, siteQuery{Kind: "visitors", Site: site, From: q.From, To: q.To, Limit: q.Limit, Cursor: q.Cursor})
	if err == nil && len(missing) > 0 {
		err = &cluster.PartitionsError{Missing: missing}
	}
	return page, err
}
