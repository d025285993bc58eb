package badger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cespare/xxhash/v2"
	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// formatKey holds the store's format version (a big-endian uint32).
// Format 1 (no record; releases up to 7d0bccf) ended trail keys with the
// derived time and seq only, so two events of a visitor with equal time and
// seq overwrote each other; format 2 adds the id hash. Format 3 keeps the
// device, place and page origin of a visitor's touchpoints once, in context
// records, and URLs relative to that origin (format3.go).
var formatKey = []byte("s/format")

const formatVersion = 3

// FormatVersion is the store format this release writes (migrating older
// stores at Open): benchmarks key cached stores by it.
const FormatVersion = formatVersion

// migrate brings the store to formatVersion at Open, before anything reads
// or writes: it rewrites every format-1 trail key with its id hash (the id
// is read from the value), keeping its expiry. It is idempotent, so a crash
// part-way is finished by the next Open.
func migrate(db *bdg.DB, log *slog.Logger) error {
	version, err := readFormat(db)
	if err != nil {
		return err
	}
	switch {
	case version == formatVersion:
		return nil
	case version > formatVersion:
		return fmt.Errorf("store format %d is newer than this release reads (%d): upgrade touchtrail", version, formatVersion)
	}
	moved, err := migrateTrailKeys(db)
	if err != nil {
		return fmt.Errorf("migrate store format %d → %d: %w", version, formatVersion, err)
	}
	values, ctxs, err := migrateValues(db)
	if err != nil {
		return fmt.Errorf("migrate store format %d → %d: %w", version, formatVersion, err)
	}
	// Format 3 dedupes by the trail keys: the id index goes.
	if err := db.DropPrefix([]byte{pID, '/'}); err != nil {
		return fmt.Errorf("migrate store format %d → %d: drop the id index: %w", version, formatVersion, err)
	}
	if moved > 0 || values > 0 {
		log.Info("store migrated", "from_format", version, "to_format", formatVersion, "trail_keys", moved, "values", values, "contexts", ctxs)
	}
	return writeFormat(db)
}

// migrateStop, when set (by tests), stops migrateValues after the visitors
// for which it returns true, as a crash would, once what it wrote so far is
// committed.
var migrateStop func(visitors int) bool

var errMigrationStopped = errors.New("migration stopped (test)")

// migrateValues rewrites the touchpoint values of formats 1 and 2 (event
// encodings) in format 3, visitor by visitor, writing each visitor's new
// context records before the touchpoints that name them (a Badger write
// batch commits in order), so a crash part-way leaves touchpoints of either
// format that all read; the next run skips what is done. It returns how
// many values and context records it wrote.
func migrateValues(db *bdg.DB) (values, ctxs int, err error) {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	type need struct {
		val []byte
		sum uint64
		exp uint64 // 0: never expires
	}
	visitors := 0
	var (
		cur    []byte                   // t/<site>/<visitor> of the visitor being migrated
		stored = map[uint32]ctxCached{} // its context records on disk
		needed = map[uint32]*need{}     // the ones its rewritten touchpoints name
		tps    []*bdg.Entry
	)
	flush := func() error {
		for h, n := range needed {
			if c, ok := stored[h]; ok && c.sum == n.sum && (c.exp == 0 || n.exp != 0 && c.exp >= n.exp) {
				continue
			}
			k := binary.BigEndian.AppendUint32(append(append(make([]byte, 0, len(cur)+ctxSuffixLen), cur...), 0), h)
			e := bdg.NewEntry(k, n.val)
			e.ExpiresAt = n.exp
			if err := wb.SetEntry(e); err != nil {
				return err
			}
			ctxs++
		}
		for _, e := range tps {
			if err := wb.SetEntry(e); err != nil {
				return err
			}
		}
		values += len(tps)
		clear(stored)
		clear(needed)
		tps = tps[:0]
		if cur == nil {
			return nil // before the first visitor
		}
		visitors++
		if migrateStop != nil && migrateStop(visitors) {
			if err := wb.Flush(); err != nil { // what a crash leaves: what was committed so far
				return err
			}
			return errMigrationStopped
		}
		return nil
	}
	prefix := []byte{pTrail, '/'}
	err = db.View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			k := item.Key()
			slash := bytes.IndexByte(k[2:], '/') // site ids hold no '/'
			if slash < 0 || len(k) < 2+slash+1+16 {
				continue
			}
			vp := k[:2+slash+1+16] // t/<site>/<visitor>
			tail := k[len(vp):]
			if !bytes.Equal(vp, cur) {
				if err := flush(); err != nil {
					return err
				}
				cur = append(cur[:0], vp...)
			}
			if isCtxSuffix(tail) {
				h := binary.BigEndian.Uint32(tail[1:])
				err := item.Value(func(v []byte) error {
					stored[h] = ctxCached{sum: xxhash.Sum64(v), exp: item.ExpiresAt()}
					return nil
				})
				if err != nil {
					return err
				}
				continue
			}
			if len(tail) != suffixLen {
				continue
			}
			derived, seq := parseSuffix(tail)
			err := item.Value(func(v []byte) error {
				if len(v) > 0 && v[0] == valueFormat3 {
					return nil // done by an earlier run
				}
				sp, ok := cut3(nil, nil, v, derived, seq, false)
				if !ok {
					return nil // kept as it is: reads take it
				}
				if sp.ctx != nil {
					h := sp.h()
					c, onDisk := stored[h]
					n := needed[h]
					if onDisk && c.sum != sp.sum || n != nil && n.sum != sp.sum {
						sp, _ = cut3(nil, nil, v, derived, seq, true) // the key is another context's
					} else if n == nil {
						needed[h] = &need{val: sp.ctx, sum: sp.sum, exp: item.ExpiresAt()}
					} else if exp := item.ExpiresAt(); exp == 0 || n.exp != 0 && exp > n.exp {
						n.exp = exp
					}
				}
				e := bdg.NewEntry(item.KeyCopy(nil), sp.val)
				e.ExpiresAt = item.ExpiresAt()
				tps = append(tps, e)
				return nil
			})
			if err != nil {
				return fmt.Errorf("touchpoint %x: %w", k, err)
			}
		}
		return flush()
	})
	if err != nil {
		return values, ctxs, err
	}
	return values, ctxs, wb.Flush()
}

func writeFormat(db *bdg.DB) error {
	err := db.Update(func(txn *bdg.Txn) error {
		return txn.Set(formatKey, binary.BigEndian.AppendUint32(nil, formatVersion))
	})
	if err != nil {
		return fmt.Errorf("write store format: %w", err)
	}
	return nil
}

func readFormat(db *bdg.DB) (uint32, error) {
	var version uint32 = 1
	err := db.View(func(txn *bdg.Txn) error {
		item, err := txn.Get(formatKey)
		if errors.Is(err, bdg.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 4 {
				return fmt.Errorf("%w: format record of %d bytes", event.ErrCorrupt, len(v))
			}
			version = binary.BigEndian.Uint32(v)
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("read store format: %w", err)
	}
	return version, nil
}

// migrateTrailKeys rewrites the format-1 trail keys; it returns how many.
func migrateTrailKeys(db *bdg.DB) (int, error) {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	moved := 0
	prefix := []byte{pTrail, '/'}
	err := db.View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		var tp event.Touchpoint
		for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			k := item.Key()
			slash := bytes.IndexByte(k[2:], '/') // site ids hold no '/'
			if slash < 0 || len(k)-(2+slash+1) != 16+v1SuffixLen {
				continue // already format 2
			}
			var nk []byte
			err := item.Value(func(v []byte) error {
				if err := event.DecodeBinary(v, &tp); err != nil {
					return fmt.Errorf("touchpoint %x: %w", k, err)
				}
				nk = binary.BigEndian.AppendUint64(append(make([]byte, 0, len(k)+8), k...), idHash(tp.ID))
				e := bdg.NewEntry(nk, append([]byte(nil), v...))
				e.ExpiresAt = item.ExpiresAt()
				return wb.SetEntry(e)
			})
			if err != nil {
				return err
			}
			if err := wb.Delete(item.KeyCopy(nil)); err != nil {
				return err
			}
			moved++
		}
		return nil
	})
	if err != nil {
		return moved, err
	}
	return moved, wb.Flush()
}
