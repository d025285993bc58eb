package badger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Cursors are base64url of the last key's tail, prefixed with a kind byte
// so one kind of cursor is never taken for another.
func makeCursor(kind byte, tail []byte) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{kind}, tail...))
}

func readCursor(kind byte, c string, n int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != n+1 || b[0] != kind {
		return nil, store.ErrBadCursor
	}
	return b[1:], nil
}

// Trail reads one visitor's touchpoints in order with one prefix scan.
func (s *Store) Trail(ctx context.Context, site string, v event.VisitorID, q store.TrailQuery) (store.TrailPage, error) {
	var page store.TrailPage
	if err := s.check(); err != nil {
		return page, err
	}
	if err := store.CheckSite(site); err != nil {
		return page, err
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	prefix := trailPrefix(nil, site, v)
	start := prefix
	if !q.From.IsZero() {
		start = appendSuffix(append([]byte(nil), prefix...), q.From.UnixMicro(), 0)
	}
	if q.Cursor != "" {
		tail, err := readCursor('t', q.Cursor, suffixLen)
		if err != nil {
			return page, err
		}
		// Just past the cursor's key, and never before From.
		if after := append(append(append([]byte(nil), prefix...), tail...), 0); bytes.Compare(after, start) > 0 {
			start = after
		}
	}
	var end []byte
	if !q.To.IsZero() {
		end = appendSuffix(append([]byte(nil), prefix...), q.To.UnixMicro(), 0)
	}
	limit := store.ClampLimit(q.Limit)
	err := s.db.View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.PrefetchValues = false // values live in the LSM tree: read them in place, no copy
		it := txn.NewIterator(opts)
		defer it.Close()
		// The contexts first (they sort before the touchpoints), then
		// the touchpoints from start.
		var cs contexts
		skipped := false
		for it.Seek(append(prefix[:len(prefix):len(prefix)], 0)); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			tail := item.Key()[len(prefix):]
			if len(tail) == 0 || tail[0] != 0 {
				break
			}
			if !isCtxSuffix(tail) {
				skipped = true
				continue
			}
			if err := item.Value(func(v []byte) error { return cs.add(binary.BigEndian.Uint32(tail[1:]), v) }); err != nil {
				return err
			}
		}
		if skipped || len(start) != len(prefix) {
			it.Seek(start)
		}
		var last, buf []byte
		for ; it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			k := item.Key()
			if end != nil && bytes.Compare(k, end) >= 0 {
				break
			}
			if isCtxSuffix(k[len(prefix):]) {
				continue
			}
			if len(page.Touchpoints) == limit {
				page.Next = makeCursor('t', last)
				break
			}
			if len(k) != len(prefix)+suffixLen {
				return fmt.Errorf("%w: trail key of %d bytes", event.ErrCorrupt, len(k))
			}
			page.Touchpoints = append(page.Touchpoints, event.Touchpoint{})
			tp := &page.Touchpoints[len(page.Touchpoints)-1]
			derived, seq := parseSuffix(k[len(prefix):])
			err := item.Value(func(val []byte) error {
				var err error
				buf, err = decodeValue(buf, val, derived, seq, cs, tp)
				return err
			})
			if err != nil {
				return fmt.Errorf("touchpoint %x: %w", k[len(prefix):], err)
			}
			tp.Site, tp.Visitor = site, v
			last = append(last[:0], k[len(prefix):]...)
			if len(page.Touchpoints)%256 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return nil
	})
	return page, err
}

// Visitors lists the visitors active on the days of [From, To).
func (s *Store) Visitors(ctx context.Context, site string, q store.VisitorQuery) (store.VisitorPage, error) {
	if err := s.check(); err != nil {
		return store.VisitorPage{}, err
	}
	if err := store.CheckSite(site); err != nil {
		return store.VisitorPage{}, err
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	return s.visitors(ctx, site, q)
}

// visitors is Visitors under dbMu.
func (s *Store) visitors(ctx context.Context, site string, q store.VisitorQuery) (store.VisitorPage, error) {
	var page store.VisitorPage
	prefix := appendSitePrefix(nil, pDay, site)
	start := prefix
	if !q.From.IsZero() {
		start = binary.BigEndian.AppendUint32(append([]byte(nil), prefix...), dayOf(q.From.UnixMicro()))
	}
	if q.Cursor != "" {
		tail, err := readCursor('v', q.Cursor, 4+16)
		if err != nil {
			return page, err
		}
		if after := append(append(append([]byte(nil), prefix...), tail...), 0); bytes.Compare(after, start) > 0 {
			start = after
		}
	}
	var endDay uint32 = ^uint32(0)
	if !q.To.IsZero() {
		endDay = dayOf(q.To.UnixMicro() - 1)
	}
	limit := store.ClampLimit(q.Limit)
	err := s.db.View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.PrefetchValues = false // in the LSM tree: read in place
		it := txn.NewIterator(opts)
		defer it.Close()
		var last []byte
		for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			k := item.Key()[len(prefix):]
			if len(k) != 4+16 {
				return fmt.Errorf("%w: day key of %d bytes", event.ErrCorrupt, len(k))
			}
			day := binary.BigEndian.Uint32(k)
			if day > endDay {
				break
			}
			if len(page.Visitors) == limit {
				page.Next = makeCursor('v', last)
				break
			}
			vd := store.VisitorDay{Day: time.Unix(int64(day)*86400, 0).UTC()}
			copy(vd.Visitor[:], k[4:])
			err := item.Value(func(v []byte) error {
				if len(v) != 12 {
					return fmt.Errorf("%w: day value of %d bytes", event.ErrCorrupt, len(v))
				}
				vd.LastSeen = time.UnixMicro(int64(binary.BigEndian.Uint64(v))).UTC()
				vd.Count = binary.BigEndian.Uint32(v[8:])
				return nil
			})
			if err != nil {
				return err
			}
			if c, ok := s.dayChanged(item.Key()); ok { // counted in memory, not yet written
				vd.LastSeen, vd.Count = time.UnixMicro(c.last).UTC(), c.count
			}
			page.Visitors = append(page.Visitors, vd)
			last = append(last[:0], k...)
			if len(page.Visitors)%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return nil
	})
	return page, err
}

// UserVisitors lists the visitors stitched to user.
func (s *Store) UserVisitors(ctx context.Context, site, user string) ([]event.VisitorID, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := store.CheckSite(site); err != nil {
		return nil, err
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	prefix := append(appendSitePrefix(nil, pUser, site), user...)
	prefix = append(prefix, 0)
	var out []event.VisitorID
	err := s.db.View(func(txn *bdg.Txn) error {
		eachKey(txn, prefix, func(k []byte) {
			if k = k[len(prefix):]; len(k) == 16 {
				out = append(out, event.VisitorID(k))
			}
		})
		return nil
	})
	return out, err
}
