package badger

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/touchtrail/touchtrail/pkg/store"
)

// Disk full. Badger writes its memtable's write-ahead log and its tables
// through memory-mapped files that it creates sparse, so a full disk does
// not fail a write call: the process dies of SIGBUS when a page of the
// mapping cannot be allocated. The store therefore never lets the disk get
// that full. A diskGuard watches the filesystem's free space (statfs)
// against a reserve sized from Badger's own files: the write-ahead logs of
// every memtable (2 × MemTableSize each), a value-log file, and room for a
// memtable flush and a compaction's output (8 × MemTableSize). Below the
// reserve, writes are refused with store.ErrDiskFull (the collector answers
// 507) while reads go on; when free space is back above the reserve plus a
// memtable's worth, writes resume. A store opened on a full disk opens
// Badger read-only (replaying its log writes nothing) and reopens it for
// writing once space is back.

// defaultReserve is the reserve for a store's options (see above).
func defaultReserve(memTable, vlogFile int64) uint64 {
	return uint64(numMemtables*2*memTable + vlogFile + 8*memTable)
}

const numMemtables = 3

type diskGuard struct {
	dir     string
	reserve uint64
	resume  uint64 // free bytes at which a full disk counts as free again
	full    atomic.Bool
	free    atomic.Uint64
	checked atomic.Int64 // Unix ns of the last statfs
	log     *slog.Logger
	logMu   sync.Mutex
	logged  time.Time
	statfs  func(dir string) (uint64, error)
}

func newDiskGuard(dir string, reserve, hysteresis uint64, log *slog.Logger) *diskGuard {
	return &diskGuard{dir: dir, reserve: reserve, resume: reserve + hysteresis, log: log, statfs: freeBytes}
}

// freeBytes is the space an unprivileged writer may still use on dir's
// filesystem.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// check measures now and returns whether the disk is full.
func (g *diskGuard) check() bool {
	free, err := g.statfs(g.dir)
	g.checked.Store(time.Now().UnixNano())
	if err != nil {
		g.log.Warn("cannot measure free disk space", "err", err)
		return g.full.Load()
	}
	g.free.Store(free)
	was := g.full.Load()
	switch {
	case !was && free < g.reserve:
		g.full.Store(true)
		g.logFull(true)
	case was && free >= g.resume:
		g.full.Store(false)
		g.log.Info("disk space is back: writes resume", "free", humanize.IBytes(free), "reserve", humanize.IBytes(g.reserve))
	case was:
		g.logFull(false)
	}
	return g.full.Load()
}

// logFull logs the full disk when it becomes full, then once a minute.
func (g *diskGuard) logFull(now bool) {
	g.logMu.Lock()
	defer g.logMu.Unlock()
	if !now && time.Since(g.logged) < time.Minute {
		return
	}
	g.logged = time.Now()
	g.log.Error("disk full: writes refused, reads go on", "dir", g.dir,
		"free", humanize.IBytes(g.free.Load()), "reserve", humanize.IBytes(g.reserve))
}

// recent returns whether the disk is full, measuring again when the last
// measurement is over 20 ms old: cheap enough per group commit, and close
// enough that the reserve is never used up between two measurements.
func (g *diskGuard) recent() bool {
	if time.Now().UnixNano()-g.checked.Load() > int64(20*time.Millisecond) {
		return g.check()
	}
	return g.full.Load()
}

func (g *diskGuard) err() error {
	return fmt.Errorf("%w: %s free on the store's filesystem, %s reserved", store.ErrDiskFull,
		humanize.IBytes(g.free.Load()), humanize.IBytes(g.reserve))
}

// DiskFull returns an error wrapping store.ErrDiskFull while the store
// refuses writes for want of disk space, else nil.
func (s *Store) DiskFull() error {
	if s.guard == nil || !s.guard.full.Load() && !s.readOnly.Load() {
		return nil
	}
	return s.guard.err()
}

// checkDisk returns store.ErrDiskFull (wrapped) if a commit must be
// refused. New submissions are refused at the reserve (DiskFull, which the
// Writer checks before queueing); commits only below half of it, so that
// what was queued before the disk filled (and acknowledged, in async mode)
// is still written into the reserve's upper half.
func (s *Store) checkDisk() error {
	if s.guard == nil {
		return nil
	}
	s.guard.recent()
	if s.readOnly.Load() || s.guard.free.Load() < s.guard.reserve/2 {
		return s.guard.err()
	}
	return nil
}

// watchDisk measures the free space every second, so that readiness and
// metrics follow it without writes, and reopens a store opened read-only
// on a full disk once there is space.
func (s *Store) watchDisk() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if full := s.guard.check(); !full && s.readOnly.Load() {
			if err := s.reopenWritable(); err != nil {
				s.log.Error("cannot reopen the store for writing", "err", err)
			}
		}
	}
}
