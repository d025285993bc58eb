package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// Config sizes a harness run. Zero values mean the defaults.
type Config struct {
	Duration time.Duration // per load phase; trail reads get half each. Default: 10s
	Conns    int           // load connections. Default: 64
	Events   int           // events written in the ceiling B phase. Default: 500,000
	Seed     uint64        // of the event generators. Default: 1
	GeoDB    string        // GeoLite2/GeoIP2 City database for enrichment. Default: none (no geo)
	// Phases selects phases by id (see PhaseIDs). Default: all of them.
	// A ratio needs its ceiling in the same run; "half" needs "async1".
	Phases []string
	Dir    string // scratch directory. Default: a temporary one, removed at the end
	// Verify checks, after each collector phase, that the store holds
	// exactly the events the collector accepted, enriched (the smoke test
	// sets it; it costs a scan of the day index).
	Verify bool
	// MaxOthers, when set, redoes a phase (at most twice, each time after
	// waiting up to a minute for a quiet second) in which other processes
	// took more than this share (0..1) of the machine's CPU.
	MaxOthers float64
	// OverloadConns are the connections of the overload phase ("over1k");
	// "over4k" uses four times as many. Default: 1024.
	OverloadConns int
	// Child, when set, is this program's path: the overload phases then
	// run their collector in a child process (`Child -serve-collector
	// DIR`), so that their peak RSS is the collector's alone.
	Child string
	Log   func(format string, args ...any) // progress. Default: quiet
	// SteadyHistory is the touchpoints the store holds before a steady
	// phase starts (see steady.go). Default: 3,000,000.
	SteadyHistory int
	// SteadyDuration is the length of each steady phase, measured in
	// slices of SteadySlice. Default: 2m in slices of 10s.
	SteadyDuration, SteadySlice time.Duration
	// CacheDir keeps the steady phases' history between runs. Default:
	// touchtrail-bench in the user's cache directory.
	CacheDir string
	// SteadyProfiles, when set, is a directory where each steady phase
	// leaves its CPU profile (<phase>.pprof; the load generator's samples
	// are labelled ttbench-load) and its heap profile at the slice where
	// the resident set peaked (<phase>-heap.pprof).
	SteadyProfiles string
}

// PhaseIDs are the phases in the order they run.
var PhaseIDs = []string{"a", "sync1", "async1", "half", "b", "sync100", "async100", "cluster1", "cluster100", "reads", "peak500", "over1k", "over4k", "ss-async1", "ss-sync1", "ss-half"}

// Result is one row of the table.
type Result struct {
	ID             string // phase id (PhaseIDs; reads are "read<N>" and "store<N>")
	Phase          string // what the row measures, for people
	Requests       int    // successful requests (or store reads)
	Events         int    // events taken (or touchpoints read)
	Shed           int    // requests answered 503 (shed load)
	ReqPerSec      float64
	EventsPerSec   float64
	P50, P99, P999 time.Duration
	Ceiling        string  // the row's ceiling ("A", "B", "R"; a cluster row: the single-node row "sync1" or "sync100"), "" for none
	Ratio          float64 // to that ceiling's figure, 0 when not measured
	BytesPerEvent  float64 // on disk after a flush, 0 when not measured
	PeakRSS        int64   // bytes
	RSSPerPhase    bool    // PeakRSS is this phase's own peak, not the process's so far
	OwnRSS         bool    // PeakRSS is the collector process's alone (no load generator)
	// EventsPerCPU is the events taken per CPU second of the collector
	// process (overload phases; 0 when not measured): unlike events/s it
	// holds when other processes take the CPU.
	EventsPerCPU float64
	// Others is the share of the machine's CPU time that other processes
	// took during the phase (0..1): above a few percent, the row is noise.
	Others float64
	Slices []Slice // a steady phase's time slices
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
	if c.Seed == 0 {
		c.Seed = 1
	}
	if len(c.Phases) == 0 {
		c.Phases = PhaseIDs
	}
	if c.Log == nil {
		c.Log = func(string, ...any) {}
	}
	if c.OverloadConns <= 0 {
		c.OverloadConns = 1024
	}
	if c.SteadyHistory <= 0 {
		c.SteadyHistory = 3_000_000
	}
	if c.SteadyDuration <= 0 {
		c.SteadyDuration = 2 * time.Minute
	}
	if c.SteadySlice <= 0 {
		c.SteadySlice = min(10*time.Second, c.SteadyDuration)
	}
	if c.CacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			d = os.TempDir()
		}
		c.CacheDir = filepath.Join(d, "touchtrail-bench")
	}
	return c
}

// Run runs the selected phases in this process, one after the other, and
// returns the rows of the table. On an error it returns the rows so far.
func Run(cfg Config) ([]Result, error) {
	cfg = cfg.withDefaults()
	for _, p := range cfg.Phases {
		if !slices.Contains(PhaseIDs, p) {
			return nil, fmt.Errorf("unknown phase %q: want some of %v", p, PhaseIDs)
		}
	}
	if cfg.Dir == "" {
		d, err := os.MkdirTemp("", "ttbench")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		cfg.Dir = d
	}
	h := &harness{cfg: cfg}
	for _, id := range PhaseIDs {
		if !slices.Contains(cfg.Phases, id) {
			continue
		}
		var err error
		switch id {
		case "a":
			err = h.measure(func() (Result, error) { return ceilingA(cfg) })
		case "sync1", "async1", "sync100", "async100":
			err = h.measure(func() (Result, error) { return collectorPhase(cfg, id) })
		case "half":
			peak := h.find("async1")
			if peak == nil {
				cfg.Log("phase half skipped: it runs at half of async1's rate")
				continue
			}
			rate := peak.ReqPerSec / 2
			err = h.measure(func() (Result, error) { return halfLoad(cfg, rate) })
		case "b":
			err = h.measure(func() (Result, error) { return ceilingB(cfg) })
		case "cluster1", "cluster100":
			err = h.measure(func() (Result, error) { return clusterPhase(cfg, id) })
		case "reads":
			err = h.reads()
		case "peak500", "over1k", "over4k":
			err = h.measure(func() (Result, error) { return overloadPhase(cfg, id) })
		case "ss-async1", "ss-sync1", "ss-half":
			rate := 0.0
			if id == "ss-half" {
				peak := h.find("ss-async1")
				if peak == nil {
					cfg.Log("phase ss-half skipped: it runs at half of ss-async1's rate")
					continue
				}
				rate = peak.ReqPerSec / 2
			}
			if _, err = h.history(); err == nil { // built (once) outside the measured phase
				err = h.measure(func() (Result, error) { return h.steadyPhase(id, rate) })
			}
		}
		if err != nil {
			return h.out, fmt.Errorf("phase %s: %w", id, err)
		}
	}
	h.ratios()
	return h.out, nil
}

type harness struct {
	cfg Config
	out []Result
}

// measure runs one phase between a reset of the peak RSS and its reading,
// again while other processes took more than MaxOthers of the CPU.
func (h *harness) measure(phase func() (Result, error)) error {
	for try := 0; ; try++ {
		perPhase := ResetPeakRSS() == nil
		cpu := readCPU()
		r, err := phase()
		if err != nil {
			return err
		}
		r.Others = othersCPU(cpu, readCPU())
		if !r.OwnRSS {
			r.PeakRSS, r.RSSPerPhase = PeakRSS(), perPhase
		}
		h.cfg.Log("%-44s %9.0f req/s %9.0f ev/s  p50 %-9s p99 %-9s p99.9 %-9s %4d MiB  others %.0f %%",
			r.Phase, r.ReqPerSec, r.EventsPerSec, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond),
			r.P999.Round(time.Microsecond), r.PeakRSS>>20, 100*r.Others)
		if h.cfg.MaxOthers > 0 && r.Others > h.cfg.MaxOthers && try < 2 {
			h.cfg.Log("  other processes took %.0f %% of the CPU: again when quiet", 100*r.Others)
			WaitQuiet(time.Minute, h.cfg.MaxOthers)
			continue
		}
		h.out = append(h.out, r)
		return nil
	}
}

func (h *harness) find(id string) *Result {
	for i := range h.out {
		if h.out[i].ID == id {
			return &h.out[i]
		}
	}
	return nil
}

// ratios sets each row's ratio to its ceiling measured in this run:
// requests/s to A for one-event requests, events/s to B for batches,
// accepted events/s under overload to P (the unsaturated peak),
// reads/s to R (the store read directly) for trail reads over HTTP.
func (h *harness) ratios() {
	for i := range h.out {
		r := &h.out[i]
		var c *Result
		switch r.Ceiling {
		case "A":
			c = h.find("a")
		case "B":
			c = h.find("b")
		case "R":
			c = h.find("store" + r.ID[len("read"):])
		case "P":
			c = h.find("peak500")
		case "sync1", "sync100": // a cluster row: to the single node's
			c = h.find(r.Ceiling)
		}
		if r.Ceiling == "P" && c != nil && c.EventsPerCPU > 0 && r.EventsPerCPU > 0 {
			r.Phase += fmt.Sprintf(" (%.0f events per collector CPU-second: %.0f %% of the peak's)", r.EventsPerCPU, 100*r.EventsPerCPU/c.EventsPerCPU)
		} else if r.EventsPerCPU > 0 {
			r.Phase += fmt.Sprintf(" (%.0f events per collector CPU-second)", r.EventsPerCPU)
		}
		switch {
		case c == nil:
		case r.Ceiling == "B" || r.Ceiling == "P" || r.Ceiling == "sync100":
			r.Ratio = r.EventsPerSec / c.EventsPerSec
		default:
			r.Ratio = r.ReqPerSec / c.ReqPerSec
		}
	}
}

func fromLoad(id, name string, lr LoadResult) Result {
	if lr.Shed > 0 {
		name += fmt.Sprintf(" (%.0f %% of requests shed: 503)", 100*float64(lr.Shed)/float64(lr.Requests+lr.Shed))
	}
	if lr.Errors > 0 {
		name += fmt.Sprintf(" (%d requests failed)", lr.Errors)
	}
	return Result{ID: id, Phase: name, Requests: lr.Requests, Events: lr.Events, Shed: lr.Shed,
		ReqPerSec: lr.ReqPerSec(), EventsPerSec: lr.EventsPerSec(),
		P50: lr.Latency.Percentile(50), P99: lr.Latency.Percentile(99), P999: lr.Latency.Percentile(99.9)}
}

// ingestLoad sends batch-event requests as the site's backend does: with
// the write key, the client IP it speaks for in the trusted header, and
// each visitor's user agent in its events.
func ingestLoad(cfg Config, addr string, batch int) Load {
	gens := make([]*Generator, cfg.Conns)
	now := func() int64 { return time.Now().UnixMilli() }
	for w := range gens {
		gens[w] = NewGenerator(cfg.Seed, w, 2000, now)
	}
	bufs := make([][]byte, cfg.Conns)
	auth := []byte("Bearer " + collectortest.WriteKey)
	return Load{
		Addr: addr, Conns: cfg.Conns, Duration: cfg.Duration,
		Request: func(w int, req *fasthttp.Request) int {
			g := gens[w]
			bufs[w] = g.AppendBatch(bufs[w][:0], collectortest.Site, batch)
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetRequestURI("/v1/events")
			req.Header.SetContentType("text/plain")
			req.Header.SetBytesV(fasthttp.HeaderAuthorization, auth)
			req.Header.Set("X-Touchtrail-Client-IP", g.IP())
			req.SetBody(bufs[w])
			return batch
		},
		Check: checkAccepted,
		Shed:  func(resp *fasthttp.Response) bool { return resp.StatusCode() == fasthttp.StatusServiceUnavailable },
	}
}

// checkAccepted reads the collector's 202 {"accepted":n,"rejected":[…]}:
// every event must be accepted (a no-op server's 204 takes them all).
func checkAccepted(resp *fasthttp.Response, events int) (int, error) {
	switch resp.StatusCode() {
	case fasthttp.StatusNoContent:
		return events, nil
	case fasthttp.StatusAccepted:
	default:
		return 0, fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
	}
	const prefix, ok = `{"accepted":`, `,"rejected":[]`
	b := resp.Body()
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return 0, fmt.Errorf("unexpected answer %.200s", b)
	}
	b = b[len(prefix):]
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(string(b[:i]))
	if err != nil || n != events || len(b[i:]) < len(ok) || string(b[i:i+len(ok)]) != ok {
		return 0, fmt.Errorf("%d events sent, answer %.200s", events, resp.Body())
	}
	return n, nil
}

// collectorPhase loads a fresh collector with one- or 100-event requests.
func collectorPhase(cfg Config, id string) (Result, error) {
	mode, batch, ceiling := store.Sync, 1, "A"
	if id == "async1" || id == "async100" {
		mode = store.Async
	}
	if id == "sync100" || id == "async100" {
		batch, ceiling = 100, "B"
	}
	name := "collector, 1 event/request, sync"
	if batch > 1 {
		name = fmt.Sprintf("collector, %d events/request, sync", batch)
	}
	if mode == store.Async {
		name = strings.TrimSuffix(name, "sync") + "async"
	}
	dir := filepath.Join(cfg.Dir, id)
	if err := os.RemoveAll(dir); err != nil { // a phase run again starts afresh
		return Result{}, err
	}
	col, err := collectortest.Launch(collectortest.Options{Dir: dir, Durability: mode, GeoDB: cfg.GeoDB})
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	lr, err := ingestLoad(cfg, col.Addr, batch).Run()
	col.Stop() // drains the writer, flushes the memtables: the disk size is then what stays
	r := fromLoad(id, name, lr)
	r.Ceiling = ceiling
	if lr.Events > 0 {
		r.BytesPerEvent = float64(dbSize(dir)) / float64(lr.Events)
	}
	if err == nil && cfg.Verify {
		err = verifyStored(dir, start, lr.Events)
	}
	return r, err
}

// halfLoad paces one-event requests to an async collector at rate: the
// latency a collector sized with 2× headroom shows its clients.
func halfLoad(cfg Config, rate float64) (Result, error) {
	dir := filepath.Join(cfg.Dir, "half")
	if err := os.RemoveAll(dir); err != nil {
		return Result{}, err
	}
	col, err := collectortest.Launch(collectortest.Options{Dir: dir, Durability: store.Async, GeoDB: cfg.GeoDB})
	if err != nil {
		return Result{}, err
	}
	defer col.Stop()
	l := ingestLoad(cfg, col.Addr, 1)
	l.Rate = rate
	lr, err := l.Run()
	return fromLoad("half", fmt.Sprintf("collector, 1 event, async, paced to half of its peak (%.0f req/s)", rate), lr), err
}

// verifyStored reopens the store in dir and checks that its day index counts exactly n touchpoints
// since start (each accepted event stored once) and that one visitor's
// trail came through enrichment (browser and OS set).
func verifyStored(dir string, start time.Time, n int) error {
	st, err := badger.Open(badger.Config{Dir: dir}, quietLog())
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	q := store.VisitorQuery{From: start.Add(-time.Hour), To: time.Now().Add(time.Hour), Limit: store.MaxLimit}
	total := 0
	var some store.VisitorDay
	for {
		page, err := st.Visitors(ctx, collectortest.Site, q)
		if err != nil {
			return err
		}
		for _, v := range page.Visitors {
			total += int(v.Count)
			some = v
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	if total != n {
		return fmt.Errorf("verify: %d touchpoints stored, %d accepted", total, n)
	}
	trail, err := st.Trail(ctx, collectortest.Site, some.Visitor, store.TrailQuery{})
	if err != nil {
		return err
	}
	if len(trail.Touchpoints) == 0 || trail.Touchpoints[0].Browser == "" || trail.Touchpoints[0].OS == "" {
		return fmt.Errorf("verify: visitor %s: not enriched: %+v", some.Visitor, trail.Touchpoints)
	}
	return nil
}

// dbSize is what Badger keeps after a close: its tables and value log,
// not the manifest, key registry or the discard file it preallocates.
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
