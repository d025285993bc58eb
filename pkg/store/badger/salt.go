package badger

import (
	"encoding/binary"
	"errors"
	"fmt"

	bdg "github.com/dgraph-io/badger/v4"
)

// DailySalt returns the cookieless salt of day (days since the Unix epoch),
// storing fresh when the day has none yet, and deletes the salts of earlier
// days: once a day is over its visitor ids can no longer be recomputed.
func (s *Store) DailySalt(day int64, fresh []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := s.checkDisk(); err != nil {
		return nil, fmt.Errorf("daily salt: %w", err)
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	key := binary.BigEndian.AppendUint64([]byte(saltPrefx), uint64(day))
	var salt []byte
	err := s.db.Update(func(txn *bdg.Txn) error {
		item, err := txn.Get(key)
		switch {
		case err == nil:
			if salt, err = item.ValueCopy(nil); err != nil {
				return err
			}
		case errors.Is(err, bdg.ErrKeyNotFound):
			salt = append([]byte(nil), fresh...)
			e := bdg.NewEntry(key, salt)
			e.ExpiresAt = uint64((day + 2) * 86400) // gone the day after, even if never rotated
			if err := txn.SetEntry(e); err != nil {
				return err
			}
		default:
			return err
		}
		// Delete older salts.
		var old [][]byte
		eachKey(txn, []byte(saltPrefx), func(k []byte) {
			if len(k) == len(key) && int64(binary.BigEndian.Uint64(k[len(saltPrefx):])) < day {
				old = append(old, append([]byte(nil), k...))
			}
		})
		for _, k := range old {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("daily salt: %w", err)
	}
	return salt, nil
}
