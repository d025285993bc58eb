package badger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// formatKey holds the store's format version (a big-endian uint32).
// Format 1 (no record; releases up to 7d0bccf) ended trail keys with the
// derived time and seq only, so two events of a visitor with equal time and
// seq overwrote each other; format 2 adds the id hash.
var formatKey = []byte("s/format")

const formatVersion = 2

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
	if moved > 0 {
		log.Info("store migrated", "from_format", version, "to_format", formatVersion, "trail_keys", moved)
	}
	return writeFormat(db)
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
