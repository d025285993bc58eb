package badger

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"testing"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// dayOnDisk reads a visitor-day's count as written (0: no entry).
func dayOnDisk(t *testing.T, s *Store, site string, v event.VisitorID, at time.Time) uint32 {
	t.Helper()
	var n uint32
	err := s.db.View(func(txn *bdg.Txn) error {
		item, err := txn.Get(dayKey(nil, site, dayOf(at.UnixMicro()), v))
		if err == bdg.ErrKeyNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(b []byte) error { n = binary.BigEndian.Uint32(b[8:]); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A visitor's day entry is written with its first touchpoint of the day
// (so the visitor is found for that day at once), then counted in memory
// and written in bulk: by the periodic flush, before an erase (which keeps
// the other visitors' counts) and at Close.
func TestDayIndexWrittenOncePerVisitorDay(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	a, b := event.VisitorID{1}, event.VisitorID{2}
	write := func(v event.VisitorID, i int) {
		tp := event.Touchpoint{ID: fmt.Sprintf("%x-%d", v[0], i), Type: event.TypePageview, Site: "s", Visitor: v, Seq: uint32(i),
			Derived: at.UnixMicro() + int64(i), Received: at.UnixMicro() + int64(i), Results: -1}
		var slab []byte
		if _, err := s.Write(context.Background(), []store.Record{store.NewRecord(&tp, &slab)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		write(a, i)
		write(b, i)
	}
	if n := dayOnDisk(t, s, "s", a, at); n != 1 {
		t.Errorf("before a flush, the day entry on disk counts %d, want 1 (written once)", n)
	}
	if err := s.syncDays(); err != nil {
		t.Fatal(err)
	}
	if n := dayOnDisk(t, s, "s", a, at); n != 20 {
		t.Errorf("after a flush, %d, want 20", n)
	}
	for i := 20; i < 30; i++ {
		write(a, i)
		write(b, i)
	}
	if err := s.EraseVisitor(context.Background(), "s", a); err != nil {
		t.Fatal(err)
	}
	if n := dayOnDisk(t, s, "s", a, at); n != 0 {
		t.Errorf("erased visitor's day entry counts %d", n)
	}
	if n := dayOnDisk(t, s, "s", b, at); n != 30 {
		t.Errorf("after another visitor's erase, %d, want 30", n)
	}
	for i := 30; i < 35; i++ {
		write(b, i)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, err := s.Visitors(context.Background(), "s", store.VisitorQuery{From: at.Add(-time.Hour), To: at.Add(time.Hour), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Visitors) != 1 || page.Visitors[0].Visitor != b || page.Visitors[0].Count != 35 ||
		!page.Visitors[0].LastSeen.Equal(time.UnixMicro(at.UnixMicro()+34)) {
		t.Errorf("after a restart: %+v, want visitor 2 with 35 touchpoints, last seen at the 35th", page.Visitors)
	}
}

// A changed entry the cache lets go is written with the next group: with a
// cache of 4 entries and 10 visitors, every count is exact after a restart.
func TestDayIndexEvictedEntriesWritten(t *testing.T) {
	defer func(n int) { dayCacheSize = n }(dayCacheSize)
	dayCacheSize = 4
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	n := 0
	record := func(v int) store.Record {
		n++
		tp := event.Touchpoint{ID: fmt.Sprint(n), Type: event.TypePageview, Site: "s", Visitor: event.VisitorID{byte(v + 1)},
			Seq: uint32(n), Derived: at.UnixMicro() + int64(n), Received: at.UnixMicro(), Results: -1}
		var slab []byte
		return store.NewRecord(&tp, &slab)
	}
	// Two touchpoints a visitor in a row (the second changes the cached
	// entry), group by group, then whole rounds in one group each.
	for range 3 {
		for v := range 10 {
			for range 2 {
				if _, err := s.Write(context.Background(), []store.Record{record(v)}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for range 2 {
		var recs []store.Record
		for v := range 10 {
			recs = append(recs, record(v), record(v))
		}
		if _, err := s.Write(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
	live, err := s.Visitors(context.Background(), "s", store.VisitorQuery{From: at.Add(-time.Hour), To: at.Add(time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range live.Visitors {
		if v.Count != 10 {
			t.Errorf("before a restart, visitor %x: %d touchpoints, want 10", v.Visitor[0], v.Count)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, err := s.Visitors(context.Background(), "s", store.VisitorQuery{From: at.Add(-time.Hour), To: at.Add(time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Visitors) != 10 {
		t.Fatalf("%d visitors, want 10", len(page.Visitors))
	}
	for _, v := range page.Visitors {
		if v.Count != 10 {
			t.Errorf("visitor %x: %d touchpoints, want 10", v.Visitor[0], v.Count)
		}
	}
}
