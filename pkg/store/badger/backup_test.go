package badger_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	s, err := badger.Open(badger.Config{Dir: dir, Retention: 48 * time.Hour}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	v := vis(1)
	write(t, s, rec(t, v, "a", 0, 1), identify(t, v, "b", "u-1", time.Second), rec(t, v, "c", 20*time.Minute, 3))
	var buf bytes.Buffer
	if err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s2 := open(t, dir); s2.DiskSize() <= 0 {
		t.Errorf("DiskSize %d after reopen, want > 0", s2.DiskSize())
	}

	r := open(t, "")
	if err := r.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	page, err := r.Trail(ctx, "s1", v, store.TrailQuery{})
	if err != nil || ids(page) != "a b c " {
		t.Fatalf("restored trail %q %v", ids(page), err)
	}
	if users, _ := r.UserVisitors(ctx, "s1", "u-1"); len(users) != 1 || users[0] != v {
		t.Errorf("restored identity %v", users)
	}
	if vp, _ := r.Visitors(ctx, "s1", store.VisitorQuery{}); len(vp.Visitors) != 2 {
		t.Errorf("restored day index %+v, want 2 visitor-days", vp.Visitors)
	}
	// The restored ids still dedupe, and the restored day entry counts on.
	res := write(t, r, rec(t, v, "a", time.Hour, 1), rec(t, v, "d", 21*time.Minute, 4))
	if res.Stored != 1 || res.Duplicates != 1 {
		t.Fatalf("after restore: %+v, want 1 stored 1 duplicate", res)
	}
	vp, _ := r.Visitors(ctx, "s1", store.VisitorQuery{})
	if last := vp.Visitors[len(vp.Visitors)-1]; last.Count != 2 {
		t.Errorf("day 2 after restore and a write: %+v, want count 2", last)
	}
}
