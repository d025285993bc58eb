package badger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

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

// Write stores recs in as few transactions as Badger allows (one unless the
// group exceeds a transaction's size), skipping duplicates.
func (s *Store) Write(ctx context.Context, recs []store.Record) (store.WriteResult, error) {
	var res store.WriteResult
	if err := s.check(); err != nil {
		return res, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.pendingDays = s.pendingDays[:0]
	seen := make(map[string]struct{}, len(recs))
	days := make(map[dayID]*dayEntry)
	var order []*dayEntry
	var key, ikey []byte
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	// set writes one entry, committing and starting a new transaction when
	// this one is full.
	set := func(e *bdg.Entry) error {
		err := txn.SetEntry(e)
		if errors.Is(err, bdg.ErrTxnTooBig) {
			if err = txn.Commit(); err != nil {
				return fmt.Errorf("commit: %w", err)
			}
			txn = s.db.NewTransaction(true)
			err = txn.SetEntry(e)
		}
		return err
	}
	for i := range recs {
		r := &recs[i]
		if !store.ValidSite(r.Site) || r.ID == "" {
			return res, fmt.Errorf("record %d: bad site %q or empty id", i, r.Site)
		}
		ikey = idKey(ikey[:0], r.Site, r.Visitor, r.ID)
		if _, dup := seen[string(ikey)]; dup {
			res.Duplicates++
			continue
		}
		if s.seen.maybe(ikey) {
			_, err := txn.Get(ikey)
			switch {
			case err == nil:
				res.Duplicates++
				continue
			case !errors.Is(err, bdg.ErrKeyNotFound):
				return res, fmt.Errorf("dedupe lookup: %w", err)
			}
		}
		s.seen.add(ikey)
		seen[string(ikey)] = struct{}{}
		exp := s.expiresAt(r.Derived)
		key = trailKey(key[:0], r.Site, r.Visitor, r.Derived, r.Seq)
		// Badger keeps the slices until commit: give it its own copies.
		tk := append([]byte(nil), key...)
		if err := set(entry(tk, r.Value, exp)); err != nil {
			return res, fmt.Errorf("set trail: %w", err)
		}
		if err := set(entry(append([]byte(nil), ikey...), nil, exp)); err != nil {
			return res, fmt.Errorf("set id: %w", err)
		}
		if r.User != "" {
			if err := set(entry(userKey(nil, r.Site, r.User, r.Visitor), nil, exp)); err != nil {
				return res, fmt.Errorf("set user: %w", err)
			}
			if err := set(entry(userRevKey(nil, r.Site, r.Visitor, r.User), nil, exp)); err != nil {
				return res, fmt.Errorf("set user: %w", err)
			}
		}
		id := dayID{r.Site, r.Visitor, dayOf(r.Derived)}
		d := days[id]
		if d == nil {
			d = &dayEntry{site: r.Site, visitor: r.Visitor, day: id.day}
			days[id] = d
			order = append(order, d)
		}
		d.last = max(d.last, r.Derived)
		d.count++
		d.expires = max(d.expires, exp)
		res.Stored++
	}
	for _, d := range order {
		if err := s.mergeDay(txn, set, d); err != nil {
			return res, err
		}
	}
	err := txn.Commit()
	// Only committed day entries may be cached.
	for _, d := range s.pendingDays {
		if err == nil {
			s.days.Add(d.key, d)
		}
	}
	s.pendingDays = s.pendingDays[:0]
	if err != nil {
		return res, fmt.Errorf("commit: %w", err)
	}
	return res, ctx.Err()
}

// dayCached is a committed day-index entry.
type dayCached struct {
	key     string
	last    int64
	count   uint32
	expires uint64
}

// mergeDay adds a group's counts to the visitor's day entry. The entries
// of recently active visitors are cached, so a visitor's next touchpoints
// that day update it without reading it back (this store is the only
// writer; erase purges the cache).
func (s *Store) mergeDay(txn *bdg.Txn, set func(*bdg.Entry) error, d *dayEntry) error {
	k := dayKey(nil, d.site, d.day, d.visitor)
	if c, ok := s.days.Get(string(k)); ok {
		d.last, d.count, d.expires = max(d.last, c.last), d.count+c.count, max(d.expires, c.expires)
	} else {
		item, err := txn.Get(k)
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
				return fmt.Errorf("read day index: %w", err)
			}
			d.expires = max(d.expires, item.ExpiresAt())
		case !errors.Is(err, bdg.ErrKeyNotFound):
			return fmt.Errorf("read day index: %w", err)
		}
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 12), uint64(d.last))
	v = binary.BigEndian.AppendUint32(v, d.count)
	if err := set(entry(k, v, d.expires)); err != nil {
		return fmt.Errorf("set day index: %w", err)
	}
	s.pendingDays = append(s.pendingDays, dayCached{key: string(k), last: d.last, count: d.count, expires: d.expires})
	return nil
}

// entry is a Badger entry expiring at exp (Unix seconds).
func entry(k, v []byte, exp uint64) *bdg.Entry {
	e := bdg.NewEntry(k, v)
	e.ExpiresAt = exp
	return e
}
