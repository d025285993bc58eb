package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

var (
	ctx   = context.Background()
	quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
)

func openStore(t *testing.T) *badger.Store {
	t.Helper()
	s, err := badger.Open(badger.Config{Dir: t.TempDir(), SyncWrites: true}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(v byte, id string, seq uint32) store.Record {
	tp := event.Touchpoint{ID: id, Type: event.TypePageview, Site: "s", Visitor: event.VisitorID{15: v}, Seq: seq,
		Derived: time.Now().UnixMicro()}
	var slab []byte
	return store.NewRecord(&tp, &slab)
}

func trailLen(t *testing.T, s store.Store, v byte) int {
	t.Helper()
	page, err := s.Trail(ctx, "s", event.VisitorID{15: v}, store.TrailQuery{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Touchpoints)
}

func TestWriterGroupsConcurrentSubmits(t *testing.T) {
	s := openStore(t)
	w := store.NewWriter(s, store.WriterConfig{}, quiet)
	const workers, each = 16, 50
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				r := record(byte(g), fmt.Sprintf("%d-%d", g, i), uint32(i))
				if err := w.Submit(ctx, []store.Record{r}); err != nil {
					t.Error(err)
					return
				}
				// Sync: the record is readable once Submit returns.
				if i == each-1 && trailLen(t, s, byte(g)) != each {
					t.Errorf("worker %d: Submit returned before its record was stored", g)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Records != workers*each || st.Duplicates != 0 {
		t.Fatalf("stats %+v, want %d records", st, workers*each)
	}
	// 800 sync submits with fsync each would be 800 groups; group commit
	// folds concurrent ones together.
	if st.Groups >= workers*each {
		t.Errorf("%d groups for %d submits: no group commit happened", st.Groups, workers*each)
	}
	t.Logf("%d records in %d groups", st.Records, st.Groups)
	for g := range workers {
		if n := trailLen(t, s, byte(g)); n != each {
			t.Errorf("visitor %d has %d touchpoints, want %d", g, n, each)
		}
	}
	if err := w.Submit(ctx, []store.Record{record(1, "late", 1)}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("submit after close: %v", err)
	}
}

// gate holds every Write until released: the writer's queue then fills.
type gate struct {
	store.Store
	release chan struct{}
}

func (g gate) Write(ctx context.Context, recs []store.Record) (store.WriteResult, error) {
	<-g.release
	return g.Store.Write(ctx, recs)
}

func TestWriterOverloadedNeverBlocks(t *testing.T) {
	s := openStore(t)
	g := gate{Store: s, release: make(chan struct{})}
	w := store.NewWriter(g, store.WriterConfig{QueueSize: 4, Mode: store.Async}, quiet)
	var overloaded int
	for i := range 20 {
		err := w.Submit(ctx, []store.Record{record(1, fmt.Sprint(i), uint32(i))})
		switch {
		case errors.Is(err, store.ErrOverloaded):
			overloaded++
		case err != nil:
			t.Fatal(err)
		}
	}
	if overloaded == 0 || w.Stats().Overloaded != uint64(overloaded) {
		t.Fatalf("%d overloaded answers, stats %+v", overloaded, w.Stats())
	}
	close(g.release)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// What was accepted is stored: Close drained the queue.
	if n := trailLen(t, s, 1); n != 20-overloaded {
		t.Fatalf("stored %d, want the %d accepted", n, 20-overloaded)
	}
}

func TestWriterSyncHonoursContext(t *testing.T) {
	s := openStore(t)
	g := gate{Store: s, release: make(chan struct{})}
	w := store.NewWriter(g, store.WriterConfig{}, quiet)
	c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := w.Submit(c, []store.Record{record(1, "a", 1)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocked commit: %v, want the deadline", err)
	}
	close(g.release)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// failing fails every Write.
type failing struct{ store.Store }

func (failing) Write(context.Context, []store.Record) (store.WriteResult, error) {
	return store.WriteResult{}, errors.New("disk on fire")
}

func TestWriterReportsCommitErrors(t *testing.T) {
	w := store.NewWriter(failing{openStore(t)}, store.WriterConfig{}, quiet)
	if err := w.Submit(ctx, []store.Record{record(1, "a", 1)}); err == nil {
		t.Fatal("a failed commit was acknowledged")
	}
	if w.Stats().Errors != 1 {
		t.Errorf("stats %+v", w.Stats())
	}
	w.Close(ctx)
}

// failFirst fails its first Write once released, after the writer has
// queued more requests behind it; later Writes go through.
type failFirst struct {
	store.Store
	entered, release chan struct{}
	calls            atomic.Int32
}

func (f *failFirst) Write(ctx context.Context, recs []store.Record) (store.WriteResult, error) {
	if f.calls.Add(1) == 1 {
		close(f.entered)
		<-f.release
		return store.WriteResult{}, errors.New("disk on fire")
	}
	return f.Store.Write(ctx, recs)
}

func TestWriterFailedGroupLosesNoOther(t *testing.T) {
	s := openStore(t)
	f := &failFirst{Store: s, entered: make(chan struct{}), release: make(chan struct{})}
	w := store.NewWriter(f, store.WriterConfig{}, quiet)
	first := make(chan error, 1)
	go func() { first <- w.Submit(ctx, []store.Record{record(1, "doomed", 1)}) }()
	<-f.entered
	// These queue behind the failing commit and form the next group.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if err := w.Submit(ctx, []store.Record{record(2, fmt.Sprint(i), uint32(i))}); err != nil {
				t.Errorf("submit %d behind a failed group: %v", i, err)
			}
		})
	}
	for w.Stats().Queued < 10 {
		time.Sleep(time.Millisecond)
	}
	close(f.release)
	if err := <-first; err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("submitter of the failed group got %v", err)
	}
	wg.Wait()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := trailLen(t, s, 2); n != 10 {
		t.Errorf("%d of the 10 records behind the failed group stored", n)
	}
	if st := w.Stats(); st.Errors != 1 || st.Records != 10 || st.Groups != 1 || st.LastGroup != 10 {
		t.Errorf("stats %+v, want 1 error, then one group of 10", st)
	}
}

func TestWriterAsyncCloseDrains(t *testing.T) {
	s := openStore(t)
	w := store.NewWriter(s, store.WriterConfig{Mode: store.Async, MaxBatch: 64}, quiet)
	const n = 2000
	for i := range n {
		if err := w.Submit(ctx, []store.Record{record(byte(i%7), fmt.Sprint(i), uint32(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	total := 0
	for v := range 7 {
		total += trailLen(t, s, byte(v))
	}
	if st := w.Stats(); total != n || st.Records != n || st.Queued != 0 {
		t.Fatalf("%d stored after Close, stats %+v, want %d", total, st, n)
	}
	if st := w.Stats(); st.Groups >= n {
		t.Errorf("%d groups for %d records", st.Groups, n)
	}
}

func TestWriterRefusesBeforeQueueing(t *testing.T) {
	s := openStore(t)
	w := store.NewWriter(s, store.WriterConfig{}, quiet)
	defer w.Close(ctx)
	bad := record(1, "a", 1)
	bad.Site = "no/slash"
	if err := w.Submit(ctx, []store.Record{record(1, "b", 2), bad}); !errors.Is(err, store.ErrInvalidKey) {
		t.Errorf("invalid site: %v, want ErrInvalidKey", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Submit(done, []store.Record{record(1, "c", 3)}); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v", err)
	}
	if n := trailLen(t, s, 1); n != 0 || w.Stats().Groups != 0 {
		t.Errorf("refused requests were queued: %d stored, stats %+v", n, w.Stats())
	}
}

// WaitRoom returns at once while there is room, waits for a full queue to
// drain to half (then true), gives up after its timeout (false), and says
// false after Close.
func TestWriterWaitRoom(t *testing.T) {
	s := openStore(t)
	g := gate{Store: s, release: make(chan struct{})}
	w := store.NewWriter(g, store.WriterConfig{QueueSize: 4, Mode: store.Async}, quiet)
	if !w.WaitRoom(4, 0) {
		t.Fatal("an empty queue has no room")
	}
	// The first record's group waits in the gate; four more fill the queue.
	for i := range 5 {
		if err := w.Submit(ctx, []store.Record{record(1, fmt.Sprint(i), uint32(i))}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			for w.Stats().Queued != 0 { // the loop took it
				runtime.Gosched()
			}
		}
	}
	if w.WaitRoom(1, 0) {
		t.Fatal("room in a full queue")
	}
	start := time.Now()
	if w.WaitRoom(1, 30*time.Millisecond) || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("WaitRoom with a stuck writer returned true or early (%s)", time.Since(start))
	}
	got := make(chan bool, 1)
	go func() { got <- w.WaitRoom(2, 10*time.Second) }()
	select {
	case ok := <-got:
		t.Fatalf("WaitRoom returned %v while the queue is full", ok)
	case <-time.After(20 * time.Millisecond): // a negative check: nothing may arrive
	}
	close(g.release)
	if !<-got {
		t.Fatal("no room once the writer caught up")
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.WaitRoom(1, time.Second) {
		t.Fatal("room after Close")
	}
	if n := trailLen(t, s, 1); n != 5 {
		t.Fatalf("stored %d, want 5", n)
	}
}
