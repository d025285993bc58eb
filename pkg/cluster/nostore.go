package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// NoStore is the store.Store of an ingest-only node, which keeps no data:
// every call returns an error wrapping store.ErrUnavailable that says
// where the data is, so the query API answers 503 rather than an empty
// answer that pretends to be complete. Safe for concurrent use.
type NoStore struct{}

var errIngestOnly = fmt.Errorf("this node has role ingest and keeps no data: query a store node: %w", store.ErrUnavailable)

// Write implements store.Store.
func (NoStore) Write(context.Context, []store.Record) (store.WriteResult, error) {
	return store.WriteResult{}, errIngestOnly
}

// Trail implements store.Store.
func (NoStore) Trail(context.Context, string, event.VisitorID, store.TrailQuery) (store.TrailPage, error) {
	return store.TrailPage{}, errIngestOnly
}

// Visitors implements store.Store.
func (NoStore) Visitors(context.Context, string, store.VisitorQuery) (store.VisitorPage, error) {
	return store.VisitorPage{}, errIngestOnly
}

// UserVisitors implements store.Store.
func (NoStore) UserVisitors(context.Context, string, string) ([]event.VisitorID, error) {
	return nil, errIngestOnly
}

// ScanTrails implements store.Store.
func (NoStore) ScanTrails(context.Context, string, time.Time, time.Time, func(event.VisitorID, []event.Touchpoint) error) error {
	return errIngestOnly
}

// EraseVisitor implements store.Store.
func (NoStore) EraseVisitor(context.Context, string, event.VisitorID) error { return errIngestOnly }

// EraseUser implements store.Store.
func (NoStore) EraseUser(context.Context, string, string) ([]event.VisitorID, error) {
	return nil, errIngestOnly
}

// Close implements store.Store.
func (NoStore) Close() error { return nil }
