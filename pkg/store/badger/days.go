package badger

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// The day index (v/<site>/<day>/<visitor> → last seen, count) is written
// once when a visitor is first seen on a day, in the same group as that
// touchpoint, so a visitor active on a day is always found for that day.
// Its count and last-seen time then change in memory (the day cache) and
// reach the disk in bulk: every dayFlushEvery, when the entry leaves the
// cache, before an erase or a backup, and at Close. After a crash (not a
// graceful stop) the count and last-seen of the last dayFlushEvery may lag
// behind the trail; which visitors were active when never does. This saves
// one key of the three an event cost in most groups.

// dayFlushEvery is how often the changed day entries are written.
const dayFlushEvery = time.Minute

// dayCacheSize bounds the day cache: about 100 bytes an entry (a
// variable for the tests).
var dayCacheSize = 1 << 18

// dayCached is a day-index entry as the store knows it; dirty says it
// changed since it was last written.
type dayCached struct {
	last    int64
	count   uint32
	expires uint64
	dirty   bool
}

// dayEviction is a changed entry the cache let go before it was written.
type dayEviction struct {
	key string
	v   dayCached
}

// dayState holds what the day cache let go and whether it is being
// dropped; its mutex is held only around that.
type dayState struct {
	mu      sync.Mutex
	evicted map[string]dayCached
	drop    bool // Purge under way: its evictions are forgotten
}

func (s *Store) newDayCache() (*lru.Cache[string, dayCached], error) {
	return lru.NewWithEvict(dayCacheSize, func(k string, v dayCached) {
		if !v.dirty {
			return
		}
		s.dayState.mu.Lock()
		if !s.dayState.drop {
			if s.dayState.evicted == nil {
				s.dayState.evicted = map[string]dayCached{}
			}
			s.dayState.evicted[k] = v // a later eviction of the key counts more
		}
		s.dayState.mu.Unlock()
	})
}

// dropDays forgets the day cache, changed entries included (their counts
// are then what the disk holds): after a restore, an erase or a failed
// commit.
func (s *Store) dropDays() {
	s.dayState.mu.Lock()
	s.dayState.drop = true
	s.dayState.mu.Unlock()
	s.days.Purge()
	s.dayState.mu.Lock()
	s.dayState.drop = false
	s.dayState.evicted = nil
	s.dayState.mu.Unlock()
}

// takeEvicted returns the changed entries the cache let go since the last
// call.
func (s *Store) takeEvicted() []dayEviction {
	s.dayState.mu.Lock()
	defer s.dayState.mu.Unlock()
	ev := make([]dayEviction, 0, len(s.dayState.evicted))
	for k, v := range s.dayState.evicted {
		ev = append(ev, dayEviction{k, v})
	}
	s.dayState.evicted = nil
	return ev
}

// untakeEvicted takes one key's entry from the ones the cache let go.
func (s *Store) untakeEvicted(k string) (dayCached, bool) {
	s.dayState.mu.Lock()
	defer s.dayState.mu.Unlock()
	c, ok := s.dayState.evicted[k]
	if ok {
		delete(s.dayState.evicted, k)
	}
	return c, ok
}

// dayChanged returns the day entry of key k as counted in memory when it
// changed since it was written: what a read of the day index answers.
func (s *Store) dayChanged(k []byte) (dayCached, bool) {
	if c, ok := s.days.Peek(string(k)); ok && c.dirty {
		return c, true
	}
	s.dayState.mu.Lock()
	defer s.dayState.mu.Unlock()
	c, ok := s.dayState.evicted[string(k)]
	return c, ok
}

func dayValue(c dayCached) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 12), uint64(c.last))
	return binary.BigEndian.AppendUint32(v, c.count)
}

// flushDays writes every changed day entry and marks it written. The
// caller holds writeMu and dbMu's read lock, with no group pending.
func (s *Store) flushDays() error {
	if s.readOnly.Load() {
		return nil
	}
	var dirty []dayEviction
	for _, k := range s.days.Keys() {
		if c, ok := s.days.Peek(k); ok && c.dirty {
			dirty = append(dirty, dayEviction{k, c})
		}
	}
	dirty = append(dirty, s.takeEvicted()...)
	if len(dirty) == 0 {
		return nil
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, d := range dirty {
		if err := wb.SetEntry(entry([]byte(d.key), dayValue(d.v), d.v.expires)); err != nil {
			return fmt.Errorf("write the day index: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("write the day index: %w", err)
	}
	for _, d := range dirty {
		if c, ok := s.days.Peek(d.key); ok && c == d.v {
			c.dirty = false
			s.days.Add(d.key, c)
		}
	}
	return nil
}

// syncDays is flushDays for callers outside the write path: it takes the
// locks and waits for the groups being written.
func (s *Store) syncDays() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.pending.Wait()
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.closed.Load() {
		return nil
	}
	return s.flushDays()
}

// flushDaysEvery writes the changed day entries every dayFlushEvery until
// the store closes.
func (s *Store) flushDaysEvery() {
	t := time.NewTicker(dayFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if err := s.syncDays(); err != nil {
			s.log.Warn("day index not written; tried again later", "err", err)
		}
	}
}
