//go:build !race

package collector_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// keptStore counts what the writer hands it. The allocation test puts it
// under the real writer so that what is counted is the request's path —
// admission, reading, decoding, validation, enrichment, encoding, the
// writer's queue and group, the answer — and not Badger's commit, which the
// benchmarks measure (every allocation in the process counts in
// testing.AllocsPerRun, whatever goroutine makes it).
type keptStore struct {
	store.Store // reads; its WriteAsync is hidden
	events      atomic.Int64
}

func (k *keptStore) Write(_ context.Context, recs []store.Record) (store.WriteResult, error) {
	k.events.Add(int64(len(recs)))
	return store.WriteResult{Stored: len(recs)}, nil
}

// A whole request through the real handler, as the server calls it after
// reading the headers, allocates at most twice for one event and three
// times for a batch of 100 (STYLE 17), in both durabilities, with geo on:
// the decoder's one string of the batch's fields and little else.
func TestRequestAllocations(t *testing.T) {
	// In async durability a request's records wait for their group's
	// commit; the writer gives their memory back to a pool afterwards, so
	// the pool needs some requests' worth to fill.
	const warm, runs = 500, 1000
	db, err := badger.Open(badger.Config{InMemory: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	en, err := enrich.New(enrich.Config{GeoDB: geotest.CityDB(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { en.Close() })
	for _, mode := range []store.Durability{store.Sync, store.Async} {
		for _, c := range []struct {
			events int
			max    float64
		}{{1, 2}, {100, 3}} {
			name := fmt.Sprintf("sync-%d", c.events)
			if mode == store.Async {
				name = fmt.Sprintf("async-%d", c.events)
			}
			t.Run(name, func(t *testing.T) {
				kept := &keptStore{Store: db}
				w := store.NewWriter(kept, store.WriterConfig{Mode: mode}, nil)
				srv, err := collector.New(collectortest.Config(), collector.Deps{Store: db, Writer: w, Enricher: en})
				if err != nil {
					t.Fatal(err)
				}
				h := srv.Handler()
				body := batchBody(c.events)
				var ctx fasthttp.RequestCtx
				ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}, nil)
				run := func() {
					// The request as the server hands it over, headers
					// and body read into ctx's reused buffers.
					req := &ctx.Request
					req.Reset()
					ctx.Response.Reset()
					req.Header.SetMethod(fasthttp.MethodPost)
					req.SetRequestURI("/v1/events")
					req.Header.SetContentType("text/plain")
					req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+collectortest.WriteKey)
					req.Header.Set(collector.TrustedIPHeader, "81.2.69.160")
					req.SetBody(body)
					h(&ctx)
					if ctx.Response.StatusCode() != fasthttp.StatusAccepted {
						t.Fatalf("%d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
					}
					// A connection's goroutine waits for its next request
					// here, and the writer runs meanwhile.
					runtime.Gosched()
				}
				for range warm { // warm the pools and caches
					run()
				}
				got := testing.AllocsPerRun(runs, run)
				if err := w.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				if stored := kept.events.Load(); stored != int64(warm+runs+1)*int64(c.events) {
					t.Errorf("%d events stored, want %d", stored, (warm+runs+1)*c.events)
				}
				t.Logf("%.1f allocations a request", got)
				if got > c.max {
					t.Errorf("%.1f allocations a request of %d events, want ≤ %.0f", got, c.events, c.max)
				}
			})
		}
	}
}
