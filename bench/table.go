package bench

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// WriteTable writes the results as a Markdown table.
func WriteTable(w io.Writer, rs []Result) {
	fmt.Fprintln(w, "| phase | req/s | events/s | p50 | p99 | p99.9 | ratio to ceiling | bytes/event on disk | peak RSS | other processes' CPU |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rs {
		ratio := "—"
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.0f %% of %s", 100*r.Ratio, r.Ceiling)
		}
		disk := "—"
		if r.BytesPerEvent > 0 {
			disk = fmt.Sprintf("%.0f", r.BytesPerEvent)
		}
		req := "—"
		if r.ReqPerSec > 0 {
			req = fmt.Sprintf("%.0f", r.ReqPerSec)
		}
		rss := "—"
		if r.PeakRSS > 0 {
			rss = fmt.Sprintf("%d MiB", r.PeakRSS>>20)
			if !r.RSSPerPhase {
				rss += " (process so far)"
			}
			if r.OwnRSS {
				rss += " (collector alone)"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %.0f %% |\n", r.Phase, req, r.EventsPerSec,
			dur(r.P50), dur(r.P99), dur(r.P999), ratio, disk, rss, 100*r.Others)
	}
}

func dur(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

// Machine describes where the run happened: cores, CPU model, Go.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (nproc), %s, %s %s/%s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
