package badger

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Erase, and what it guarantees:
//
//   - Every touchpoint of the visitor written before the erase is gone, with
//     its id-index, day-index and identity keys, and no read sees any of it
//     once EraseVisitor returns.
//   - It is removed from the files themselves before EraseVisitor returns:
//     Badger's DropPrefix flushes the memtables (whose write-ahead files
//     are then deleted) without the erased keys and rewrites the tables
//     that hold them. A reader that still iterates an old table delays that
//     table's deletion until it finishes (bounded by the query deadline).
//   - A tombstone e/<site>/<visitor> holds the erase time: an event of the
//     visitor dated at or before it (a browser outbox or an SDK retry
//     re-sending what was erased) is accepted and dropped (WriteResult.Erased),
//     so the client stops retrying and the visitor does not come back.
//     Events dated after the erase start a new trail. The tombstone holds
//     only the visitor id and a time, and expires once no event it could
//     refuse is within the retention.

// tombstoneKey is e/<site>/<visitor>.
func tombstoneKey(dst []byte, site string, v event.VisitorID) []byte {
	return append(appendSitePrefix(dst, pErased, site), v[:]...)
}

// loadTombstones reads every tombstone into memory (erasures are rare).
func loadTombstones(db *bdg.DB) (map[string]int64, error) {
	out := map[string]int64{}
	prefix := []byte{pErased, '/'}
	err := db.View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error {
				if len(v) != 8 {
					return fmt.Errorf("%w: tombstone of %d bytes", event.ErrCorrupt, len(v))
				}
				out[string(item.Key())] = int64(binary.BigEndian.Uint64(v))
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load tombstones: %w", err)
	}
	return out, nil
}

// EraseVisitor erases a visitor for good (see "Erase" above). It is atomic
// with respect to writes: it waits for the groups already handed to Badger
// and holds the next ones back until it is done, so every touchpoint written
// before it is erased and none written after it is.
func (s *Store) EraseVisitor(ctx context.Context, site string, v event.VisitorID) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := store.CheckSite(site); err != nil {
		return err
	}
	return s.erase(ctx, site, []event.VisitorID{v}, nil, time.Now())
}

// EraseUser erases every visitor stitched to user, as EraseVisitor does,
// and the user's identity keys; it returns the visitors erased.
func (s *Store) EraseUser(ctx context.Context, site, user string) ([]event.VisitorID, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := store.CheckSite(site); err != nil {
		return nil, err
	}
	if user == "" {
		return nil, fmt.Errorf("%w: empty user id", store.ErrInvalidKey)
	}
	vs, err := s.UserVisitors(ctx, site, user)
	if err != nil {
		return nil, err
	}
	userPrefix := append(append(appendSitePrefix(nil, pUser, site), user...), 0)
	return vs, s.erase(ctx, site, vs, [][]byte{userPrefix}, time.Now())
}

// EraseVisitorsAt erases vs as EraseVisitor does, with the tombstones
// dated at rather than now: a cluster store applying an erasure from the
// stream (live, or replaying it later) drops exactly the touchpoints dated
// at or before the erase, whenever it applies it. A visitor's tombstone is
// never moved back in time.
func (s *Store) EraseVisitorsAt(ctx context.Context, site string, vs []event.VisitorID, at time.Time) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := store.CheckSite(site); err != nil {
		return err
	}
	return s.erase(ctx, site, vs, nil, at)
}

func (s *Store) erase(ctx context.Context, site string, vs []event.VisitorID, extra [][]byte, now time.Time) error {
	// Under writeMu no group is prepared meanwhile, so the day cache
	// cannot re-create the erased day entries with stale counts, and the
	// tombstones are in place before the next group is deduped.
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.pending.Wait()
	if err := s.checkDisk(); err != nil {
		return fmt.Errorf("erase: %w", err) // a flush could not be written
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := s.flushDays(); err != nil { // the cache is dropped below
		return fmt.Errorf("erase: %w", err)
	}
	prefixes := extra
	err := s.db.View(func(txn *bdg.Txn) error {
		for _, v := range vs {
			days := map[uint32]bool{}
			tp := trailPrefix(nil, site, v)
			eachKey(txn, tp, func(k []byte) {
				if tail := k[len(tp):]; len(tail) == suffixLen {
					derived, _ := parseSuffix(tail)
					days[dayOf(derived)] = true
				}
			})
			rev := append(appendSitePrefix(nil, pUserRev, site), v[:]...)
			eachKey(txn, rev, func(k []byte) {
				prefixes = append(prefixes, userKey(nil, site, string(k[len(rev):]), v))
			})
			prefixes = append(prefixes, tp, rev, append(appendSitePrefix(nil, pID, site), v[:]...))
			for d := range days {
				prefixes = append(prefixes, dayKey(nil, site, d, v))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The tombstones first, durable: a crash after them leaves the
	// visitor's data readable until the erase is repeated, never a
	// visitor that re-sent events can bring back.
	exp := uint64(time.Now().Add(s.retention + 48*time.Hour).Unix())
	tombs := make([]string, len(vs))
	at := make([]int64, len(vs))
	err = s.db.Update(func(txn *bdg.Txn) error {
		for i, v := range vs {
			k := tombstoneKey(nil, site, v)
			tombs[i], at[i] = string(k), now.UnixMicro()
			if old, ok := s.erased[tombs[i]]; ok && old > at[i] {
				at[i] = old
			}
			e := bdg.NewEntry(k, binary.BigEndian.AppendUint64(nil, uint64(at[i])))
			e.ExpiresAt = exp
			if err := txn.SetEntry(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase: tombstone: %w", err)
	}
	for i, k := range tombs {
		s.erased[k] = at[i]
	}
	if s.dir != "" {
		if err := s.db.Sync(); err != nil {
			return fmt.Errorf("erase: sync tombstone: %w", err)
		}
	}
	// DropPrefix removes the keys from the memtables and from every table
	// file; nothing is left behind delete markers.
	if err := s.db.DropPrefix(prefixes...); err != nil {
		return fmt.Errorf("erase: drop: %w", err)
	}
	s.dropDays()   // the erased visitors' day entries are gone (the others were written above)
	s.ctxs.Purge() // and their contexts
	return nil
}

// erasedAt returns the erase time of a visitor (Unix µs), if it was erased
// within the retention. Called under writeMu.
func (s *Store) erasedAt(site string, v event.VisitorID, buf []byte) (int64, bool) {
	if len(s.erased) == 0 {
		return 0, false
	}
	at, ok := s.erased[string(tombstoneKey(buf[:0], site, v))]
	return at, ok
}
