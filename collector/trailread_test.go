package collector

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// TestReadTrailChunksEqualOneRead: a trail read in pipelined chunks hands
// out exactly the touchpoints, in the order, and the cursor that one read
// of the whole page gives, at every page size around the chunk bounds,
// with time ranges and from a cursor.
func TestReadTrailChunksEqualOneRead(t *testing.T) {
	st, err := badger.Open(badger.Config{Dir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	v := event.VisitorID{0: 7, 15: 1}
	const n = 1300
	base := time.Now().Add(-time.Hour).UnixMicro()
	var recs []store.Record
	var slab []byte
	for i := range n {
		tp := event.Touchpoint{ID: fmt.Sprintf("%032x", i+1), Type: event.TypePageview, Site: "s1", Visitor: v,
			Seq: uint32(i + 1), URL: fmt.Sprintf("https://shop.example/p/%d", i)}
		tp.TS = base + int64(i/3)*1000 // three touchpoints share each time
		tp.Derived, tp.Received = tp.TS, tp.TS
		recs = append(recs, store.NewRecord(&tp, &slab))
	}
	if _, err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	mid := time.UnixMicro(base + 100*1000)
	late := time.UnixMicro(base + 400*1000)
	first, err := st.Trail(ctx, "s1", v, store.TrailQuery{Limit: 5})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %v, next %q", err, first.Next)
	}
	for _, q := range []store.TrailQuery{
		{Limit: 1}, {Limit: 100}, {Limit: 2 * trailChunk}, {Limit: 2*trailChunk + 1}, {Limit: 600},
		{Limit: 1000}, {Limit: n}, {Limit: n + 1}, {Limit: 5000}, {},
		{From: mid, Limit: 700}, {From: mid, To: late, Limit: 1000}, {To: late, Limit: 900},
		{Cursor: first.Next, Limit: 1000}, {Cursor: first.Next, Limit: n},
	} {
		want, err := st.Trail(ctx, "s1", v, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		chunks := 0
		next, count, err := readTrail(ctx, st, "s1", v, q, func(tps []event.Touchpoint) {
			chunks++
			for i := range tps {
				got = append(got, tps[i].ID)
			}
		})
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		ids := make([]string, len(want.Touchpoints))
		for i := range want.Touchpoints {
			ids[i] = want.Touchpoints[i].ID
		}
		if !slices.Equal(got, ids) || count != len(ids) {
			t.Errorf("%+v: %d touchpoints (count %d), want %d, or a different order", q, len(got), count, len(ids))
		}
		if next != want.Next {
			t.Errorf("%+v: next %q, want %q", q, next, want.Next)
		}
		if q.Limit > 2*trailChunk && len(ids) > trailChunk && chunks < 2 {
			t.Errorf("%+v: %d touchpoints in %d chunk(s): not pipelined", q, len(ids), chunks)
		}
	}
}

// TestReadTrailStopsOnError: a cancelled read returns the error and leaves
// no reader behind that emits later.
func TestReadTrailStopsOnError(t *testing.T) {
	st, err := badger.Open(badger.Config{Dir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = readTrail(ctx, st, "s1", event.VisitorID{1}, store.TrailQuery{Cursor: "not a cursor", Limit: 1000}, func([]event.Touchpoint) {
		t.Error("emitted after an error")
	})
	if err == nil {
		t.Fatal("no error for a bad cursor")
	}
}
