package badger

import (
	"fmt"
	"io"
)

// Backup writes a full backup of the store to w: Badger's backup format (a
// stream of protobuf key-value lists, TTLs included), read back by Restore
// or by `badger restore`. It reads a consistent snapshot and may run while
// the store serves reads and writes. Safe for concurrent use.
func (s *Store) Backup(w io.Writer) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := s.syncDays(); err != nil { // the day index's counts, changed in memory
		return fmt.Errorf("backup: %w", err)
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if _, err := s.db.Backup(w, 0); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Restore loads a backup made by Backup. It is meant for an empty store
// before it serves (Badger's Load wants no concurrent transactions): keys of
// the backup overwrite stored ones, and day-index counts are taken as they
// were backed up, not added. Writes wait while it runs.
func (s *Store) Restore(r io.Reader) error {
	if err := s.check(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.pending.Wait()
	if err := s.checkDisk(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := s.db.Load(r, 256); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// A backup of an older format is brought to this one.
	if _, err := migrateTrailKeys(s.db); err != nil {
		return fmt.Errorf("restore: migrate: %w", err)
	}
	if _, _, err := migrateValues(s.db); err != nil {
		return fmt.Errorf("restore: migrate: %w", err)
	}
	if err := s.db.DropPrefix([]byte{pID, '/'}); err != nil { // format 3 has no id index
		return fmt.Errorf("restore: migrate: %w", err)
	}
	if err := writeFormat(s.db); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The dedupe filter and the day cache must learn what was loaded.
	seen, err := loadSeen(s.db)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	s.seen = seen
	s.dropDays()
	s.ctxs.Purge()
	return nil
}
