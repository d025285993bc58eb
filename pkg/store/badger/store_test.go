package badger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

var ctx = context.Background()

var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

func open(t testing.TB, dir string) *badger.Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := badger.Open(badger.Config{Dir: dir}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func vis(n byte) event.VisitorID { return event.VisitorID{0: 0xab, 15: n} }

var base = time.Date(2026, 11, 23, 23, 50, 0, 0, time.UTC)

// rec makes a stored record of a pageview at base+offset.
func rec(t testing.TB, v event.VisitorID, id string, offset time.Duration, seq uint32) store.Record {
	t.Helper()
	tp := eventAt(v, id, offset, seq)
	var slab []byte
	return store.NewRecord(&tp, &slab)
}

// eventAt is a pageview at base+offset.
func eventAt(v event.VisitorID, id string, offset time.Duration, seq uint32) event.Touchpoint {
	tp := event.Touchpoint{ID: id, Type: event.TypePageview, Site: "s1", Visitor: v, Seq: seq, URL: "https://shop.example/" + id, Results: -1}
	tp.Derived = base.Add(offset).UnixMicro()
	tp.Received = tp.Derived
	return tp
}

func write(t testing.TB, s *badger.Store, recs ...store.Record) store.WriteResult {
	t.Helper()
	res, err := s.Write(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ids(page store.TrailPage) string {
	var b bytes.Buffer
	for _, tp := range page.Touchpoints {
		b.WriteString(tp.ID + " ")
	}
	return b.String()
}

func TestTrailOrderRegardlessOfWriteOrder(t *testing.T) {
	s := open(t, "")
	v := vis(1)
	write(t, s, rec(t, v, "c", 3*time.Second, 3), rec(t, v, "a", time.Second, 1))
	write(t, s, rec(t, v, "b2", 2*time.Second, 2), rec(t, v, "b1", 2*time.Second, 1)) // same time: by seq
	write(t, s, rec(t, vis(2), "other", 0, 1))
	page, err := s.Trail(ctx, "s1", v, store.TrailQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page); got != "a b1 b2 c " {
		t.Fatalf("trail %q, want a b1 b2 c", got)
	}
	tp := page.Touchpoints[0]
	if tp.Site != "s1" || tp.Visitor != v || tp.URL != "https://shop.example/a" || tp.Type != event.TypePageview {
		t.Errorf("decoded touchpoint %+v", tp)
	}
}

func TestTrailPagesAndBounds(t *testing.T) {
	s := open(t, "")
	v := vis(1)
	var recs []store.Record
	for i := range 250 {
		recs = append(recs, rec(t, v, fmt.Sprint(i), time.Duration(i)*time.Second, uint32(i)))
	}
	rand.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	write(t, s, recs...)
	seen := map[string]int{}
	q := store.TrailQuery{Limit: 40}
	pages := 0
	var last int64
	for {
		page, err := s.Trail(ctx, "s1", v, q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tp := range page.Touchpoints {
			seen[tp.ID]++
			if tp.Derived < last {
				t.Fatalf("out of order at %s", tp.ID)
			}
			last = tp.Derived
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	if len(seen) != 250 || pages != 7 {
		t.Fatalf("%d distinct touchpoints in %d pages, want 250 in 7", len(seen), pages)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", id, n)
		}
	}
	page, err := s.Trail(ctx, "s1", v, store.TrailQuery{From: base.Add(10 * time.Second), To: base.Add(20 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Touchpoints) != 10 || page.Touchpoints[0].ID != "10" || page.Touchpoints[9].ID != "19" {
		t.Fatalf("[10s, 20s) gave %q", ids(page))
	}
	if _, err := s.Trail(ctx, "s1", v, store.TrailQuery{Cursor: "garbage!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestDuplicatesStoredOnce(t *testing.T) {
	s := open(t, "")
	v := vis(1)
	res := write(t, s, rec(t, v, "x", 0, 1), rec(t, v, "x", time.Millisecond, 1), rec(t, v, "y", time.Second, 2))
	if res.Stored != 2 || res.Duplicates != 1 {
		t.Fatalf("one group: %+v, want 2 stored 1 duplicate", res)
	}
	// A retry arrives later: its derived time differs, its id does not.
	res = write(t, s, rec(t, v, "x", 5*time.Second, 1), rec(t, v, "z", 6*time.Second, 3))
	if res.Stored != 1 || res.Duplicates != 1 {
		t.Fatalf("second group: %+v", res)
	}
	// The same id for another visitor is another touchpoint.
	if res := write(t, s, rec(t, vis(2), "x", 0, 1)); res.Stored != 1 {
		t.Fatalf("other visitor: %+v", res)
	}
	page, _ := s.Trail(ctx, "s1", v, store.TrailQuery{})
	if got := ids(page); got != "x y z " {
		t.Fatalf("trail %q", got)
	}
}

func TestVisitorsByDay(t *testing.T) {
	s := open(t, "")
	// base is 23:50: the second touchpoint is on the next day.
	write(t, s, rec(t, vis(1), "a", 0, 1), rec(t, vis(1), "b", 20*time.Minute, 2), rec(t, vis(1), "c", 21*time.Minute, 3))
	write(t, s, rec(t, vis(2), "d", time.Minute, 1))
	page, err := s.Visitors(ctx, "s1", store.VisitorQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Visitors) != 3 {
		t.Fatalf("%d visitor-days, want 3: %+v", len(page.Visitors), page.Visitors)
	}
	day1, day2 := base.Truncate(24*time.Hour), base.Truncate(24*time.Hour).Add(24*time.Hour)
	want := []store.VisitorDay{
		{Visitor: vis(1), Day: day1, LastSeen: base, Count: 1},
		{Visitor: vis(2), Day: day1, LastSeen: base.Add(time.Minute), Count: 1},
		{Visitor: vis(1), Day: day2, LastSeen: base.Add(21 * time.Minute), Count: 2},
	}
	for i, w := range want {
		g := page.Visitors[i]
		if g.Visitor != w.Visitor || !g.Day.Equal(w.Day) || !g.LastSeen.Equal(w.LastSeen) || g.Count != w.Count {
			t.Errorf("visitor-day %d: %+v, want %+v", i, g, w)
		}
	}
	// Counts add up across groups; range and paging work.
	write(t, s, rec(t, vis(1), "e", 30*time.Minute, 4))
	page, _ = s.Visitors(ctx, "s1", store.VisitorQuery{From: day2, To: day2.Add(24 * time.Hour)})
	if len(page.Visitors) != 1 || page.Visitors[0].Count != 3 {
		t.Fatalf("day 2: %+v", page.Visitors)
	}
	p1, _ := s.Visitors(ctx, "s1", store.VisitorQuery{Limit: 2})
	p2, err := s.Visitors(ctx, "s1", store.VisitorQuery{Limit: 2, Cursor: p1.Next})
	if err != nil || len(p1.Visitors) != 2 || len(p2.Visitors) != 1 || p2.Next != "" {
		t.Fatalf("paging: %v %d %d %q", err, len(p1.Visitors), len(p2.Visitors), p2.Next)
	}
}

func identify(t testing.TB, v event.VisitorID, id, user string, offset time.Duration) store.Record {
	tp := event.Touchpoint{ID: id, Type: event.TypeIdentify, Site: "s1", Visitor: v, User: user, Derived: base.Add(offset).UnixMicro()}
	var slab []byte
	return store.NewRecord(&tp, &slab)
}

func TestIdentityAndErase(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	a, b, c := vis(1), vis(2), vis(3)
	write(t, s, rec(t, a, "a1", 0, 1), identify(t, a, "a2", "u-1", time.Second), rec(t, a, "a3", 25*time.Minute, 3))
	write(t, s, rec(t, b, "b1", time.Minute, 1), identify(t, b, "b2", "u-1", 2*time.Minute))
	write(t, s, rec(t, c, "c1", time.Minute, 1), identify(t, c, "c2", "u-2", 2*time.Minute))
	got, err := s.UserVisitors(ctx, "s1", "u-1")
	if err != nil || len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("u-1 visitors %v %v, want a and b", got, err)
	}
	if err := s.EraseVisitor(ctx, "s1", a); err != nil {
		t.Fatal(err)
	}
	got, _ = s.UserVisitors(ctx, "s1", "u-1")
	if len(got) != 1 || got[0] != b {
		t.Fatalf("u-1 after erasing a: %v", got)
	}
	// No key of any kind holds a's id any more; b and c are intact.
	err = s.DB().View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if k := it.Item().Key(); bytes.Contains(k, a[:]) && !bytes.HasPrefix(k, []byte("e/")) {
				t.Errorf("key %q survived the erase", it.Item().Key())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []event.VisitorID{b, c} {
		if page, _ := s.Trail(ctx, "s1", v, store.TrailQuery{}); len(page.Touchpoints) != 2 {
			t.Errorf("visitor %s lost touchpoints: %q", v, ids(page))
		}
	}
	page, _ := s.Visitors(ctx, "s1", store.VisitorQuery{})
	for _, vd := range page.Visitors {
		if vd.Visitor == a {
			t.Errorf("erased visitor still active on %s", vd.Day)
		}
	}
	if err := s.EraseVisitor(ctx, "s1", vis(99)); err != nil {
		t.Errorf("erasing an unknown visitor: %v", err)
	}
}

func TestTTLAndReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := badger.Open(badger.Config{Dir: dir, Retention: 48 * time.Hour}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	tp := eventAt(vis(1), "a", 0, 1)
	tp.Derived = time.Now().UnixMicro()
	tp.Received = tp.Derived
	var slab []byte
	r := store.NewRecord(&tp, &slab)
	write(t, s, r)
	err = s.DB().View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.DefaultIteratorOptions)
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if bytes.HasPrefix(k, []byte("s/")) {
				continue // the store's own records (format) never expire
			}
			n++
			exp := time.Unix(int64(it.Item().ExpiresAt()), 0)
			lo, hi := 47*time.Hour, 49*time.Hour
			if len(k) == len("t/s1/")+16+5 { // the visitor's context: a day longer at most
				lo, hi = 47*time.Hour, 73*time.Hour
			}
			if d := time.Until(exp); d < lo || d > hi {
				t.Errorf("key %q expires in %s, want ~48h", k, d)
			}
		}
		if n != 3 {
			t.Errorf("%d keys, want trail, context and day", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, []store.Record{r}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	s2 := open(t, dir)
	if page, _ := s2.Trail(ctx, "s1", vis(1), store.TrailQuery{}); len(page.Touchpoints) != 1 {
		t.Fatalf("after reopen: %q", ids(page))
	}
}

func TestCorruptValueIsAnError(t *testing.T) {
	s := open(t, "")
	r := rec(t, vis(1), "a", 0, 1)
	r.Value = []byte{1, 1, 0xff}
	write(t, s, r)
	if _, err := s.Trail(ctx, "s1", vis(1), store.TrailQuery{}); !errors.Is(err, event.ErrCorrupt) {
		t.Fatalf("corrupt value: %v, want ErrCorrupt", err)
	}
}

func TestDailySalt(t *testing.T) {
	s := open(t, "")
	day := time.Now().Unix() / 86400
	s1, err := s.DailySalt(day, []byte("fresh-1"))
	if err != nil || string(s1) != "fresh-1" {
		t.Fatalf("first salt %q %v", s1, err)
	}
	if again, _ := s.DailySalt(day, []byte("fresh-2")); string(again) != "fresh-1" {
		t.Fatalf("same day gave %q, want the stored salt", again)
	}
	if next, _ := s.DailySalt(day+1, []byte("fresh-3")); string(next) != "fresh-3" {
		t.Fatalf("next day gave %q", next)
	}
	// The first day's salt is gone: asking for it again makes a new one.
	if old, _ := s.DailySalt(day, []byte("fresh-4")); string(old) != "fresh-4" {
		t.Fatalf("old salt survived: %q", old)
	}
}

// An erase racing with a group still being committed erases it too.
func TestEraseWaitsForGroupsInFlight(t *testing.T) {
	s := open(t, "")
	a, b := vis(1), vis(2)
	for round := range 20 {
		recs := []store.Record{rec(t, b, fmt.Sprint("b", round), 0, uint32(round))}
		for i := range 50 {
			recs = append(recs, rec(t, a, fmt.Sprint(round, "-", i), time.Duration(i)*time.Second, uint32(i)))
		}
		done := make(chan error, 1)
		s.WriteAsync(recs, func(_ store.WriteResult, err error) { done <- err })
		if err := s.EraseVisitor(ctx, "s1", a); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if page, _ := s.Trail(ctx, "s1", a, store.TrailQuery{}); len(page.Touchpoints) != 0 {
			t.Fatalf("round %d: %d touchpoints survived an erase issued after their write", round, len(page.Touchpoints))
		}
	}
	if page, _ := s.Trail(ctx, "s1", b, store.TrailQuery{}); len(page.Touchpoints) != 20 {
		t.Fatalf("the other visitor has %d touchpoints, want 20", len(page.Touchpoints))
	}
}

func TestInMemory(t *testing.T) {
	s, err := badger.Open(badger.Config{InMemory: true}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write(t, s, rec(t, vis(1), "a", 0, 1))
	if page, _ := s.Trail(ctx, "s1", vis(1), store.TrailQuery{}); len(page.Touchpoints) != 1 || s.DiskSize() != 0 {
		t.Fatalf("in memory: %q, disk size %d", ids(page), s.DiskSize())
	}
}
