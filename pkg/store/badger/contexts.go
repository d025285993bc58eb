package badger

import (
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/store"
)

// The write side of format 3 (format3.go): which context records a group
// writes, remembered in memory as the day index's entries are (days.go).

// minDerived is the earliest derived time whose touchpoint is cut into a
// context and the rest: an earlier one's key starts with 0x00, as context
// keys do, and may sort before them, so its value is kept whole (it needs
// no context to be read).
const minDerived = -1<<63 + 1<<56

// ctxSlack is how long a context record is kept past the expiry of the
// touchpoint that wrote it (Unix seconds): it is written again only when a
// later touchpoint would outlive it, about once a day for a visitor who
// comes back every day.
const ctxSlack = 24 * 3600

// ctxCached is a context record the store wrote or read: the xxhash64 of
// its value (its key holds the top 32 bits), its expiry, and whether it is
// known to be on disk: one written by a group still being committed is
// written again by the next group that needs it, so that a group never
// counts on a record that a failed group was to write.
type ctxCached struct {
	sum       uint64
	exp       uint64
	committed bool
	group     uint64 // the group that last wrote it
}

// ctxWrite is a context record a group writes: its key and expiry.
type ctxWrite struct {
	key string
	exp uint64
}

// ctxsCommitted marks a committed group's context records as on disk
// (unless a later group wrote one again meanwhile, with a later expiry).
func (s *Store) ctxsCommitted(ws []ctxWrite) {
	for _, w := range ws {
		if c, ok := s.ctxs.Peek(w.key); ok && c.exp == w.exp && !c.committed {
			c.committed = true
			s.ctxs.Add(w.key, c)
		}
	}
}

// ctxCacheSize bounds the context cache: about 100 bytes an entry.
const ctxCacheSize = 1 << 18

// slabs3 hold a group's format-3 values and context records: Badger keeps
// the slices until the group is written, so they are only appended to.
type slabs3 struct {
	vals, ctxs []byte
	written    []ctxWrite // the context records of the group
	group      uint64     // the group's number (Store.groups)
}

// value3 returns the format-3 value of r and, when its context record
// must be written with it, the record's entry. A context is looked up in
// memory (the context cache), else read once from the store; a context
// whose key is taken by another one (a 32-bit hash collision within one
// visitor) is kept in the value instead. Called under writeMu.
func (s *Store) value3(rtxn *bdg.Txn, r *store.Record, exp uint64, w *slabs3) ([]byte, *bdg.Entry, error) {
	sp, ok := cut3(w.vals, w.ctxs, r.Value, r.Derived, r.Seq, false)
	if !ok {
		return r.Value, nil, nil // read back as it came (DecodeBinary says what is wrong)
	}
	w.vals, w.ctxs = sp.dst, sp.cdst
	if sp.ctx == nil {
		return sp.val, nil, nil
	}
	k := ctxKey(make([]byte, 0, len(r.Site)+3+16+ctxSuffixLen), r.Site, r.Visitor, sp.h())
	c, cached := s.ctxs.Get(string(k))
	if !cached {
		item, err := rtxn.Get(k)
		switch {
		case err == nil:
			err = item.Value(func(v []byte) error {
				c = ctxCached{sum: xxhash.Sum64(v), exp: item.ExpiresAt(), committed: true}
				return nil
			})
			if err != nil {
				return nil, nil, fmt.Errorf("read context: %w", err)
			}
			cached = true
			s.ctxs.Add(string(k), c)
		case !errors.Is(err, bdg.ErrKeyNotFound):
			return nil, nil, fmt.Errorf("read context: %w", err)
		}
	}
	if cached && c.sum != sp.sum {
		sp, _ = cut3(w.vals, w.ctxs, r.Value, r.Derived, r.Seq, true)
		w.vals = sp.dst
		return sp.val, nil, nil
	}
	if cached && (c.committed || c.group == w.group) && c.exp >= exp {
		return sp.val, nil, nil // on disk, or written by this group
	}
	c = ctxCached{sum: sp.sum, exp: max(c.exp, exp+ctxSlack), group: w.group}
	s.ctxs.Add(string(k), c)
	w.written = append(w.written, ctxWrite{string(k), c.exp})
	return sp.val, entry(k, sp.ctx, c.exp), nil
}
