package badger

import (
	"context"
	"fmt"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// EraseVisitor deletes every key of a visitor: its trail, id index, day
// index entries and identity entries (both directions). It is atomic with
// respect to writes: it waits for the groups already handed to Badger and
// holds the next ones back until it is done, so every touchpoint written
// before it is erased and none written after it is.
func (s *Store) EraseVisitor(ctx context.Context, site string, v event.VisitorID) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := store.CheckSite(site); err != nil {
		return err
	}
	// Under writeMu no group is prepared meanwhile, so the day cache
	// cannot re-create the erased day entries with stale counts. (Badger's
	// read timestamp already waits for commits in flight; waiting for them
	// here as well keeps their callbacks ahead of the erase.)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.pending.Wait()
	var keys [][]byte
	days := map[uint32]bool{}
	err := s.db.View(func(txn *bdg.Txn) error {
		collect := func(prefix []byte, each func(k []byte)) {
			eachKey(txn, prefix, func(k []byte) {
				k = append([]byte(nil), k...)
				keys = append(keys, k)
				if each != nil {
					each(k[len(prefix):])
				}
			})
		}
		collect(trailPrefix(nil, site, v), func(tail []byte) {
			if len(tail) == suffixLen {
				derived, _ := parseSuffix(tail)
				days[dayOf(derived)] = true
			}
		})
		collect(append(appendSitePrefix(nil, pID, site), v[:]...), nil)
		collect(append(appendSitePrefix(nil, pUserRev, site), v[:]...), func(user []byte) {
			keys = append(keys, userKey(nil, site, string(user), v))
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase %s: %w", v, err)
	}
	for d := range days {
		keys = append(keys, dayKey(nil, site, d, v))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return fmt.Errorf("erase %s: %w", v, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("erase %s: %w", v, err)
	}
	s.days.Purge() // the erased visitor's day entries are gone
	return nil
}
