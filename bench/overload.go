package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// The overload phases: 500-event batches, as a busy backend's SDK sends
// them, first from a few connections (the unsaturated peak), then from
// OverloadConns and 4 × OverloadConns connections whose clients ignore
// Retry-After: a refused batch is sent again at once. The collector must
// keep most of its peak (admission refuses before the body is read) and
// bound its memory by configuration, not by connections.

// overloadBatch is the events of one overload request.
const overloadBatch = 500

// peakConns are the connection counts the unsaturated peak tries (each
// for half the phase's duration, on one collector): its best is the peak.
var peakConns = []int{8, 16, 32}

// overloadPhase runs one of "peak500", "over1k", "over4k".
func overloadPhase(cfg Config, id string) (Result, error) {
	conns := cfg.OverloadConns
	if id == "over4k" {
		conns = 4 * cfg.OverloadConns
	}
	name := fmt.Sprintf("overload: %d connections × %d-event batches ignoring Retry-After", conns, overloadBatch)
	dir := filepath.Join(cfg.Dir, id)
	if err := os.RemoveAll(dir); err != nil {
		return Result{}, err
	}
	srv, err := startCollector(cfg, dir)
	if err != nil {
		return Result{}, err
	}
	var lr LoadResult
	var cpu float64
	if id == "peak500" {
		lr, conns, cpu, err = peak(cfg, srv)
		name = fmt.Sprintf("collector, %d events/request, sync, unsaturated peak (best of %v connections: %d)", overloadBatch, peakTries(cfg), conns)
	} else {
		c := cfg
		c.Duration = max(cfg.Duration, 2*time.Second) // a first 500-event batch accepted can take a second under -race on a busy machine
		t0 := srv.cpu()
		lr, err = overloadLoad(c, srv.addr, conns).Run()
		cpu = srv.cpu() - t0
	}
	if lr.Errors > 0 {
		cfg.Log("  %s: %d requests failed, the first: %v", id, lr.Errors, lr.FirstErr)
	}
	rss, stopErr := srv.stop()
	r := fromLoad(id, name, lr)
	if id != "peak500" {
		r.Ceiling = "P"
	}
	if cpu > 0 {
		r.EventsPerCPU = float64(lr.Events) / cpu
	}
	if rss > 0 {
		r.PeakRSS, r.RSSPerPhase = rss, true
		r.OwnRSS = true
	}
	if err == nil {
		err = stopErr
	}
	return r, err
}

func peakTries(cfg Config) []int {
	var out []int
	for _, n := range peakConns {
		if n <= cfg.Conns || len(out) == 0 {
			out = append(out, min(n, cfg.Conns))
		}
	}
	return out
}

// peak loads the collector at each of peakTries' connection counts and
// returns the best run that shed nothing (or the best at all), and the
// collector's CPU seconds in it.
func peak(cfg Config, srv *collectorProc) (LoadResult, int, float64, error) {
	var best LoadResult
	bestConns, bestCPU := 0, 0.0
	for _, n := range peakTries(cfg) {
		c := cfg
		c.Duration = max(cfg.Duration/2, time.Second) // a 500-event sync batch can take most of a second under -race on a busy machine
		t0 := srv.cpu()
		lr, err := overloadLoad(c, srv.addr, n).Run()
		cpu := srv.cpu() - t0
		if err != nil {
			return lr, n, cpu, err
		}
		better := lr.EventsPerSec() > best.EventsPerSec()
		if bestConns > 0 && best.Shed == 0 && lr.Shed > 0 {
			better = false // saturated: admission refused some
		}
		if better || bestConns == 0 {
			best, bestConns, bestCPU = lr, n, cpu
		}
		cfg.Seed++ // fresh ids for the next try
	}
	return best, bestConns, bestCPU, nil
}

// overloadLoad sends 500-event batches with the write key. A shed request
// (503 or 429) is sent again at once with the same batch (a retry that
// ignores Retry-After); a new batch is made only after one was accepted.
func overloadLoad(cfg Config, addr string, conns int) Load {
	gens := make([]*Generator, conns)
	now := func() int64 { return time.Now().UnixMilli() }
	for w := range gens {
		gens[w] = NewGenerator(cfg.Seed, w, 64, now)
	}
	bufs := make([][]byte, conns)
	fresh := make([]bool, conns)
	for w := range fresh {
		fresh[w] = true
	}
	auth := []byte("Bearer " + collectortest.WriteKey)
	shed := func(resp *fasthttp.Response) bool {
		c := resp.StatusCode()
		return c == fasthttp.StatusServiceUnavailable || c == fasthttp.StatusTooManyRequests
	}
	return Load{
		Addr: addr, Conns: conns, Duration: cfg.Duration, ShedWait: time.Nanosecond, TolerateErrors: true, Window: true,
		Request: func(w int, req *fasthttp.Request) int {
			g := gens[w]
			if fresh[w] {
				bufs[w] = g.AppendBatch(bufs[w][:0], collectortest.Site, overloadBatch)
			}
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetRequestURI("/v1/events")
			req.Header.SetContentType("text/plain")
			req.Header.SetBytesV(fasthttp.HeaderAuthorization, auth)
			req.SetBodyRaw(bufs[w])
			return overloadBatch
		},
		Check: func(resp *fasthttp.Response, events int) (int, error) { return checkAccepted(resp, events) },
		Shed:  shed,
		After: func(w int, wasShed bool) { fresh[w] = !wasShed },
	}
}

// collectorProc is a collector serving for a phase: in a child process
// (cfg.Child: its peak RSS is its own) or in this one.
type collectorProc struct {
	addr string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	col  *collectortest.Collector
}

// overloadConfig is the collector's config in the overload phases: the
// defaults, but no per-address connection cap (every client is 127.0.0.1,
// as behind one reverse proxy).
func overloadConfig(c *collector.Config) { c.MaxConnsPerAddr = -1 }

func startCollector(cfg Config, dir string) (*collectorProc, error) {
	if cfg.Child == "" {
		col, err := collectortest.Launch(collectortest.Options{Dir: dir, Durability: store.Sync, GeoDB: cfg.GeoDB, Config: overloadConfig})
		if err != nil {
			return nil, err
		}
		return &collectorProc{addr: col.Addr, col: col}, nil
	}
	cmd := exec.Command(cfg.Child, ChildFlag, dir, cfg.GeoDB)
	cmd.Stderr = os.Stderr
	cmd.Env = os.Environ()
	if os.Getenv("GOMEMLIMIT") == "" {
		// The collector's memory is its configuration (admitted bytes,
		// parse slots, Badger's memtables and caches) plus the GC's
		// headroom, which only a memory limit bounds: a deployment sets
		// it as this does.
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+childMemLimit)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the collector process: %w", err)
	}
	p := &collectorProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
	line, err := p.out.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("the collector process said nothing: %w", err)
	}
	p.addr = strings.TrimSpace(line)
	return p, nil
}

// cpu is the CPU time the collector process used so far, in seconds (0
// in process: it cannot be told from the load generator's).
func (p *collectorProc) cpu() float64 {
	if p.cmd == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return float64(u+s) / clockTicks
}

// stop stops the collector and returns its peak RSS (0 in process).
func (p *collectorProc) stop() (int64, error) {
	if p.col != nil {
		p.col.Stop()
		return 0, nil
	}
	p.in.Close() // the child reports its peak RSS and stops
	line, err := p.out.ReadString('\n')
	werr := p.cmd.Wait()
	if err != nil {
		return 0, fmt.Errorf("the collector process: %w (%v)", err, werr)
	}
	rss, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the collector process's peak RSS %q: %w", line, err)
	}
	return rss, werr
}

// childMemLimit is the overload phases' collector's GOMEMLIMIT (unless the
// environment sets one).
const childMemLimit = "768MiB"

// ChildFlag makes ttbench serve a collector for the harness instead:
// `ttbench -serve-collector DIR [GEODB]`.
const ChildFlag = "-serve-collector"

// ServeChild is the collector process of the overload phases: it starts a
// collector on dir, prints its address, serves until its standard input
// closes, stops, and prints its peak RSS in bytes.
func ServeChild(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("%s DIR [GEODB]", ChildFlag)
	}
	geo := ""
	if len(args) > 1 {
		geo = args[1]
	}
	col, err := collectortest.Launch(collectortest.Options{Dir: args[0], Durability: store.Sync, GeoDB: geo, Config: overloadConfig})
	if err != nil {
		return err
	}
	if path := os.Getenv("TTBENCH_CHILD_CPUPROFILE"); path != "" { // profiling the collector alone
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	fmt.Println(col.Addr)
	_, _ = io.Copy(io.Discard, os.Stdin)
	pprof.StopCPUProfile()
	if path := os.Getenv("TTBENCH_CHILD_MEMPROFILE"); path != "" { // the heap as the load ends
		if f, err := os.Create(path); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	rss := PeakRSS()
	col.Stop()
	fmt.Println(rss)
	return nil
}
