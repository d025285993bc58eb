package badger_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// grepDir returns the files of dir whose bytes contain needle.
func grepDir(t *testing.T, dir, needle string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed by compaction meanwhile
			}
			return err
		}
		if bytes.Contains(b, []byte(needle)) {
			hits = append(hits, filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestEraseLeavesNoBytes: after an erase, no file of the data directory
// holds the erased visitor's URLs or its context record (its city) —
// whether they were still in the
// memtable's write-ahead log or already in table files — while another
// visitor's are intact. Tables are uncompressed so that grep can see.
func TestEraseLeavesNoBytes(t *testing.T) {
	for _, where := range []string{"memtable", "tables"} {
		t.Run(where, func(t *testing.T) {
			dir := t.TempDir()
			cfg := badger.Config{Dir: dir, Uncompressed: true, SyncWrites: true}
			s, err := badger.Open(cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			a, b := vis(1), vis(2)
			var recs []store.Record
			var slab []byte
			placed := func(v event.VisitorID, id, city string, i int) store.Record {
				tp := eventAt(v, id, time.Duration(i)*time.Second, uint32(i))
				tp.City = city // kept once, in the visitor's context record
				return store.NewRecord(&tp, &slab)
			}
			for i := range 50 {
				recs = append(recs, placed(a, "erase-me-"+string(rune('A'+i%26))+string(rune('a'+i/26)), "Erasetown", i),
					placed(b, "keep-me-"+string(rune('A'+i%26))+string(rune('a'+i/26)), "Keepville", i))
			}
			write(t, s, recs...)
			if where == "tables" { // reopen: the memtable is flushed to a table
				s.Close()
				if s, err = badger.Open(cfg, quiet); err != nil {
					t.Fatal(err)
				}
			}
			defer s.Close()
			if hits := grepDir(t, dir, "erase-me-"); len(hits) == 0 {
				t.Fatal("the URLs are in no file before the erase: the test cannot see them")
			}
			if hits := grepDir(t, dir, "Erasetown"); len(hits) == 0 {
				t.Fatal("the context is in no file before the erase: the test cannot see it")
			}
			start := time.Now()
			if err := s.EraseVisitor(ctx, "s1", a); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if hits := grepDir(t, dir, "erase-me-"); len(hits) != 0 {
				t.Fatalf("erased URLs still in %v", hits)
			}
			if hits := grepDir(t, dir, "Erasetown"); len(hits) != 0 {
				t.Fatalf("the erased visitor's context still in %v", hits)
			}
			if hits := grepDir(t, dir, "keep-me-"); len(hits) == 0 {
				t.Fatal("the other visitor's URLs are gone from the files")
			}
			if hits := grepDir(t, dir, "Keepville"); len(hits) == 0 {
				t.Fatal("the other visitor's context is gone from the files")
			}
			if page, _ := s.Trail(ctx, "s1", b, store.TrailQuery{}); len(page.Touchpoints) != 50 {
				t.Fatalf("other visitor: %d touchpoints, want 50", len(page.Touchpoints))
			}
			t.Logf("erase with data in the %s left the files clean in %s", where, took)
		})
	}
}

// TestEraseIsFinal: re-sent events of an erased visitor dated before the
// erase are accepted and dropped, also after a restart; later events start
// a new trail.
func TestEraseIsFinal(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	a := vis(1)
	old := []store.Record{rec(t, a, "a1", 0, 1), identify(t, a, "a2", "u-1", time.Second)}
	write(t, s, old...)
	if err := s.EraseVisitor(ctx, "s1", a); err != nil {
		t.Fatal(err)
	}
	if res := write(t, s, old...); res.Stored != 0 || res.Erased != 2 {
		t.Fatalf("re-send after erase: %+v, want 2 erased", res)
	}
	s.Close()
	s = open(t, dir)
	if res := write(t, s, old...); res.Stored != 0 || res.Erased != 2 {
		t.Fatalf("re-send after restart: %+v, want 2 erased", res)
	}
	if page, _ := s.Trail(ctx, "s1", a, store.TrailQuery{}); len(page.Touchpoints) != 0 {
		t.Fatalf("erased visitor came back: %q", ids(page))
	}
	if vs, _ := s.UserVisitors(ctx, "s1", "u-1"); len(vs) != 0 {
		t.Fatalf("erased visitor still stitched: %v", vs)
	}
	later := rec(t, a, "later", 0, 1)
	later.Derived = time.Now().Add(time.Minute).UnixMicro()
	if res := write(t, s, later); res.Stored != 1 {
		t.Fatalf("an event after the erase: %+v, want stored", res)
	}
}

// TestEraseUser erases every visitor stitched to the user, nothing else.
func TestEraseUser(t *testing.T) {
	s := open(t, "")
	a, b, c := vis(1), vis(2), vis(3)
	write(t, s, rec(t, a, "a1", 0, 1), identify(t, a, "a2", "u-1", time.Second))
	write(t, s, rec(t, b, "b1", time.Minute, 1), identify(t, b, "b2", "u-1", 2*time.Minute))
	write(t, s, rec(t, c, "c1", time.Minute, 1), identify(t, c, "c2", "u-2", 2*time.Minute))
	got, err := s.EraseUser(ctx, "s1", "u-1")
	if err != nil || len(got) != 2 {
		t.Fatalf("erase user: %v %v, want a and b", got, err)
	}
	for _, v := range []event.VisitorID{a, b} {
		if page, _ := s.Trail(ctx, "s1", v, store.TrailQuery{}); len(page.Touchpoints) != 0 {
			t.Errorf("visitor %s of the erased user kept %q", v, ids(page))
		}
	}
	if vs, _ := s.UserVisitors(ctx, "s1", "u-1"); len(vs) != 0 {
		t.Errorf("user still has visitors %v", vs)
	}
	if page, _ := s.Trail(ctx, "s1", c, store.TrailQuery{}); len(page.Touchpoints) != 2 {
		t.Errorf("another user's visitor lost touchpoints: %q", ids(page))
	}
	if vs, _ := s.UserVisitors(ctx, "s1", "u-2"); len(vs) != 1 {
		t.Errorf("u-2: %v", vs)
	}
}
