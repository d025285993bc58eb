package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Config sizes a harness run.
type Config struct {
	Duration time.Duration // per load phase. Default: 10s
	Conns    int           // load connections. Default: 64
	Events   int           // events written in the ceiling B phase. Default: 500,000
	Dir      string        // scratch directory. Default: a temporary one
	Log      func(format string, args ...any)
}

// Result is one row of the table.
type Result struct {
	Phase          string
	ReqPerSec      float64
	EventsPerSec   float64
	P50, P99, P999 time.Duration
	Ceiling        string  // which ceiling the ratio is to
	Ratio          float64 // to that ceiling, 0 when none
	BytesPerEvent  float64 // on disk after a flush, 0 when not measured
	PeakRSS        int64
}

func (c Config) withDefaults() Config {
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Conns <= 0 {
		c.Conns = 64
	}
	if c.Events <= 0 {
		c.Events = 500_000
	}
	if c.Log == nil {
		c.Log = func(string, ...any) {}
	}
	return c
}

// Run runs every phase in this process, one after the other, and returns
// the rows of the table.
func Run(cfg Config) ([]Result, error) {
	cfg = cfg.withDefaults()
	if cfg.Dir == "" {
		d, err := os.MkdirTemp("", "ttbench")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		cfg.Dir = d
	}
	var out []Result
	add := func(r Result) {
		r.PeakRSS = PeakRSS()
		cfg.Log("%-34s %10.0f req/s %10.0f ev/s  p50 %-9s p99 %-9s p99.9 %-9s", r.Phase, r.ReqPerSec, r.EventsPerSec, r.P50, r.P99, r.P999)
		out = append(out, r)
	}

	// Ceiling A: a no-op fasthttp server answering 204 to the same requests.
	a, err := ceilingA(cfg)
	if err != nil {
		return out, fmt.Errorf("ceiling A: %w", err)
	}
	add(a)
	for _, p := range []struct {
		name   string
		mode   store.Durability
		batch  int
		versus string
	}{
		{"collector, 1 event/request, sync", store.Sync, 1, "A"},
		{"collector, 1 event/request, async", store.Async, 1, "A"},
		{"collector, 100 events/request, sync", store.Sync, 100, "B"},
		{"collector, 100 events/request, async", store.Async, 100, "B"},
	} {
		r, err := collectorPhase(cfg, p.name, p.mode, p.batch)
		if err != nil {
			return out, fmt.Errorf("%s: %w", p.name, err)
		}
		r.Ceiling = p.versus // B's ratios are set once B is measured, below
		if p.versus == "A" {
			r.Ratio = r.ReqPerSec / a.ReqPerSec
		}
		add(r)
	}
	// Latency at half of the async peak: what a collector sized with 2×
	// headroom shows its clients.
	for _, r := range out {
		if r.Phase == "collector, 1 event/request, async" {
			half, err := halfLoad(cfg, r.ReqPerSec/2)
			if err != nil {
				return out, fmt.Errorf("half load: %w", err)
			}
			add(half)
		}
	}
	b, err := ceilingB(cfg)
	if err != nil {
		return out, fmt.Errorf("ceiling B: %w", err)
	}
	add(b)
	for i := range out {
		if out[i].Ceiling == "B" {
			out[i].Ratio = out[i].EventsPerSec / b.EventsPerSec
		}
	}
	reads, err := readPhases(cfg)
	if err != nil {
		return out, fmt.Errorf("trail reads: %w", err)
	}
	for _, r := range reads {
		add(r)
	}
	return out, nil
}

func fromLoad(name string, lr LoadResult) Result {
	if lr.Shed > 0 {
		name += fmt.Sprintf(" (%.0f %% shed: 503)", 100*float64(lr.Shed)/float64(lr.Requests))
	}
	return Result{Phase: name, ReqPerSec: lr.ReqPerSec(), EventsPerSec: lr.EventsPerSec(),
		P50: lr.Latency.Percentile(50), P99: lr.Latency.Percentile(99), P999: lr.Latency.Percentile(99.9)}
}

// ingestLoad sends batch-event requests the way a backend does: the write
// key, and the client's IP and user agent it speaks for.
func ingestLoad(cfg Config, addr string, batch int) Load {
	gens := make([]*Generator, cfg.Conns)
	now := func() int64 { return time.Now().UnixMilli() }
	for w := range gens {
		gens[w] = NewGenerator(1, w, 2000, now)
	}
	bufs := make([][]byte, cfg.Conns)
	ips := make([][]byte, cfg.Conns)
	return Load{
		Addr: addr, Conns: cfg.Conns, Duration: cfg.Duration,
		Request: func(w int, req *fasthttp.Request) int {
			g := gens[w]
			bufs[w] = g.AppendBatch(bufs[w][:0], collectortest.Site, batch)
			ips[w] = g.ClientIP(ips[w][:0])
			req.Header.SetMethod("POST")
			req.SetRequestURI("/v1/events")
			req.Header.SetContentType("text/plain")
			req.Header.Set("Authorization", "Bearer "+collectortest.WriteKey)
			req.Header.SetBytesV("X-Touchtrail-Client-IP", ips[w])
			req.Header.SetUserAgent(g.UserAgent())
			req.SetBody(bufs[w])
			return batch
		},
		Check: func(resp *fasthttp.Response) bool {
			return resp.StatusCode() == fasthttp.StatusAccepted || resp.StatusCode() == 204
		},
		Shed: func(resp *fasthttp.Response) bool { return resp.StatusCode() == fasthttp.StatusServiceUnavailable },
	}
}

func halfLoad(cfg Config, rate float64) (Result, error) {
	dir := filepath.Join(cfg.Dir, "collector-half")
	col, err := collectortest.Launch(collectortest.Options{Dir: dir, Durability: store.Async})
	if err != nil {
		return Result{}, err
	}
	defer col.Stop()
	l := ingestLoad(cfg, col.Addr, 1)
	l.Rate = rate
	lr, err := l.Run()
	return fromLoad(fmt.Sprintf("collector, 1 event, async, at half peak (%.0f req/s)", rate), lr), err
}

func ceilingA(cfg Config) (Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusNoContent) }}
	go srv.Serve(ln)
	defer srv.Shutdown()
	lr, err := ingestLoad(cfg, ln.Addr().String(), 1).Run()
	return fromLoad("ceiling A: no-op fasthttp, 1 event", lr), err
}

func collectorPhase(cfg Config, name string, mode store.Durability, batch int) (Result, error) {
	dir := filepath.Join(cfg.Dir, fmt.Sprintf("collector-%d-%d", mode, batch))
	col, err := collectortest.Launch(collectortest.Options{Dir: dir, Durability: mode})
	if err != nil {
		return Result{}, err
	}
	lr, err := ingestLoad(cfg, col.Addr, batch).Run()
	col.Stop() // flushes the memtables: the disk size is then what stays
	r := fromLoad(name, lr)
	if lr.Events > 0 {
		r.BytesPerEvent = float64(dbSize(dir)) / float64(lr.Events)
	}
	return r, err
}

// dbSize is what Badger keeps: tables and value log, not the manifest or
// the discard file it preallocates.
func dbSize(dir string) int64 {
	var n int64
	for _, pat := range []string{"*.sst", "*.vlog"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range m {
			if st, err := os.Stat(f); err == nil {
				n += st.Size()
			}
		}
	}
	return n
}

// ceilingB writes the same kind of encoded events with a raw Badger
// WriteBatch, with the store's options and trail-shaped keys.
func ceilingB(cfg Config) (Result, error) {
	dir := filepath.Join(cfg.Dir, "ceiling-b")
	opts := bdg.DefaultOptions(dir).WithLogger(nil).WithCompression(options.ZSTD).WithZSTDCompressionLevel(1).
		WithMemTableSize(16 << 20).WithNumMemtables(3).WithBlockCacheSize(32 << 20).WithValueLogFileSize(64 << 20)
	db, err := bdg.Open(opts)
	if err != nil {
		return Result{}, err
	}
	tp := event.Touchpoint{ID: "w1-123456", Type: event.TypePageview, Seq: 7, URL: "https://shop.example/products/123?utm_source=news",
		Referrer: "https://www.google.com/", Results: -1, Browser: "Chrome", BrowserVersion: "124.0", OS: "Windows",
		Device: event.DeviceDesktop, Channel: event.ChannelReferral, UTM: event.UTM{Source: "news"}}
	now := time.Now().UnixMicro()
	key := make([]byte, 0, 64)
	var val []byte
	start := time.Now()
	wb := db.NewWriteBatch()
	for i := range cfg.Events {
		tp.Derived, tp.TS, tp.Received = now+int64(i), now+int64(i), now+int64(i)
		val = event.AppendBinary(val[:0], &tp)
		key = append(key[:0], "t/test/"...)
		key = binary.BigEndian.AppendUint64(key, uint64(i%2000))
		key = binary.BigEndian.AppendUint64(key, uint64(i/2000))
		key = binary.BigEndian.AppendUint64(key, uint64(tp.Derived))
		key = binary.BigEndian.AppendUint32(key, uint32(i))
		if err := wb.Set(append([]byte(nil), key...), append([]byte(nil), val...)); err != nil {
			return Result{}, err
		}
	}
	if err := wb.Flush(); err != nil {
		return Result{}, err
	}
	elapsed := time.Since(start)
	if err := db.Close(); err != nil {
		return Result{}, err
	}
	return Result{Phase: "ceiling B: Badger WriteBatch", EventsPerSec: float64(cfg.Events) / elapsed.Seconds(),
		BytesPerEvent: float64(dbSize(dir)) / float64(cfg.Events)}, nil
}

// readPhases loads visitors with 10, 100 and 1,000 touchpoints and reads
// their whole trails through the query API.
func readPhases(cfg Config) ([]Result, error) {
	dir := filepath.Join(cfg.Dir, "reads")
	col, err := collectortest.Launch(collectortest.Options{Dir: dir, Durability: store.Async})
	if err != nil {
		return nil, err
	}
	defer col.Stop()
	var out []Result
	for _, n := range []int{10, 100, 1000} {
		visitors := make([]string, 50)
		var recs []store.Record
		var slab []byte
		now := time.Now().Add(-time.Hour).UnixMicro()
		for vi := range visitors {
			var v event.VisitorID
			binary.BigEndian.PutUint64(v[:], uint64(n))
			binary.BigEndian.PutUint64(v[8:], uint64(vi+1))
			visitors[vi] = v.String()
			for i := range n {
				tp := event.Touchpoint{ID: fmt.Sprint(i), Type: event.TypePageview, Site: collectortest.Site, Visitor: v,
					Seq: uint32(i), Derived: now + int64(i)*1000, URL: "https://shop.example/products/1", Results: -1,
					Browser: "Chrome", OS: "Windows", Device: event.DeviceDesktop}
				recs = append(recs, store.NewRecord(&tp, &slab))
			}
		}
		if _, err := col.Store.Write(context.Background(), recs); err != nil {
			return nil, err
		}
		paths := make([]string, len(visitors))
		for i, v := range visitors {
			paths[i] = "/v1/sites/test/visitors/" + v + "/trail?limit=1000"
		}
		next := make([]int, cfg.Conns)
		lr, err := Load{Addr: col.Addr, Conns: min(cfg.Conns, 16), Duration: cfg.Duration / 2,
			Request: func(w int, req *fasthttp.Request) int {
				next[w]++
				req.SetRequestURI(paths[next[w]%len(paths)])
				req.Header.Set("Authorization", "Bearer "+collectortest.ReadToken)
				return n
			},
			Check: func(resp *fasthttp.Response) bool { return resp.StatusCode() == 200 },
		}.Run()
		if err != nil {
			return out, err
		}
		r := fromLoad(fmt.Sprintf("trail read, %d touchpoints", n), lr)
		out = append(out, r)
	}
	return out, nil
}
