package bench

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// ceilingA loads a no-op fasthttp server, answering 204 to the very
// requests the collector gets: what the HTTP stack and the load generator
// can do on this machine.
func ceilingA(cfg Config) (Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusNoContent) }}
	go srv.Serve(ln)
	defer srv.Shutdown()
	lr, err := ingestLoad(cfg, ln.Addr().String(), 1).Run()
	return fromLoad("a", "ceiling A: no-op fasthttp, 1 event/request", lr), err
}

// ceilingB writes touchpoints with a raw Badger WriteBatch: no HTTP, no
// decoding, no dedupe, no indexes, no fsync — only event.AppendBinary and
// trail keys, into a Badger opened by the store itself (the same options).
// The touchpoints are drawn from the generator's, decoded and enriched
// beforehand, each with a fresh random 32-hex id and one of as many
// visitors as the collector phases have, so that a visitor's trail is as
// varied (and compresses as well) as there.
func ceilingB(cfg Config) (Result, error) {
	pool, err := touchpoints(cfg, 4096)
	if err != nil {
		return Result{}, err
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 1<<21))
	visitors := make([]event.VisitorID, 2000*cfg.Conns)
	for i := range visitors {
		binary.LittleEndian.PutUint64(visitors[i][:], r.Uint64())
		binary.LittleEndian.PutUint64(visitors[i][8:], r.Uint64())
	}
	ids := make([]string, cfg.Events)
	var id [16]byte
	for i := range ids {
		binary.LittleEndian.PutUint64(id[:], r.Uint64())
		binary.LittleEndian.PutUint64(id[8:], r.Uint64())
		ids[i] = hex.EncodeToString(id[:])
	}
	dir := filepath.Join(cfg.Dir, "b")
	if err := os.RemoveAll(dir); err != nil {
		return Result{}, err
	}
	st, err := badger.Open(badger.Config{Dir: dir}, quietLog())
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	now := time.Now().UnixMicro()
	var val []byte
	var slab []byte // keys and values of many events: Badger keeps them until the batch is written
	start := time.Now()
	wb := st.DB().NewWriteBatch()
	defer wb.Cancel()
	for i := range cfg.Events {
		tp := pool[r.IntN(len(pool))]
		tp.ID, tp.Visitor, tp.Seq = ids[i], visitors[r.IntN(len(visitors))], uint32(i)
		tp.TS, tp.Received, tp.Derived = now+int64(i), now+int64(i), now+int64(i)
		val = event.AppendBinary(val[:0], &tp)
		n := 2 + len(collectortest.Site) + 1 + 16 + 12
		if cap(slab)-len(slab) < n+len(val) {
			slab = make([]byte, 0, max(1<<20, n+len(val)))
		}
		k := len(slab)
		slab = trailKey(slab, collectortest.Site, tp.Visitor, tp.Derived, tp.Seq)
		v := len(slab)
		slab = append(slab, val...)
		if err := wb.Set(slab[k:v:v], slab[v:len(slab):len(slab)]); err != nil {
			return Result{}, err
		}
	}
	if err := wb.Flush(); err != nil {
		return Result{}, err
	}
	elapsed := time.Since(start)
	if err := st.Close(); err != nil {
		return Result{}, err
	}
	return Result{ID: "b", Phase: "ceiling B: raw Badger WriteBatch, same options", Events: cfg.Events,
		EventsPerSec: float64(cfg.Events) / elapsed.Seconds(), BytesPerEvent: float64(dbSize(dir)) / float64(cfg.Events)}, nil
}

// trailKey appends t/<site>/<visitor><derived><seq>, shaped as the
// store's trail keys (big-endian, the sign of the time flipped).
func trailKey(dst []byte, site string, v event.VisitorID, derived int64, seq uint32) []byte {
	dst = append(dst, 't', '/')
	dst = append(dst, site...)
	dst = append(dst, '/')
	dst = append(dst, v[:]...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(derived)^(1<<63))
	return binary.BigEndian.AppendUint32(dst, seq)
}

// touchpoints returns n touchpoints as the collector stores them: the
// generator's events decoded, timed and enriched (with cfg.GeoDB).
func touchpoints(cfg Config, n int) ([]event.Touchpoint, error) {
	en, err := enrich.New(enrich.Config{GeoDB: cfg.GeoDB}, quietLog())
	if err != nil {
		return nil, err
	}
	defer en.Close()
	g := NewGenerator(cfg.Seed, 1<<20, 2000, func() int64 { return time.Now().UnixMilli() })
	var d event.Decoder
	var b event.Batch
	var body []byte
	out := make([]event.Touchpoint, 0, n)
	for len(out) < n {
		body = g.AppendBatch(body[:0], collectortest.Site, 100)
		if err := d.Decode(body, &b); err != nil {
			return nil, err
		}
		now := time.Now().UnixMicro()
		for i := range b.Events {
			tp := &b.Events[i]
			if b.Errs[i] != nil {
				return nil, fmt.Errorf("generated event %d: %w", i, b.Errs[i])
			}
			tp.Site = collectortest.Site
			if !tp.ClientIP.IsValid() {
				tp.ClientIP = netip.MustParseAddr(g.IP())
			}
			tp.DeriveTimeTrusted(now)
			if err := en.Enrich(tp); err != nil {
				return nil, err
			}
			if len(out) < n {
				out = append(out, *tp)
			}
		}
	}
	return out, nil
}

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
