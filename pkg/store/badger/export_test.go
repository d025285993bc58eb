package badger

// WriteFormat2 makes s write touchpoint values as format 2 did (the event
// encoding whole, no context records), for the before/after measurement of
// bytes on disk and the migration tests. Call it before any write.
func WriteFormat2(s *Store) { s.format = 2 }

// MigrateValues runs the format-3 value migration on s, as Open does.
func MigrateValues(s *Store) (values, ctxs int, err error) { return migrateValues(s.db) }

// StopMigrationAfter makes the format-3 migration stop after n visitors, as
// a crash would, leaving what it committed so far (0: no stop).
func StopMigrationAfter(n int) {
	if n == 0 {
		migrateStop = nil
		return
	}
	migrateStop = func(visitors int) bool { return visitors >= n }
}
