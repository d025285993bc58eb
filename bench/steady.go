package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// The steady state: the collector ingesting into a store that already holds
// a realistic history (SteadyHistory touchpoints over 30 days), long enough
// for memtable flushes and compactions to come round again and again. Each
// steady phase starts from its own copy of the history, built once by the
// generator straight into the store (no HTTP) and kept in CacheDir between
// runs.

// Slice is one time slice of a steady phase.
type Slice struct {
	At              time.Duration // since the phase started, at the slice's end
	ReqPerSec       float64
	P50, P99, P999  time.Duration
	CPUPerEvent     float64 // µs of the process's CPU (server and load) per event
	ServerCPU       float64 // µs of the server's CPU per event (the profile's share without the load generator)
	CompactionShare float64 // of the server's CPU: Badger compactions and memtable flushes (0..1; -1 unknown)
	ZSTDShare       float64 // of the server's CPU: ZSTD (de)compression, mostly inside compactions
	GCShare         float64 // of the server's CPU: the Go garbage collector
	RSS             int64   // resident set at the slice's end
	RSSFile         int64   // of which file-backed: Badger's memory-mapped tables and logs
}

// historyFormat names the shape of the cached history: bump it when the
// generator or the history's layout changes, so an old cache is not used.
const historyFormat = 1

// historyDays is how far back the history reaches; it ends two days before
// it is built, so that a phase's own touchpoints are told apart by day.
const historyDays = 30

// steadyPhase runs one steady phase: "ss-async1" (one event a request,
// async, flat out), "ss-sync1" (the same, sync) or "ss-half" (async, paced
// to rate).
func (h *harness) steadyPhase(id string, rate float64) (Result, error) {
	cfg := h.cfg
	hist, err := h.history()
	if err != nil {
		return Result{}, err
	}
	dir := filepath.Join(cfg.Dir, id)
	if err := os.RemoveAll(dir); err != nil {
		return Result{}, err
	}
	if err := copyDir(hist, dir); err != nil {
		return Result{}, fmt.Errorf("copy the history: %w", err)
	}
	defer os.RemoveAll(dir)
	mode, name := store.Async, "steady state, 1 event/request, async"
	if id == "ss-sync1" {
		mode, name = store.Sync, "steady state, 1 event/request, sync"
	}
	if id == "ss-half" {
		name = fmt.Sprintf("steady state, 1 event, async, paced to half of its peak (%.0f req/s)", rate)
	}
	name += ", over " + thousands(cfg.SteadyHistory) + " touchpoints"
	col, err := collectortest.Launch(collectortest.Options{Dir: dir, Durability: mode, GeoDB: cfg.GeoDB})
	if err != nil {
		return Result{}, err
	}
	l := ingestLoad(cfg, col.Addr, 1)
	l.Duration = cfg.SteadySlice
	l.Rate = rate
	var all LoadResult
	var slices []Slice
	var lats []Latencies
	var profs []*profile.Profile
	var peakRSS int64
	start := time.Now()
	for time.Since(start) < cfg.SteadyDuration {
		cpu0 := readCPU()
		var prof bytes.Buffer
		profiling := pprof.StartCPUProfile(&prof) == nil // not while -cpuprofile runs
		var lr LoadResult
		pprof.Do(context.Background(), pprof.Labels(loadLabel, "1"), func(context.Context) { lr, err = l.Run() })
		if profiling {
			pprof.StopCPUProfile()
		}
		cpu1 := readCPU()
		if err != nil {
			col.Stop()
			return Result{}, err
		}
		s := Slice{At: time.Since(start).Round(time.Second), ReqPerSec: lr.ReqPerSec(),
			P50: lr.Latency.Percentile(50), P99: lr.Latency.Percentile(99), P999: lr.Latency.Percentile(99.9),
			CompactionShare: -1}
		s.RSS, s.RSSFile = currentRSS()
		if lr.Events > 0 {
			s.CPUPerEvent = float64(cpu1.self-cpu0.self) * 1e6 / clockTicks / float64(lr.Events)
			s.ServerCPU = s.CPUPerEvent
		}
		if profiling {
			p, perr := profile.Parse(&prof)
			if perr == nil {
				profs = append(profs, p)
			}
			if sh, err := profileShares(p); perr == nil && err == nil {
				s.ServerCPU = s.CPUPerEvent * (1 - sh.load)
				s.CompactionShare, s.ZSTDShare, s.GCShare = sh.compaction, sh.zstd, sh.gc
			}
		}
		cfg.Log("  %6s %8.0f req/s  p50 %-9s p99 %-9s p99.9 %-9s server %5.1f µs/event  compaction %3.0f %%  RSS %d MiB (%d MiB files)",
			s.At, s.ReqPerSec, s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond), s.P999.Round(time.Microsecond),
			s.ServerCPU, 100*s.CompactionShare, s.RSS>>20, s.RSSFile>>20)
		if cfg.SteadyProfiles != "" && s.RSS >= peakRSS { // the heap where the resident set peaked
			peakRSS = s.RSS
			if err := writeHeapProfile(filepath.Join(cfg.SteadyProfiles, id+"-heap.pprof")); err != nil {
				col.Stop()
				return Result{}, err
			}
		}
		slices = append(slices, s)
		lats = append(lats, lr.Latency)
		all.Requests += lr.Requests
		all.Events += lr.Events
		all.Shed += lr.Shed
		all.Elapsed += lr.Elapsed
	}
	col.Stop()
	if cfg.SteadyProfiles != "" && len(profs) > 0 {
		if err := writeProfile(filepath.Join(cfg.SteadyProfiles, id+".pprof"), profs); err != nil {
			return Result{}, err
		}
	}
	all.Latency = merge(lats)
	r := fromLoad(id, name, all)
	r.Ceiling = "A"
	r.Slices = slices
	return r, nil
}

// writeProfile merges a phase's CPU profiles into one file.
func writeProfile(path string, profs []*profile.Profile) error {
	p, err := profile.Merge(profs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeHeapProfile writes the heap profile now (in use and allocated).
func writeHeapProfile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadLabel marks the load generator's goroutines in the CPU profile, so
// that the server's share can be told apart.
const loadLabel = "ttbench-load"

// clockTicks is the kernel's USER_HZ, the unit of /proc/self/stat's times.
const clockTicks = 100

type shares struct{ load, compaction, zstd, gc float64 }

// profileShares reads a CPU profile: the load generator's share of all
// samples, and the shares of the server's samples (all others) spent in
// Badger's compactions and memtable flushes, in ZSTD and in the GC.
func profileShares(p *profile.Profile) (shares, error) {
	var total, load, server, compaction, zstd, gc int64
	for _, s := range p.Sample {
		v := s.Value[len(s.Value)-1] // cpu nanoseconds
		total += v
		if len(s.Label[loadLabel]) > 0 {
			load += v
			continue
		}
		server += v
		var inCompaction, inZSTD, inGC bool
		for _, loc := range s.Location {
			for _, ln := range loc.Line {
				if ln.Function == nil {
					continue
				}
				f := ln.Function.Name
				switch {
				case isCompaction(f):
					inCompaction = true
				case strings.Contains(f, "klauspost/compress/zstd"):
					inZSTD = true
				case strings.HasPrefix(f, "runtime.gcBgMarkWorker"), strings.HasPrefix(f, "runtime.gcAssistAlloc"):
					inGC = true
				}
			}
		}
		if inCompaction {
			compaction += v
		}
		if inZSTD {
			zstd += v
		}
		if inGC {
			gc += v
		}
	}
	if total == 0 || server == 0 {
		return shares{}, fmt.Errorf("empty profile")
	}
	f := func(n int64) float64 { return float64(n) / float64(server) }
	return shares{load: float64(load) / float64(total), compaction: f(compaction), zstd: f(zstd), gc: f(gc)}, nil
}

// compactionFuncs are Badger's functions of compactions and memtable
// flushes, down to the goroutines that build and compress tables.
var compactionFuncs = []string{
	"badger/v4.(*levelsController).runCompactor", "badger/v4.(*levelsController).doCompact",
	"badger/v4.(*levelsController).runCompactDef", "badger/v4.(*levelsController).compactBuildTables",
	"badger/v4.(*levelsController).subcompact", "badger/v4.(*levelsController).fillTables",
	"badger/v4.(*DB).flushMemtable", "badger/v4.(*DB).handleMemTableFlush", "badger/v4.buildL0Table",
	"badger/v4/table.(*Builder)", "badger/v4/table.CreateTable",
}

func isCompaction(f string) bool {
	for _, c := range compactionFuncs {
		if strings.Contains(f, c) {
			return true
		}
	}
	return false
}

// currentRSS is the process's resident set now (VmRSS) and its
// file-backed part (RssFile), 0 without /proc.
func currentRSS() (rss, file int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		var kb int64
		switch k {
		case "VmRSS":
			fmt.Sscan(v, &kb)
			rss = kb << 10
		case "RssFile":
			fmt.Sscan(v, &kb)
			file = kb << 10
		}
	}
	return rss, file
}

// history returns the directory of a store holding cfg.SteadyHistory
// touchpoints, building it into CacheDir when it is not there yet.
func (h *harness) history() (string, error) {
	cfg := h.cfg
	geo := "off"
	if cfg.GeoDB != "" {
		geo = "on"
	}
	dir := filepath.Join(cfg.CacheDir, fmt.Sprintf("history-h%d-f%d-n%d-s%d-geo%s", historyFormat, badger.FormatVersion, cfg.SteadyHistory, cfg.Seed, geo))
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err == nil {
		return dir, flattenOnce(cfg, dir)
	}
	tmp := dir + ".building"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	start := time.Now()
	cfg.Log("building a history of %d touchpoints in %s (once: it is kept)", cfg.SteadyHistory, dir)
	if err := buildHistory(cfg, tmp, start); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("build the history: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	cfg.Log("  built in %s: %d MiB", time.Since(start).Round(time.Second), dbSize(dir)>>20)
	return dir, flattenOnce(cfg, dir)
}

// flattenOnce compacts the history into one level, once (a file marks it
// done): a store that has run for a while is in that shape, while one just
// written in bulk holds a backlog of compactions that every phase would
// start with.
func flattenOnce(cfg Config, dir string) error {
	mark := filepath.Join(dir, "FLATTENED")
	if _, err := os.Stat(mark); err == nil {
		return nil
	}
	start := time.Now()
	st, err := badger.Open(badger.Config{Dir: dir}, quietLog())
	if err != nil {
		return err
	}
	if err := st.DB().Flatten(2); err != nil {
		st.Close()
		return fmt.Errorf("flatten the history: %w", err)
	}
	if err := st.Close(); err != nil {
		return err
	}
	cfg.Log("  history compacted in %s: %d MiB", time.Since(start).Round(time.Second), dbSize(dir)>>20)
	return os.WriteFile(mark, nil, 0o644)
}

// buildHistory writes n generated touchpoints through the store (dedupe,
// id and day indexes as the collector writes them), spread evenly over the
// historyDays days that end two days before now: chunks of 100,000 events,
// each from its own generator of 8,000 visitors (about a day of a shop's
// traffic, a dozen touchpoints a visitor).
func buildHistory(cfg Config, dir string, now time.Time) error {
	st, err := badger.Open(badger.Config{Dir: dir}, quietLog())
	if err != nil {
		return err
	}
	defer st.Close()
	en, err := enrich.New(enrich.Config{GeoDB: cfg.GeoDB}, quietLog())
	if err != nil {
		return err
	}
	defer en.Close()
	n := cfg.SteadyHistory
	end := now.Add(-2 * 24 * time.Hour).UnixMilli()
	begin := end - historyDays*24*time.Hour.Milliseconds()
	step := float64(end-begin) / float64(n)
	done := 0
	clock := func() int64 { return begin + int64(float64(done)*step) }
	const chunk, group = 100_000, 4096
	var (
		d        event.Decoder
		b        event.Batch
		body     []byte
		recs     []store.Record
		slab     []byte
		mu       sync.Mutex
		firstErr error
		inflight = make(chan struct{}, 4)
	)
	flush := func() {
		inflight <- struct{}{}
		st.WriteAsync(recs, func(_ store.WriteResult, err error) {
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
			<-inflight
		})
		recs, slab = nil, nil
	}
	var g *Generator
	for done < n {
		if done%chunk == 0 {
			g = NewGenerator(cfg.Seed^0x5eed, done/chunk, 8000, clock)
		}
		body = g.AppendBatch(body[:0], collectortest.Site, min(100, n-done))
		if err := d.Decode(body, &b); err != nil {
			return err
		}
		t := clock() * 1000
		for i := range b.Events {
			tp := &b.Events[i]
			if b.Errs[i] != nil {
				return fmt.Errorf("generated event: %w", b.Errs[i])
			}
			tp.Site = collectortest.Site
			tp.DeriveTimeTrusted(t + 1000)
			if err := en.Enrich(tp); err != nil && err != enrich.ErrBot {
				return err
			}
			tp.ClientIP, tp.UserAgent = netip.Addr{}, ""
			recs = append(recs, store.NewRecord(tp, &slab))
		}
		done += len(b.Events)
		if len(recs) >= group {
			flush()
		}
		mu.Lock()
		err := firstErr
		mu.Unlock()
		if err != nil {
			return err
		}
	}
	if len(recs) > 0 {
		flush()
	}
	for range cap(inflight) {
		inflight <- struct{}{}
	}
	if firstErr != nil {
		return firstErr
	}
	return st.Close()
}

// copyDir copies the regular files of src into a new directory dst.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	es, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range es {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// WriteSlices writes each steady phase's time slices as a Markdown table.
func WriteSlices(w io.Writer, rs []Result) {
	for _, r := range rs {
		if len(r.Slices) == 0 {
			continue
		}
		ratio := ""
		if r.Ratio > 0 {
			ratio = fmt.Sprintf(" (%.0f %% of A)", 100*r.Ratio)
		}
		fmt.Fprintf(w, "\n%s%s:\n\n", r.Phase, ratio)
		fmt.Fprintln(w, "| at | req/s | p50 | p99 | p99.9 | CPU µs/event (all) | server CPU µs/event | compaction share | ZSTD share | GC share | RSS (of it mapped files) |")
		fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, s := range r.Slices {
			comp, zstd, gc := "—", "—", "—"
			if s.CompactionShare >= 0 {
				comp, zstd, gc = pct(s.CompactionShare), pct(s.ZSTDShare), pct(s.GCShare)
			}
			fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %.1f | %.1f | %s | %s | %s | %d MiB (%d) |\n", s.At, s.ReqPerSec,
				dur(s.P50), dur(s.P99), dur(s.P999), s.CPUPerEvent, s.ServerCPU, comp, zstd, gc, s.RSS>>20, s.RSSFile>>20)
		}
	}
}

func pct(f float64) string { return fmt.Sprintf("%.0f %%", 100*f) }

// thousands writes n with thousands separators: 3,000,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
