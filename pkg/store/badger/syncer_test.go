package badger

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

func syncRecord(id string) store.Record {
	tp := event.Touchpoint{ID: id, Type: event.TypePageview, Site: "s1", Visitor: event.VisitorID{15: 7}, URL: "https://shop.example/" + id, Results: -1}
	tp.Derived = time.Now().UnixMicro()
	tp.Received = tp.Derived
	var slab []byte
	return store.NewRecord(&tp, &slab)
}

// A SyncWrites store answers a group only after an fsync that began after
// the group's commit, and passes an fsync's error on; Badger itself runs
// without SyncWrites (its write goroutine never waits for the disk).
func TestSyncerAnswersAfterTheFsync(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SyncWrites: true, DiskReserve: -1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.db.Opts().SyncWrites || s.syncer == nil {
		t.Fatalf("Badger SyncWrites %v, syncer %v: want Badger's off and the syncer on", s.db.Opts().SyncWrites, s.syncer != nil)
	}
	// Swap in an fsync that waits for the test.
	s.syncer.close()
	started, release := make(chan struct{}, 8), make(chan error)
	s.syncer = newSyncer(dir, func() error {
		started <- struct{}{}
		return <-release
	})
	answered := make(chan error, 1)
	s.WriteAsync([]store.Record{syncRecord("a")}, func(_ store.WriteResult, err error) { answered <- err })
	<-started // the group is committed: the fsync began after it
	select {
	case err := <-answered:
		t.Fatalf("answered (%v) before its fsync finished", err)
	case <-time.After(50 * time.Millisecond): // a negative check: nothing may arrive
	}
	release <- nil
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	// An fsync error reaches the group's submitter.
	s.WriteAsync([]store.Record{syncRecord("b")}, func(_ store.WriteResult, err error) { answered <- err })
	<-started
	release <- errors.New("disk on fire")
	if err := <-answered; err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err %v, want the fsync's", err)
	}
}

// The real fsync syncs every memtable log and the directory once per new
// log, and groups committed through the store are answered.
func TestSyncerSyncsTheLogs(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SyncWrites: true, DiskReserve: -1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(t.Context(), []store.Record{syncRecord("a"), syncRecord("b")}); err != nil {
		t.Fatal(err)
	}
	mems, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
	if len(mems) == 0 {
		t.Fatal("no memtable log in the store")
	}
	y := newSyncer(dir, nil)
	if err := y.syncWALs(); err != nil {
		t.Fatal(err)
	}
	for _, m := range mems {
		if y.files[filepath.Base(m)] == nil {
			t.Errorf("%s not synced", m)
		}
	}
	y.close()
	if len(y.files) != 0 {
		t.Errorf("%d files left open", len(y.files))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A log removed since (a flushed memtable) is closed at the next sync.
	y = newSyncer(dir, nil)
	defer y.close()
	os.WriteFile(filepath.Join(dir, "99999.mem"), []byte("x"), 0o644)
	if err := y.syncWALs(); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "99999.mem"))
	if err := y.syncWALs(); err != nil {
		t.Fatal(err)
	}
	if y.files["99999.mem"] != nil {
		t.Error("a removed log is still open")
	}
}
