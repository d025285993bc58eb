// Package store defines how touchpoint trails are kept: the Store interface
// that the collector and the query API use, the batch Writer that
// group-commits touchpoints from many requests, and the opaque cursors of
// paged reads. The Badger implementation lives in store/badger.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// ErrNotFound is returned when a visitor or user has no stored data.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned by a Store or Writer used after Close.
var ErrClosed = errors.New("store closed")

// ErrUnavailable is returned (wrapped, with the cause) by a submitter that
// cannot reach the storage behind it — in a cluster, the JetStream stream
// (no quorum, no server): nothing was acknowledged, and the collector
// answers 503 with Retry-After, and the client retries.
var ErrUnavailable = errors.New("storage unavailable")

// ErrDiskFull is returned (wrapped, with the free space) by writes while
// the store's disk is below its reserve: nothing of the write was stored,
// reads go on, and writes resume by themselves when there is space. The
// collector answers 507 with Retry-After.
var ErrDiskFull = errors.New("disk full")

// DiskChecker is implemented by stores that watch their disk: DiskFull
// returns an error wrapping ErrDiskFull while they refuse writes for want
// of space, else nil. The collector's /readyz and metrics use it.
type DiskChecker interface {
	DiskFull() error
}

// ErrBadCursor is returned for a cursor that this store did not make.
var ErrBadCursor = errors.New("invalid cursor")

// ErrInvalidKey is returned (wrapped, with the reason) for what no store key
// may be built from: a site id that ValidSite refuses, or a record without
// an id. Stores and the Writer refuse them; the collector answers 400.
var ErrInvalidKey = errors.New("invalid key")

// CheckSite returns an error wrapping ErrInvalidKey unless ValidSite(site).
func CheckSite(site string) error {
	if !ValidSite(site) {
		return fmt.Errorf("%w: site id %q: want 1 to 64 of A-Z a-z 0-9 _ . -", ErrInvalidKey, site)
	}
	return nil
}

// CheckRecords returns an error wrapping ErrInvalidKey for the first
// record of recs with an invalid site or an empty id.
func CheckRecords(recs []Record) error {
	for i := range recs {
		if err := CheckSite(recs[i].Site); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		if recs[i].ID == "" {
			return fmt.Errorf("record %d: %w: empty id", i, ErrInvalidKey)
		}
	}
	return nil
}

// TrailQuery selects a part of one visitor's trail. Zero From / To mean
// unbounded; Limit 0 means DefaultLimit.
type TrailQuery struct {
	From, To time.Time // derived time, To exclusive
	Limit    int
	Cursor   string // from a previous Page.Next
}

// VisitorQuery selects the visitors active on the days of [From, To).
type VisitorQuery struct {
	From, To time.Time
	Limit    int
	Cursor   string
}

// DefaultLimit and MaxLimit bound one page of a paged read.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// ClampLimit is the page size a paged read uses for a requested limit:
// DefaultLimit for none (≤ 0), at most MaxLimit.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// TrailPage is one page of a trail, in trail order (derived time, seq).
type TrailPage struct {
	Touchpoints []event.Touchpoint
	Next        string // cursor of the next page; "" at the end
}

// VisitorDay says that a visitor was active on a day.
type VisitorDay struct {
	Visitor  event.VisitorID
	Day      time.Time // UTC midnight
	LastSeen time.Time // derived time of its latest touchpoint that day
	Count    uint32    // touchpoints stored that day
}

// VisitorPage is one page of active visitors, by day then visitor id.
type VisitorPage struct {
	Visitors []VisitorDay
	Next     string
}

// Record is a touchpoint ready to store: the fields its keys are made of and
// its encoded value. Records own their memory, so the request that made one
// may reuse its buffers at once.
type Record struct {
	Site    string
	Visitor event.VisitorID
	ID      string
	Derived int64  // Unix µs: orders the trail
	Seq     uint32 // breaks ties of Derived
	User    string // set on identify touchpoints: stitches Visitor to User
	Value   []byte // event.AppendBinary of the touchpoint
}

// NewRecord encodes tp into a Record, appending its value to *slab (which
// may hold the values of other records: they share its memory) and growing
// it as needed.
func NewRecord(tp *event.Touchpoint, slab *[]byte) Record {
	start := len(*slab)
	*slab = event.AppendBinary(*slab, tp)
	r := Record{Site: tp.Site, Visitor: tp.Visitor, ID: tp.ID, Derived: tp.Derived, Seq: tp.Seq,
		Value: (*slab)[start:len(*slab):len(*slab)]}
	if tp.Type == event.TypeIdentify {
		r.User = tp.User
	}
	return r
}

// WriteResult says what a Write did with its records.
type WriteResult struct {
	Stored     int // new touchpoints written
	Duplicates int // already stored (same site, visitor and id): skipped
	Erased     int // of a visitor erased after their time: dropped for good
}

// Store keeps ordered per-visitor trails. Implementations are safe for
// concurrent use.
type Store interface {
	// Write stores recs in one durable commit (a group), skipping the ones
	// already stored (same site, visitor and id, also within recs), updating
	// the active-visitor index and, for records with a User, the identity
	// index. When it returns nil the group is durable as configured.
	Write(ctx context.Context, recs []Record) (WriteResult, error)
	// Trail reads one visitor's touchpoints in order with one prefix scan.
	Trail(ctx context.Context, site string, v event.VisitorID, q TrailQuery) (TrailPage, error)
	// Visitors lists the visitors active in a time range, by day.
	Visitors(ctx context.Context, site string, q VisitorQuery) (VisitorPage, error)
	// UserVisitors lists the visitors stitched to a user id by identify.
	UserVisitors(ctx context.Context, site, user string) ([]event.VisitorID, error)
	// ScanTrails calls fn with the whole trail of every visitor active in
	// [from, to) (zero times: every visitor of the site), one visitor at a
	// time in visitor-id order, in one pass over the trails. The slice fn
	// gets is reused after fn returns; the strings in it are not. An error
	// from fn stops the scan and is returned.
	ScanTrails(ctx context.Context, site string, from, to time.Time, fn func(v event.VisitorID, trail []event.Touchpoint) error) error
	// EraseVisitor deletes every key of a visitor: trail, id index, day
	// index and identity entries. Erasing an unknown visitor is not an error.
	// Events of an erased visitor dated before the erase are dropped from
	// then on (WriteResult.Erased).
	EraseVisitor(ctx context.Context, site string, v event.VisitorID) error
	// EraseUser erases every visitor stitched to user and the user's
	// identity keys, and returns the visitors erased.
	EraseUser(ctx context.Context, site, user string) ([]event.VisitorID, error)
	// Close flushes and closes the store.
	Close() error
}

// ValidSite reports whether s is a valid site id (event.ValidSite).
func ValidSite(s string) bool { return event.ValidSite(s) }
