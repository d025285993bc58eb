package bench

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Latencies are request latencies, one sample per request: exact
// percentiles at 8 bytes a request (a 10 s phase at 100k req/s keeps 8 MB).
// Not safe for concurrent use: one per worker, merged at the end.
type Latencies []time.Duration

// Percentile returns the p-th percentile (0..100) of sorted l by the
// nearest-rank rule: the smallest sample with at least p % of the samples
// at or below it. 0 when l is empty.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(l)) - 1e-9)) // 1e-9: 99.9/100*1000 is 999.0000000000001
	return l[min(max(rank-1, 0), len(l)-1)]
}

// merge returns all workers' latencies in one sorted slice.
func merge(parts []Latencies) Latencies {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	all := make(Latencies, 0, n)
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.Sort(all)
	return all
}

// PeakRSS returns the process's peak resident set (VmHWM) in bytes since
// the start or the last ResetPeakRSS, or 0 where /proc is not there.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// ResetPeakRSS returns the heap's free memory to the OS and resets the
// peak resident set to the current one (Linux ≥ 4.0: "5" into
// /proc/self/clear_refs), so that the next PeakRSS is one phase's peak.
func ResetPeakRSS() error {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// cpuTimes are clock ticks since boot: of all cores, of all cores not
// idle, and of this process (with its children waited for).
type cpuTimes struct{ total, busy, self int64 }

// readCPU reads /proc/stat and /proc/self/stat; zero where they are not.
func readCPU() cpuTimes {
	var c cpuTimes
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		// cpu user nice system idle iowait irq softirq steal …
		for i, f := range strings.Fields(line)[1:] {
			n, _ := strconv.ParseInt(f, 10, 64)
			c.total += n
			if i != 3 && i != 4 {
				c.busy += n
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		// After the command in parentheses: state is field 3, utime 14, stime 15.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 12 {
				// utime, stime, and cutime, cstime: the children waited
				// for (the overload phases' collector process) are ours.
				for _, x := range f[11:15] {
					n, _ := strconv.ParseInt(x, 10, 64)
					c.self += n
				}
			}
		}
	}
	return c
}

// OthersCPU is the share (0..1) of the machine's CPU time between a and b
// that other processes used: noise in a phase's figures.
func othersCPU(a, b cpuTimes) float64 {
	total := b.total - a.total
	if total <= 0 {
		return 0
	}
	return max(0, float64((b.busy-a.busy)-(b.self-a.self))/float64(total))
}

// WaitQuiet waits, up to limit, for a second in which other processes take
// under threshold (0..1) of the machine's CPU, and returns their last
// share: a shared machine's noise otherwise lands in the first phases.
func WaitQuiet(limit time.Duration, threshold float64) float64 {
	deadline := time.Now().Add(limit)
	for {
		a := readCPU()
		time.Sleep(time.Second)
		others := othersCPU(a, readCPU())
		if others < threshold || time.Now().After(deadline) {
			return others
		}
	}
}
