package badger

import (
	"context"
	"fmt"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Identity links without touchpoints, for a cluster: an identify is stored
// (with its link) on the store of the visitor's partition, and its link
// alone on the store of the user's partition, so that the user's visitors
// are found in one place whatever partitions they live in.

// LinkUsers writes the identity keys of recs (those with a User) and
// nothing else: no trail, id or day keys. A link of a visitor erased at or
// after the record's time is dropped, as Write drops its touchpoints. The
// keys expire with the touchpoint that made them. It returns the links
// written. Safe for concurrent use.
func (s *Store) LinkUsers(ctx context.Context, recs []store.Record) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if err := store.CheckRecords(recs); err != nil {
		return 0, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkDisk(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	n := 0
	var buf []byte
	err := s.db.Update(func(txn *bdg.Txn) error {
		for i := range recs {
			r := &recs[i]
			if r.User == "" {
				continue
			}
			if at, ok := s.erasedAt(r.Site, r.Visitor, buf); ok && r.Derived <= at {
				continue
			}
			exp := s.expiresAt(r.Derived)
			if err := txn.SetEntry(entry(userKey(nil, r.Site, r.User, r.Visitor), nil, exp)); err != nil {
				return err
			}
			if err := txn.SetEntry(entry(userRevKey(nil, r.Site, r.Visitor, r.User), nil, exp)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("link users: %w", err)
	}
	return n, nil
}

// VisitorUsers lists the user ids a visitor is stitched to (the reverse of
// UserVisitors), in order. Safe for concurrent use.
func (s *Store) VisitorUsers(ctx context.Context, site string, v event.VisitorID) ([]string, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := store.CheckSite(site); err != nil {
		return nil, err
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	prefix := append(appendSitePrefix(nil, pUserRev, site), v[:]...)
	var out []string
	err := s.db.View(func(txn *bdg.Txn) error {
		eachKey(txn, prefix, func(k []byte) {
			if len(k) > len(prefix) {
				out = append(out, string(k[len(prefix):]))
			}
		})
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("users of visitor %s: %w", v, err)
	}
	return out, nil
}
