package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// ScanTrails reads the trails of the visitors active in [from, to): their
// ids from the day index, then one iterator over t/<site>/ that seeks from
// visitor to visitor (without a range it reads every trail in order).
func (s *Store) ScanTrails(ctx context.Context, site string, from, to time.Time, fn func(v event.VisitorID, trail []event.Touchpoint) error) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := store.CheckSite(site); err != nil {
		return err
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	var active []event.VisitorID
	ranged := !from.IsZero() || !to.IsZero()
	if ranged {
		var err error
		if active, err = s.activeVisitors(ctx, site, from, to); err != nil {
			return err
		}
		if len(active) == 0 {
			return nil
		}
	}
	prefix := appendSitePrefix(nil, pTrail, site)
	return s.db.View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.PrefetchValues = false // values live in the LSM tree: read them in place, no copy
		it := txn.NewIterator(opts)
		defer it.Close()
		var trail []event.Touchpoint
		var cur event.VisitorID
		var cs contexts
		var buf []byte
		have := false // cur is set
		flush := func() error {
			if len(trail) == 0 {
				return nil
			}
			err := fn(cur, trail)
			trail = trail[:0]
			return err
		}
		next := 0 // index into active
		seek := prefix
		if ranged {
			seek = append(append([]byte(nil), prefix...), active[0][:]...)
		}
		for it.Seek(seek); it.ValidForPrefix(prefix); {
			item := it.Item()
			k := item.Key()[len(prefix):]
			isCtx := len(k) == 16+ctxSuffixLen && isCtxSuffix(k[16:])
			if len(k) != 16+suffixLen && !isCtx {
				return fmt.Errorf("%w: trail key of %d bytes", event.ErrCorrupt, len(k))
			}
			var v event.VisitorID
			copy(v[:], k[:16])
			if v != cur || !have {
				if err := flush(); err != nil {
					return err
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				if ranged {
					// Skip to the next active visitor at or after v.
					for next < len(active) && bytes.Compare(active[next][:], v[:]) < 0 {
						next++
					}
					if next == len(active) {
						return nil
					}
					if active[next] != v {
						it.Seek(append(append([]byte(nil), prefix...), active[next][:]...))
						continue
					}
				}
				cur, have, cs = v, true, cs[:0]
			}
			if isCtx {
				if err := item.Value(func(val []byte) error { return cs.add(binary.BigEndian.Uint32(k[17:]), val) }); err != nil {
					return fmt.Errorf("visitor %s: %w", v, err)
				}
				it.Next()
				continue
			}
			trail = slices.Grow(trail, 1)[:len(trail)+1]
			tp := &trail[len(trail)-1]
			derived, seq := parseSuffix(k[16:])
			err := item.Value(func(val []byte) error {
				var err error
				buf, err = decodeValue(buf, val, derived, seq, cs, tp)
				return err
			})
			if err != nil {
				return fmt.Errorf("touchpoint of %s: %w", v, err)
			}
			tp.Site, tp.Visitor = site, v
			it.Next()
		}
		return flush()
	})
}

// activeVisitors returns the sorted, distinct visitors of the day index in
// [from, to).
func (s *Store) activeVisitors(ctx context.Context, site string, from, to time.Time) ([]event.VisitorID, error) {
	seen := map[event.VisitorID]struct{}{}
	q := store.VisitorQuery{From: from, To: to, Limit: store.MaxLimit}
	for {
		page, err := s.visitors(ctx, site, q)
		if err != nil {
			return nil, err
		}
		for _, vd := range page.Visitors {
			seen[vd.Visitor] = struct{}{}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	out := make([]event.VisitorID, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b event.VisitorID) int { return bytes.Compare(a[:], b[:]) })
	return out, nil
}
