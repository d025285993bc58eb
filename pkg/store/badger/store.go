package badger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/touchtrail/touchtrail/pkg/store"
)

// Config configures Open. Zero values mean the defaults.
type Config struct {
	// Dir is the Badger directory. Required unless InMemory.
	Dir string
	// InMemory keeps everything in memory (no durability): for tests.
	InMemory bool
	// SyncWrites fsyncs every commit: what the collector's sync durability
	// needs. Default: false.
	SyncWrites bool
	// Retention is how long a touchpoint is kept after its derived time.
	// Default: 400 days.
	Retention time.Duration
	// MemTableSize is the size of each of the 3 memtables. Default: 16 MB.
	MemTableSize int64
	// BlockCacheSize caches decompressed data blocks. Default: 32 MB.
	BlockCacheSize int64
	// IndexCacheSize caches table indexes and Bloom filters. Default: 16 MB.
	IndexCacheSize int64
	// Uncompressed stores tables without ZSTD: larger files that tools (and
	// the erase tests) can search byte by byte. Default: false.
	Uncompressed bool
}

// Store is the Badger implementation of store.Store. Safe for concurrent use.
type Store struct {
	db   *bdg.DB
	days *lru.Cache[string, dayCached] // recent day-index entries
	seen *seenIDs                      // ids stored: skips most dedupe reads
	// writeMu makes groups prepare (and commit) one at a time, in order.
	writeMu sync.Mutex
	// inflight are the id keys of groups handed to Badger and not yet
	// written: a re-send arriving meanwhile is still a duplicate.
	inflightMu sync.Mutex
	inflight   map[string]struct{}
	// pending counts groups handed to Badger and not yet written: erase
	// and restore (under writeMu) wait for them.
	pending sync.WaitGroup
	// erased maps tombstone keys to erase times (Unix µs); under writeMu.
	erased    map[string]int64
	retention time.Duration
	dir       string // "" in memory
	log       *slog.Logger
	closed    atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open opens (or creates) the store.
func Open(cfg Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("module", "badger")
	if cfg.Dir == "" && !cfg.InMemory {
		return nil, errors.New("badger store: no directory")
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 400 * 24 * time.Hour
	}
	if cfg.MemTableSize <= 0 {
		cfg.MemTableSize = 16 << 20
	}
	if cfg.BlockCacheSize <= 0 {
		cfg.BlockCacheSize = 32 << 20
	}
	if cfg.IndexCacheSize <= 0 {
		cfg.IndexCacheSize = 16 << 20
	}
	opts := bdg.DefaultOptions(cfg.Dir).
		WithInMemory(cfg.InMemory).
		WithSyncWrites(cfg.SyncWrites).
		WithLogger(slogAdapter{log}).
		WithMemTableSize(cfg.MemTableSize).
		WithNumMemtables(3).
		WithNumLevelZeroTables(3).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(cfg.BlockCacheSize).
		WithIndexCacheSize(cfg.IndexCacheSize).
		WithValueThreshold(min(valueThreshold, cfg.MemTableSize*15/100)). // Badger's cap: its max batch
		WithValueLogFileSize(64 << 20).
		WithBlockSize(16 << 10).
		WithCompression(options.ZSTD).
		WithZSTDCompressionLevel(1).
		WithNumVersionsToKeep(1).
		WithNumCompactors(2).
		WithMetricsEnabled(false)
	if cfg.Uncompressed {
		opts = opts.WithCompression(options.None)
	}
	if cfg.InMemory {
		opts.Dir, opts.ValueDir = "", ""
	}
	db, err := bdg.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("cannot open badger at %q: %w", cfg.Dir, err)
	}
	if !cfg.InMemory {
		if err := migrate(db, log); err != nil {
			db.Close()
			return nil, err
		}
	}
	days, err := lru.New[string, dayCached](100_000)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("day cache: %w", err)
	}
	seen, err := loadSeen(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	erased, err := loadTombstones(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, days: days, seen: seen, erased: erased, inflight: map[string]struct{}{}, retention: cfg.Retention, dir: opts.Dir, log: log}, nil
}

// Close flushes and closes the database.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close badger: %w", err)
	}
	return nil
}

// DB exposes the Badger handle for operations tools and tests (inspection,
// flattening). Writing through it bypasses the dedupe and day-index caches.
func (s *Store) DB() *bdg.DB { return s.db }

// DiskSize returns the bytes of the store's files (tables, write-ahead and
// value logs, manifest), measured now by listing its directory; 0 in
// memory. The memtable and value log files are preallocated, so a fresh
// store already counts some MB. (Badger's own DB.Size is fed by its expvar
// metrics, which Open turns off.) Safe for concurrent use.
func (s *Store) DiskSize() int64 {
	if s.dir == "" {
		return 0
	}
	var n int64
	filepath.WalkDir(s.dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file removed by compaction meanwhile
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// valueThreshold keeps every value in the LSM tree (a touchpoint is at
// most a few KB): the value log is only a write-ahead log, never needs
// value-log GC, and reads never take a second disk seek. 1 MB is Badger's
// ceiling (and its v4 default, set here so that it stays).
const valueThreshold int64 = 1 << 20

// expiresAt is the Badger expiry (Unix seconds) of a touchpoint.
func (s *Store) expiresAt(derived int64) uint64 {
	sec := derived/1e6 + int64(s.retention/time.Second)
	if min := time.Now().Unix() + 3600; sec < min {
		sec = min
	}
	return uint64(sec)
}

func (s *Store) check() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// slogAdapter routes Badger's logs to slog: errors and warnings as such,
// its info and debug chatter (table opens, compactions) at debug level, and
// formatted only when debug logging is on.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Errorf(f string, args ...any) {
	a.log.Error(strings.TrimSpace(fmt.Sprintf(f, args...)))
}
func (a slogAdapter) Warningf(f string, args ...any) {
	a.log.Warn(strings.TrimSpace(fmt.Sprintf(f, args...)))
}
func (a slogAdapter) Infof(f string, args ...any)  { a.debug(f, args) }
func (a slogAdapter) Debugf(f string, args ...any) { a.debug(f, args) }

func (a slogAdapter) debug(f string, args []any) {
	if a.log.Enabled(context.Background(), slog.LevelDebug) {
		a.log.Debug(strings.TrimSpace(fmt.Sprintf(f, args...)))
	}
}
