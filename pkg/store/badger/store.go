package badger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
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
	// SyncWrites makes every commit durable before it is answered: what
	// the collector's sync durability needs. The fsyncs are batched off
	// Badger's write goroutine (syncer.go). Default: false.
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
	// ValueLogFileSize is the size of each value-log file. Default: 64 MB.
	ValueLogFileSize int64
	// DiskReserve is the free space below which writes are refused with
	// store.ErrDiskFull (see disk.go). Default: sized from the memtable
	// and value-log file sizes (288 MB with the defaults). Negative: never
	// refuse (a full disk then kills the process).
	DiskReserve int64
	// Uncompressed stores tables without ZSTD: larger files that tools (and
	// the erase tests) can search byte by byte. Default: false.
	Uncompressed bool
}

// Validate reports a config that cannot work, naming the field.
func (c Config) Validate() error {
	switch {
	case c.Dir == "" && !c.InMemory:
		return errors.New("badger: Dir: required (or InMemory)")
	case c.Retention < 0:
		return fmt.Errorf("badger: Retention %s: must not be negative", c.Retention)
	case c.MemTableSize < 0 || c.BlockCacheSize < 0 || c.IndexCacheSize < 0:
		return fmt.Errorf("badger: MemTableSize, BlockCacheSize and IndexCacheSize must not be negative")
	}
	return nil
}

// Store is the Badger implementation of store.Store. Safe for concurrent use.
type Store struct {
	// db is replaced only by reopenWritable, under dbMu's write lock;
	// every use holds dbMu's read lock (or writeMu with no group pending).
	db       *bdg.DB
	dbMu     sync.RWMutex
	days     *lru.Cache[string, dayCached] // recent day-index entries (days.go)
	ctxs     *lru.Cache[string, ctxCached] // context records written or read (format3.go)
	format   int                           // the format of the values written: formatVersion (tests: 2)
	groups   uint64                        // groups prepared; under writeMu
	dayState dayState
	seen     *seenIDs // ids stored: skips most dedupe reads
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
	opts      bdg.Options
	guard     *diskGuard  // nil: no disk watch (in memory, or DiskReserve < 0)
	syncer    *syncer     // nil unless SyncWrites (on disk)
	readOnly  atomic.Bool // opened read-only on a full disk
	stop      chan struct{}
	watching  sync.WaitGroup
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
	if cfg.ValueLogFileSize <= 0 {
		cfg.ValueLogFileSize = 64 << 20
	}
	opts := bdg.DefaultOptions(cfg.Dir).
		WithInMemory(cfg.InMemory).
		WithSyncWrites(false). // SyncWrites: the syncer fsyncs, off Badger's write goroutine
		WithLogger(slogAdapter{log}).
		WithMemTableSize(cfg.MemTableSize).
		WithNumMemtables(numMemtables).
		WithNumLevelZeroTables(5).
		WithNumLevelZeroTablesStall(16).
		WithBlockCacheSize(cfg.BlockCacheSize).
		WithIndexCacheSize(cfg.IndexCacheSize).
		WithValueThreshold(min(valueThreshold, cfg.MemTableSize*15/100)). // Badger's cap: its max batch
		WithValueLogFileSize(cfg.ValueLogFileSize).
		WithBlockSize(16 << 10).
		WithCompression(options.ZSTD).
		WithZSTDCompressionLevel(1).
		WithNumVersionsToKeep(1).
		WithNumCompactors(2).
		WithMetricsEnabled(false).
		WithDetectConflicts(false)
	if cfg.Uncompressed {
		opts = opts.WithCompression(options.None)
	}
	if cfg.InMemory {
		opts.Dir, opts.ValueDir = "", ""
	}
	s := &Store{format: formatVersion, inflight: map[string]struct{}{}, retention: cfg.Retention, dir: opts.Dir, log: log, opts: opts, stop: make(chan struct{})}
	days, err := s.newDayCache()
	if err != nil {
		return nil, fmt.Errorf("day cache: %w", err)
	}
	s.days = days
	if s.ctxs, err = lru.New[string, ctxCached](ctxCacheSize); err != nil {
		return nil, fmt.Errorf("context cache: %w", err)
	}
	if !cfg.InMemory && cfg.DiskReserve >= 0 {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("create store directory: %w", err)
		}
		reserve := uint64(cfg.DiskReserve)
		if reserve == 0 {
			reserve = defaultReserve(cfg.MemTableSize, cfg.ValueLogFileSize)
		}
		s.guard = newDiskGuard(cfg.Dir, reserve, uint64(cfg.MemTableSize), log)
		if s.guard.check() {
			s.readOnly.Store(true)
			log.Error("disk full at start: the store opens read-only and takes writes once there is space")
		}
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	if cfg.SyncWrites && !cfg.InMemory {
		s.syncer = newSyncer(cfg.Dir, nil)
	}
	if s.guard != nil {
		s.watching.Add(1)
		go func() {
			defer s.watching.Done()
			s.watchDisk()
		}()
	}
	s.watching.Add(1)
	go func() {
		defer s.watching.Done()
		s.flushDaysEvery()
	}()
	if !cfg.InMemory {
		s.watching.Add(1)
		go func() {
			defer s.watching.Done()
			s.trimTablesEvery()
		}()
	}
	return s, nil
}

// open opens Badger (read-only while s.readOnly) and loads what the store
// keeps in memory: the format check, the dedupe filter, the tombstones.
func (s *Store) open() error {
	opts := s.opts.WithReadOnly(s.readOnly.Load())
	db, err := bdg.Open(opts)
	if err != nil {
		return fmt.Errorf("cannot open badger at %q: %w", opts.Dir, err)
	}
	if !opts.InMemory {
		if opts.ReadOnly {
			if v, err := readFormat(db); err != nil || v != formatVersion {
				db.Close()
				return fmt.Errorf("store format %d needs a migration, which needs disk space: %v", v, err)
			}
		} else if err := migrate(db, s.log); err != nil {
			db.Close()
			return err
		}
	}
	seen, err := loadSeen(db)
	if err != nil {
		db.Close()
		return err
	}
	erased, err := loadTombstones(db)
	if err != nil {
		db.Close()
		return err
	}
	s.db, s.seen, s.erased = db, seen, erased
	s.dropDays()
	s.ctxs.Purge()
	return nil
}

// reopenWritable reopens a store opened read-only on a full disk for
// writing, once there is space again.
func (s *Store) reopenWritable() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.closed.Load() || !s.readOnly.Load() {
		return nil
	}
	if err := s.db.Close(); err != nil {
		s.log.Warn("closing the read-only store", "err", err)
	}
	s.readOnly.Store(false)
	if err := s.open(); err != nil {
		s.readOnly.Store(true)
		if err2 := s.open(); err2 != nil {
			return fmt.Errorf("%w; and reopening read-only: %v", err, err2)
		}
		return err
	}
	s.log.Info("store reopened for writing")
	return nil
}

// Close flushes and closes the database.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	s.watching.Wait()
	s.writeMu.Lock()
	s.pending.Wait()
	s.dbMu.RLock()
	err := s.flushDays() // the day index's counts, changed in memory
	s.dbMu.RUnlock()
	s.writeMu.Unlock()
	if err != nil {
		s.log.Error("day index counts not written at close", "err", err)
	}
	if s.syncer != nil {
		s.syncer.close() // every group was answered (pending): nothing waits
	}
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
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
