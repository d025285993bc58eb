package badger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// dayEntry accumulates a group's touchpoints of one visitor on one day.
type dayEntry struct {
	site    string
	visitor event.VisitorID
	day     uint32
	last    int64
	count   uint32
	expires uint64
}

type dayID struct {
	site    string
	visitor event.VisitorID
	day     uint32
}

// Write stores recs and waits until they are durable (or ctx ends). See
// WriteAsync.
func (s *Store) Write(ctx context.Context, recs []store.Record) (store.WriteResult, error) {
	type answer struct {
		res store.WriteResult
		err error
	}
	ch := make(chan answer, 1)
	s.WriteAsync(recs, func(res store.WriteResult, err error) { ch <- answer{res, err} })
	select {
	case a := <-ch:
		if a.err == nil {
			a.err = ctx.Err()
		}
		return a.res, a.err
	case <-ctx.Done():
		return store.WriteResult{}, ctx.Err()
	}
}

// WriteAsync prepares a group under the write lock — dedupe (the Bloom
// filter, the ids of groups still being written, then a read of the id
// index for a maybe), the day-index merge (cached, else read) — and hands
// it to Badger with CommitWith, in order, without waiting: the next group
// is prepared while this one is written and fsynced, and Badger folds
// concurrent commits into one write. The write transactions read nothing,
// so they never conflict. done is called once, from Badger's goroutine,
// when the whole group is durable or has failed.
func (s *Store) WriteAsync(recs []store.Record, done func(store.WriteResult, error)) {
	if err := s.check(); err != nil {
		done(store.WriteResult{}, err)
		return
	}
	if err := store.CheckRecords(recs); err != nil {
		done(store.WriteResult{}, err)
		return
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkDisk(); err != nil {
		done(store.WriteResult{}, err)
		return
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	s.groups++
	w := slabs3{group: s.groups}
	res, entries, units, ids, err := s.prepare(recs, &w)
	if err != nil {
		s.forget(ids, true) // else a retry of these ids would count as a duplicate
		done(store.WriteResult{}, err)
		return
	}
	if len(entries) == 0 {
		done(res, nil)
		return
	}
	txns, err := s.split(entries, units)
	if err != nil {
		s.forget(ids, true)
		done(store.WriteResult{}, err)
		return
	}
	s.pending.Add(1)
	var mu sync.Mutex
	left, firstErr := len(txns), error(nil)
	for _, t := range txns {
		t.CommitWith(func(err error) {
			mu.Lock()
			left--
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("commit: %w", err)
			}
			last, ferr := left == 0, firstErr
			mu.Unlock()
			if last {
				s.forget(ids, ferr != nil)
				if ferr == nil {
					s.ctxsCommitted(w.written)
				}
				if s.syncer != nil && ferr == nil { // durable once the syncer's next fsync is done
					s.syncer.after(func(err error) {
						if err != nil {
							err = fmt.Errorf("commit: %w", err)
						}
						s.pending.Done()
						done(res, err)
					})
					return
				}
				s.pending.Done()
				done(res, ferr)
			}
		})
	}
}

// split puts entries into as few transactions as Badger accepts (usually
// one), in order, never splitting a unit: the entries of one touchpoint
// (trail, id and identity keys) land in one transaction, so that whatever
// part of a failed group was committed holds whole touchpoints with their
// id keys, and a retry neither loses nor doubles one. units are the start
// indexes of the units in entries.
func (s *Store) split(entries []*bdg.Entry, units []int) ([]*bdg.Txn, error) {
	var txns []*bdg.Txn
	fail := func(err error) ([]*bdg.Txn, error) {
		for _, t := range txns {
			t.Discard()
		}
		return nil, fmt.Errorf("set: %w", err)
	}
	set := func(txn *bdg.Txn, es []*bdg.Entry) error {
		for _, e := range es {
			if err := txn.SetEntry(e); err != nil {
				return err
			}
		}
		return nil
	}
	txn := s.db.NewTransaction(true)
	txns = append(txns, txn)
	start := 0 // entries[start:] are in txn
	for u, from := range units {
		to := len(entries)
		if u+1 < len(units) {
			to = units[u+1]
		}
		err := set(txn, entries[from:to])
		if errors.Is(err, bdg.ErrTxnTooBig) && from > start {
			// txn holds part of this unit: rebuild it without, and
			// start the next transaction with the unit.
			txn.Discard()
			txns[len(txns)-1] = s.db.NewTransaction(true)
			if err := set(txns[len(txns)-1], entries[start:from]); err != nil {
				return fail(err)
			}
			txn = s.db.NewTransaction(true)
			txns = append(txns, txn)
			start = from
			err = set(txn, entries[from:to])
		}
		if err != nil {
			return fail(err)
		}
	}
	return txns, nil
}

// prepare dedupes recs and builds their entries, and the start index of
// each unit (a touchpoint's entries, a day entry) in entries; the caller
// holds writeMu.
func (s *Store) prepare(recs []store.Record, w *slabs3) (res store.WriteResult, entries []*bdg.Entry, units []int, ids []string, err error) {
	rtxn := s.db.NewTransaction(false)
	defer rtxn.Discard()
	days := make(map[dayID]*dayEntry)
	var order []*dayEntry
	var ikey, tkey []byte
	for i := range recs {
		r := &recs[i]
		if at, ok := s.erasedAt(r.Site, r.Visitor, tkey); ok && r.Derived <= at {
			res.Erased++ // a re-send of what was erased: accepted, dropped
			continue
		}
		ikey = idKey(ikey[:0], r.Site, r.Visitor, r.ID)
		maybe := s.seen.maybe(ikey)
		var id string
		// inflightMu is held for the map work only, never across a read:
		// the commit callbacks of earlier groups (forget) wait on it.
		s.inflightMu.Lock()
		_, dup := s.inflight[string(ikey)]
		if !dup && !maybe {
			id = string(ikey)
			s.inflight[id] = struct{}{}
		}
		s.inflightMu.Unlock()
		if dup {
			res.Duplicates++
			continue
		}
		if maybe {
			// Read in a transaction begun after the in-flight check: an
			// earlier group's id that left the in-flight set then was
			// committed before, so this read sees it.
			var stored bool
			var err error
			if s.format >= 3 {
				stored, err = s.idInTrail(r)
			} else {
				stored, err = s.idStored(ikey)
			}
			if err != nil {
				return res, nil, nil, ids, err
			}
			if stored {
				res.Duplicates++
				continue
			}
			id = string(ikey)
			s.inflightMu.Lock()
			s.inflight[id] = struct{}{}
			s.inflightMu.Unlock()
		}
		s.seen.add(ikey)
		ids = append(ids, id)
		exp := s.expiresAt(r.Derived)
		units = append(units, len(entries))
		val := r.Value
		if s.format >= 3 && r.Derived >= minDerived { // (an earlier time's key would sort among the contexts: kept whole)
			var ce *bdg.Entry
			if val, ce, err = s.value3(rtxn, r, exp, w); err != nil {
				return res, nil, nil, ids, err
			}
			if ce != nil { // before the touchpoint, in its unit: never one without the other
				entries = append(entries, ce)
			}
		}
		entries = append(entries, entry(trailKey(make([]byte, 0, len(r.Site)+3+16+suffixLen), r.Site, r.Visitor, r.Derived, r.Seq, r.ID), val, exp))
		if s.format < 3 { // format 3 dedupes by the trail keys: no id index
			entries = append(entries, entry([]byte(id), nil, exp))
		}
		if r.User != "" {
			entries = append(entries, entry(userKey(nil, r.Site, r.User, r.Visitor), nil, exp),
				entry(userRevKey(nil, r.Site, r.Visitor, r.User), nil, exp))
		}
		did := dayID{r.Site, r.Visitor, dayOf(r.Derived)}
		d := days[did]
		if d == nil {
			d = &dayEntry{site: r.Site, visitor: r.Visitor, day: did.day}
			days[did] = d
			order = append(order, d)
		}
		d.last = max(d.last, r.Derived)
		d.count++
		d.expires = max(d.expires, exp)
		res.Stored++
	}
	for _, d := range order {
		e, err := s.mergeDay(rtxn, d)
		if err != nil {
			return res, nil, nil, ids, err
		}
		if e != nil {
			units = append(units, len(entries))
			entries = append(entries, e)
		}
	}
	for _, ev := range s.takeEvicted() { // changed entries the cache let go
		units = append(units, len(entries))
		entries = append(entries, entry([]byte(ev.key), dayValue(ev.v), ev.v.expires))
	}
	return res, entries, units, ids, nil
}

// idStored reads the id index for a Bloom filter's "maybe".
func (s *Store) idStored(ikey []byte) (bool, error) {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	_, err := txn.Get(ikey)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bdg.ErrKeyNotFound):
		return false, nil
	}
	return false, fmt.Errorf("dedupe lookup: %w", err)
}

// idInTrail reads whether r's id is stored, for a Bloom filter's "maybe"
// in format 3, which has no id index: the trail key ends with the id's
// hash, so a re-send with the same derived time and seq (the usual retry)
// is one point read, and anything else (a false positive of the filter,
// about 0.1 %, or a re-send whose clock correction moved it) a key-only scan
// of the visitor's trail.
func (s *Store) idInTrail(r *store.Record) (bool, error) {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	k := trailKey(nil, r.Site, r.Visitor, r.Derived, r.Seq, r.ID)
	_, err := txn.Get(k)
	switch {
	case err == nil:
		return true, nil
	case !errors.Is(err, bdg.ErrKeyNotFound):
		return false, fmt.Errorf("dedupe lookup: %w", err)
	}
	prefix := k[:len(k)-suffixLen]
	hash := k[len(k)-8:]
	found := false
	eachKey(txn, prefix, func(k []byte) {
		if len(k) == len(prefix)+suffixLen && string(k[len(k)-8:]) == string(hash) {
			found = true
		}
	})
	return found, nil
}

// forget drops a group's ids from the in-flight set once it is written;
// when it failed, the day cache may hold counts that never landed.
func (s *Store) forget(ids []string, failed bool) {
	s.inflightMu.Lock()
	for _, id := range ids {
		delete(s.inflight, id)
	}
	s.inflightMu.Unlock()
	if failed {
		s.dropDays()
		s.ctxs.Purge() // contexts it was to write may be missing
	}
}

// mergeDay adds a group's counts to the visitor's day entry and returns
// the entry to write with the group, or nil. The entries of recently active
// visitors are cached — including what groups still being written added —
// so a visitor's next touchpoints that day update the cache only (see
// days.go for when it is written). A visitor-day not in the cache is read
// back (this store is the only writer; erase and a failed commit drop the
// cache) and written with this group.
func (s *Store) mergeDay(rtxn *bdg.Txn, d *dayEntry) (*bdg.Entry, error) {
	k := dayKey(nil, d.site, d.day, d.visitor)
	if c, ok := s.days.Get(string(k)); ok {
		s.days.Add(string(k), dayCached{last: max(d.last, c.last), count: d.count + c.count, expires: max(d.expires, c.expires), dirty: true})
		return nil, nil
	}
	if c, ok := s.untakeEvicted(string(k)); ok { // let go by the cache, not yet written: newer than the disk
		c = dayCached{last: max(d.last, c.last), count: d.count + c.count, expires: max(d.expires, c.expires)}
		s.days.Add(string(k), c)
		return entry(k, dayValue(c), c.expires), nil
	}
	item, err := rtxn.Get(k)
	switch {
	case err == nil:
		err = item.Value(func(v []byte) error {
			if len(v) == 12 {
				d.last = max(d.last, int64(binary.BigEndian.Uint64(v)))
				d.count += binary.BigEndian.Uint32(v[8:])
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read day index: %w", err)
		}
		d.expires = max(d.expires, item.ExpiresAt())
	case !errors.Is(err, bdg.ErrKeyNotFound):
		return nil, fmt.Errorf("read day index: %w", err)
	}
	c := dayCached{last: d.last, count: d.count, expires: d.expires}
	s.days.Add(string(k), c)
	return entry(k, dayValue(c), d.expires), nil
}

// entry is a Badger entry expiring at exp (Unix seconds).
func entry(k, v []byte, exp uint64) *bdg.Entry {
	e := bdg.NewEntry(k, v)
	e.ExpiresAt = exp
	return e
}
