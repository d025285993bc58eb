package collector_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// gatedStore holds every group commit until released: the writer's queue
// fills behind it, as behind a compaction stall.
type gatedStore struct {
	store.Store // reads; its WriteAsync is hidden
	release     chan struct{}
}

func (g gatedStore) Write(ctx context.Context, recs []store.Record) (store.WriteResult, error) {
	<-g.release
	return g.Store.Write(ctx, recs)
}

// A request that meets a full writer queue waits (up to refusal_delay) for
// room instead of being refused at once: once the writer catches up it is
// taken (202); while the writer stays stuck it gets its 503 after
// refusal_delay, not after twice that.
func TestFullQueueWaitsForRoom(t *testing.T) {
	db, err := badger.Open(badger.Config{Dir: t.TempDir(), DiskReserve: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	g := gatedStore{Store: db, release: make(chan struct{})}
	w := store.NewWriter(g, store.WriterConfig{Mode: store.Async, QueueSize: 2}, nil)
	cfg := collectortest.Config()
	cfg.MaxEvents, cfg.RatePerIP, cfg.RefusalDelay = 1, -1, collector.Duration(300*time.Millisecond)
	srv, err := collector.New(cfg, collector.Deps{Store: db, Writer: w})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	addr := ln.Addr().String()
	send := func(id string) *rawConn {
		c := dial(t, addr)
		b := oneEvent(id)
		c.write(eventsHead(len(b), "") + b)
		return c
	}
	// One group waits in the gate, two records fill the queue.
	send("first").mustAnswer(5*time.Second, http.StatusAccepted)
	testwait.For(t, 5*time.Second, "the writer taking the first group", func() bool { return w.Stats().Queued == 0 })
	send("second").mustAnswer(5*time.Second, http.StatusAccepted)
	send("third").mustAnswer(5*time.Second, http.StatusAccepted)

	// Stuck writer: 503 after refusal_delay (the wait was the hold).
	start := time.Now()
	resp, _ := send("refused").mustAnswer(5*time.Second, http.StatusServiceUnavailable)
	if took := time.Since(start); took < 300*time.Millisecond || took >= 590*time.Millisecond {
		t.Errorf("refused after %s, want refusal_delay (300ms) once", took)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}

	// The writer catches up while a request waits: it is taken.
	waiting := send("waiting")
	testwait.For(t, 5*time.Second, "the request waiting for room", func() bool { return w.Stats().Waiting == 1 })
	if _, _, err := waiting.answer(10 * time.Millisecond); err == nil {
		t.Fatal("answered while the queue was full")
	}
	close(g.release)
	waiting.mustAnswer(5*time.Second, http.StatusAccepted)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Records != 4 || st.Overloaded != 0 {
		t.Errorf("stored %d records, %d refused by the writer: want 4 and 0 (the 503 came from admission)", st.Records, st.Overloaded)
	}
}
