// Command ttbench is `make bench`: every phase of the harness in one run on
// this machine, printed as one table of figures and ratios to the ceilings
// measured in the same run.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/bench"
)

func main() {
	short := flag.Bool("short", false, "a quick run (2 s a phase, ~30 s in all)")
	duration := flag.Duration("duration", 10*time.Second, "length of each load phase")
	conns := flag.Int("conns", 64, "load connections")
	events := flag.Int("events", 500_000, "events written in the ceiling B phase")
	readme := flag.String("write-readme", "", "also write the results into this Markdown file's results section")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (server and load) to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ttbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *short {
		*duration, *events = 2*time.Second, 200_000
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "ttbench on %s: %s a phase, %d connections\n", bench.Machine(), *duration, *conns)
	rs, err := bench.Run(bench.Config{Duration: *duration, Conns: *conns, Events: *events,
		Log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
	var table strings.Builder
	bench.WriteTable(&table, rs)
	fmt.Print("\n" + table.String())
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "ttbench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "\n%d phases in %s\n", len(rs), time.Since(start).Round(time.Second))
	if *readme != "" {
		if err := writeResults(*readme, table.String(), strings.Join(os.Args[1:], " "), *duration, *conns); err != nil {
			fmt.Fprintln(os.Stderr, "ttbench:", err)
			os.Exit(1)
		}
	}
}

const begin, end = "<!-- results: begin -->", "<!-- results: end -->"

// writeResults replaces the results section of the README.
func writeResults(path, table, args string, d time.Duration, conns int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s … %s section", path, begin, end)
	}
	section := fmt.Sprintf("%s\nMeasured %s on %s with `go run ./bench/cmd/ttbench %s` (%s a phase, %d connections; client and server share the cores).\n\n%s%s",
		begin, time.Now().UTC().Format("2006-01-02"), bench.Machine(), args, d, conns, table, end)
	return os.WriteFile(path, []byte(s[:i]+section+s[j+len(end):]), 0o644)
}
