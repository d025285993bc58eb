package badger_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// TestDistinctIDsNeverShareAKey: two events of one visitor with the same
// time and seq (or none) are two touchpoints; a re-send of either is a
// duplicate.
func TestDistinctIDsNeverShareAKey(t *testing.T) {
	s := open(t, "")
	v := vis(1)
	a, b := rec(t, v, "a", 0, 0), rec(t, v, "b", 0, 0)
	if res := write(t, s, a, b); res.Stored != 2 {
		t.Fatalf("stored %d, want 2", res.Stored)
	}
	if res := write(t, s, b); res.Stored != 0 || res.Duplicates != 1 {
		t.Fatalf("re-send: %+v, want one duplicate", res)
	}
	page, err := s.Trail(ctx, "s1", v, store.TrailQuery{})
	if err != nil || len(page.Touchpoints) != 2 {
		t.Fatalf("trail: %d touchpoints, %v; want 2", len(page.Touchpoints), err)
	}
}

// TestStorePromiseProperty: for random sets of distinct ids over a few
// visitors, with colliding, missing or random times and seqs, written by
// concurrent senders that also re-send, exactly one touchpoint per id is
// stored, and the visitors index counts exactly what is stored.
func TestStorePromiseProperty(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			s := open(t, "")
			visitors := 1 + rng.IntN(4)
			n := 20 + rng.IntN(300)
			times := []time.Duration{0, time.Microsecond, time.Hour} // few distinct times: collisions
			want := map[event.VisitorID]map[string]bool{}
			recs := make([]store.Record, n)
			for i := range recs {
				v := vis(byte(rng.IntN(visitors)))
				var off time.Duration
				var seq uint32
				switch rng.IntN(3) {
				case 0: // colliding time and seq
					off = times[rng.IntN(len(times))]
				case 1: // random
					off, seq = time.Duration(rng.IntN(48))*time.Hour, rng.Uint32()
				case 2: // colliding time, varied seq
					off, seq = times[rng.IntN(len(times))], uint32(rng.IntN(3))
				}
				id := fmt.Sprintf("%d-%x", i, rng.Uint64())
				recs[i] = rec(t, v, id, off, seq)
				if want[v] == nil {
					want[v] = map[string]bool{}
				}
				want[v][id] = true
			}
			// Concurrent senders, each re-sending a part of the others'.
			var wg sync.WaitGroup
			senders := 1 + rng.IntN(6)
			for w := range senders {
				wg.Add(1)
				part := recs[w*n/senders : (w+1)*n/senders]
				again := recs[rng.IntN(n/2) : n/2+rng.IntN(n/2)]
				go func() {
					defer wg.Done()
					for i := 0; i < len(part); i += 7 {
						if _, err := s.Write(ctx, part[i:min(i+7, len(part))]); err != nil {
							t.Error(err)
						}
					}
					if _, err := s.Write(ctx, again); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			total := 0
			for v, ids := range want {
				page, err := s.Trail(ctx, "s1", v, store.TrailQuery{Limit: store.MaxLimit})
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]int{}
				for _, tp := range page.Touchpoints {
					got[tp.ID]++
				}
				for id := range ids {
					if got[id] != 1 {
						t.Errorf("visitor %s id %s stored %d times, want 1", v, id, got[id])
					}
				}
				if len(page.Touchpoints) != len(ids) {
					t.Errorf("visitor %s: %d touchpoints, want %d", v, len(page.Touchpoints), len(ids))
				}
				if !sort.SliceIsSorted(page.Touchpoints, func(i, j int) bool {
					a, b := page.Touchpoints[i], page.Touchpoints[j]
					return a.Derived < b.Derived || a.Derived == b.Derived && a.Seq < b.Seq
				}) {
					t.Errorf("visitor %s: trail out of order", v)
				}
				total += len(ids)
			}
			counted := 0
			days, err := s.Visitors(ctx, "s1", store.VisitorQuery{Limit: store.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range days.Visitors {
				counted += int(d.Count)
			}
			if counted != total {
				t.Errorf("visitors index counts %d touchpoints, %d stored", counted, total)
			}
		})
	}
}

// TestOpenV1Fixture: a data directory written by the release before trail
// keys carried the id hash (testdata/v1, see its README) opens, is
// migrated, reads back whole, and takes new writes without losing the old.
func TestOpenV1Fixture(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "testdata/v1", dir)
	for round := range 2 { // the second open finds format 2 and moves nothing
		s, err := badger.Open(badger.Config{Dir: dir}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		for n := byte(1); n <= 3; n++ {
			v := event.VisitorID{0: 0xf1, 15: n}
			page, err := s.Trail(ctx, "fixture", v, store.TrailQuery{})
			if err != nil {
				t.Fatalf("round %d visitor %d: %v", round, n, err)
			}
			want := 5 + round // round 1: one more written below
			if n != 1 {
				want = 5
			}
			if len(page.Touchpoints) != want {
				t.Fatalf("round %d visitor %d: %d touchpoints, want %d", round, n, len(page.Touchpoints), want)
			}
			i := 0
			for _, tp := range page.Touchpoints {
				if tp.ID == "new-after-migration" {
					continue
				}
				if wantURL := fmt.Sprintf("https://shop.example/p/%d", i); tp.URL != wantURL || tp.ID != fmt.Sprintf("v1-%c%d", 'a'+n, i) {
					t.Errorf("visitor %d #%d: %s %s", n, i, tp.ID, tp.URL)
				}
				i++
			}
		}
		users, err := s.UserVisitors(ctx, "fixture", "user-2")
		if err != nil || len(users) != 1 || users[0] != (event.VisitorID{0: 0xf1, 15: 2}) {
			t.Errorf("user-2's visitors: %v %v", users, err)
		}
		// Old ids still dedupe; a new event of the same time and seq as an
		// old one is a new touchpoint.
		v1 := event.VisitorID{0: 0xf1, 15: 1}
		old := eventAt(v1, "v1-b0", 0, 0)
		old.Site = "fixture"
		var slab []byte
		res, err := s.Write(ctx, []store.Record{store.NewRecord(&old, &slab)})
		if err != nil || res.Duplicates != 1 {
			t.Errorf("re-sent fixture id: %+v %v, want a duplicate", res, err)
		}
		if round == 0 {
			tp := eventAt(v1, "new-after-migration", 0, 0)
			tp.Site = "fixture"
			tp.Derived = time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC).UnixMicro() // = v1-b0's time, seq 0
			if res, err := s.Write(ctx, []store.Record{store.NewRecord(&tp, &slab)}); err != nil || res.Stored != 1 {
				t.Fatalf("new write: %+v %v", res, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
