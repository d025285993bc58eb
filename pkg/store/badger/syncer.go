package badger

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// syncer makes committed groups durable in batches, off Badger's write
// goroutine (issue 14, sync mode). With Badger's own SyncWrites, its one
// write goroutine inserts a batch into the memtable and then fsyncs the
// write-ahead log before it takes the next batch: the CPU work of the next
// batch waits for the disk, and the disk for the CPU. Instead the store
// opens Badger without SyncWrites when Config.SyncWrites is set, and a
// group's answer waits here: one goroutine fsyncs the memtables'
// write-ahead logs (every *.mem file: a memtable that filled up and waits
// for its flush still has its log) for all the groups committed since the
// last fsync, then answers them, while Badger goes on inserting the next
// ones. The disk is never idle while something waits, and a group waits
// for at most the fsync in progress plus its own.
//
// Values never go to the value log (valueThreshold keeps them in the
// LSM tree), so the memtables' logs are all a commit writes.
type syncer struct {
	dir   string
	fsync func() error // syncWALs; tests replace it

	mu      sync.Mutex
	waiting []func(error)
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}

	files map[string]*os.File // open *.mem files, by name (syncer goroutine only)
}

// newSyncer starts a syncer of dir's logs; fsync nil means syncWALs.
func newSyncer(dir string, fsync func() error) *syncer {
	y := &syncer{dir: dir, fsync: fsync, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), files: map[string]*os.File{}}
	if y.fsync == nil {
		y.fsync = y.syncWALs
	}
	go y.loop()
	return y
}

// after calls answer once everything committed before it is durable, with
// the fsync's error. Safe for concurrent use.
func (y *syncer) after(answer func(error)) {
	y.mu.Lock()
	y.waiting = append(y.waiting, answer)
	y.mu.Unlock()
	select {
	case y.wake <- struct{}{}:
	default:
	}
}

func (y *syncer) loop() {
	defer close(y.done)
	var batch []func(error)
	for {
		select {
		case <-y.wake:
		case <-y.stop:
			y.mu.Lock()
			left := len(y.waiting)
			y.mu.Unlock()
			if left == 0 {
				y.closeFiles()
				return
			}
		}
		y.mu.Lock()
		batch, y.waiting = y.waiting, batch[:0]
		y.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		err := y.fsync()
		for i, answer := range batch {
			answer(err)
			batch[i] = nil
		}
		select { // more may have come while we synced
		case y.wake <- struct{}{}:
		default:
		}
	}
}

// close answers what waits (after a last fsync) and stops the goroutine.
// Called after Badger's last commit callback, before Badger closes.
func (y *syncer) close() {
	close(y.stop)
	<-y.done
}

// syncWALs fdatasyncs every memtable write-ahead log in the directory.
// A clean file costs a syscall; files Badger deleted (flushed memtables)
// are closed.
func (y *syncer) syncWALs() error {
	entries, err := os.ReadDir(y.dir)
	if err != nil {
		return fmt.Errorf("sync: list %s: %w", y.dir, err)
	}
	seen := make(map[string]bool, len(y.files))
	newFile := false
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".mem") {
			continue
		}
		seen[name] = true
		f := y.files[name]
		if f == nil {
			if f, err = os.OpenFile(filepath.Join(y.dir, name), os.O_RDWR, 0); err != nil {
				if os.IsNotExist(err) {
					continue // flushed meanwhile: its data is in a synced table
				}
				return fmt.Errorf("sync: open %s: %w", name, err)
			}
			y.files[name] = f
			newFile = true
		}
		if err := fdatasync(f); err != nil {
			return fmt.Errorf("sync: %s: %w", name, err)
		}
	}
	if newFile { // a new log's directory entry, once (Badger syncs it only for empty files)
		if err := syncDir(y.dir); err != nil {
			return err
		}
	}
	for name, f := range y.files {
		if !seen[name] {
			f.Close()
			delete(y.files, name)
		}
	}
	return nil
}

func (y *syncer) closeFiles() {
	for name, f := range y.files {
		f.Close()
		delete(y.files, name)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync: open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync: %s: %w", dir, err)
	}
	return nil
}
