package bench

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Latencies collects request latencies; one per worker, merged at the end.
type Latencies []time.Duration

// Percentile returns the p-th percentile (0..100) of sorted l.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(l)-1))
	return l[i]
}

// merge sorts all workers' latencies into one slice.
func merge(parts []Latencies) Latencies {
	var all Latencies
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.Sort(all)
	return all
}

// PeakRSS returns the process's peak resident set (VmHWM) in bytes, or 0
// where /proc is not there.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
