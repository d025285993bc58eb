// Command ttbench is `make bench`: every phase of the harness in one run on
// this machine, printed as one table of figures and ratios to the ceilings
// measured in the same run. Progress goes to stderr, the table to stdout.
//
//	go run ./bench/cmd/ttbench [-short] [-duration 10s] [-conns 64] [-phases a,async1]
//	    [-geo auto|off|file.mmdb] [-wait-quiet 2m] [-write-readme bench/README.md] [-cpuprofile f]
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/bench"
)

// defaultGeoDB is where `make geo` puts the GeoLite2 City database.
const defaultGeoDB = "data/geo/GeoLite2-City.mmdb"

func main() {
	if len(os.Args) > 1 && os.Args[1] == bench.ChildFlag {
		if err := bench.ServeChild(os.Args[2:]); err != nil {
			fail(err)
		}
		return
	}
	short := flag.Bool("short", false, "a quick run: 2 s a load phase, 200,000 events in ceiling B, 6 s steady phases over 500,000 touchpoints")
	duration := flag.Duration("duration", 10*time.Second, "length of each load phase (trail reads: half of it each)")
	conns := flag.Int("conns", 64, "load connections")
	ownProc := flag.Bool("collector-process", true, "run the overload phases' collector in a child process (its peak RSS alone); false: in this one (for -cpuprofile)")
	overConns := flag.Int("overload-conns", 1024, "connections of the overload phase (over4k: four times as many)")
	events := flag.Int("events", 500_000, "events written in the ceiling B phase")
	seed := flag.Uint64("seed", 1, "seed of the event generators")
	geo := flag.String("geo", "auto", "GeoIP2 City database for enrichment: a path, off, or auto ("+defaultGeoDB+" when present)")
	phases := flag.String("phases", "", "comma-separated phases to run, of "+strings.Join(bench.PhaseIDs, ",")+" (default all)")
	readme := flag.String("write-readme", "", "also write the results into this Markdown file's results section (-short runs into the quick one)")
	quiet := flag.Duration("wait-quiet", 30*time.Second, "first wait up to this long for a second in which other processes take under 10 % of the CPU")
	maxOthers := flag.Float64("max-others", 0.10, "redo a phase (twice at most) in which other processes took more than this share of the CPU; 0: never")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (server and load) to this file")
	history := flag.Int("steady-history", 3_000_000, "touchpoints in the store before a steady phase starts")
	steady := flag.Duration("steady-duration", 2*time.Minute, "length of each steady phase")
	slice := flag.Duration("steady-slice", 10*time.Second, "the steady phases' time slices")
	cache := flag.String("cache", "", "where the steady phases' history is kept between runs (default: touchtrail-bench in the user's cache directory)")
	memLimit := flag.Int64("memory-limit", 512, "the Go runtime's soft memory limit in `MiB` while the phases run, as touchtrail serve's memory_limit default (0: none; GOMEMLIMIT, when set, unless this flag is given)")
	profiles := flag.String("steady-profiles", "", "write each steady phase's CPU profile (<phase>.pprof) and heap profile at its peak RSS (<phase>-heap.pprof) into this directory")
	flag.Parse()
	if *short { // a quick run, where the flags given do not say otherwise
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for _, d := range []struct {
			name string
			f    func()
		}{
			{"duration", func() { *duration = 2 * time.Second }},
			{"events", func() { *events = 200_000 }},
			{"steady-history", func() { *history = 500_000 }},
			{"steady-duration", func() { *steady = 6 * time.Second }},
			{"steady-slice", func() { *slice = 2 * time.Second }},
		} {
			if !set[d.name] {
				d.f()
			}
		}
	}
	if limitSet := flagGiven("memory-limit"); limitSet || os.Getenv("GOMEMLIMIT") == "" {
		if *memLimit > 0 {
			debug.SetMemoryLimit(*memLimit << 20)
		} else {
			debug.SetMemoryLimit(math.MaxInt64)
		}
	}
	switch *geo {
	case "off":
		*geo = ""
	case "auto":
		*geo = ""
		if _, err := os.Stat(defaultGeoDB); err == nil {
			*geo = defaultGeoDB
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fail(err)
		}
	}
	var ids []string
	if *phases != "" {
		ids = strings.Split(*phases, ",")
	}
	if *quiet > 0 {
		others := bench.WaitQuiet(*quiet, 0.10)
		fmt.Fprintf(os.Stderr, "other processes take %.0f %% of the CPU\n", 100*others)
	}
	setup := fmt.Sprintf("%s a load phase, %d connections, geo %s; steady phases %s in slices of %s over %d touchpoints; memory limit %s",
		*duration, *conns, orOff(*geo), *steady, *slice, *history, memLimitString(debug.SetMemoryLimit(-1)))
	start := time.Now()
	fmt.Fprintf(os.Stderr, "ttbench on %s: %s\n", bench.Machine(), setup)
	self := ""
	if *ownProc {
		var err error
		if self, err = os.Executable(); err != nil {
			fail(err)
		}
	}
	rs, err := bench.Run(bench.Config{Duration: *duration, Conns: *conns, Events: *events, Seed: *seed, GeoDB: *geo, Phases: ids, MaxOthers: *maxOthers,
		OverloadConns: *overConns, Child: self,
		SteadyHistory: *history, SteadyDuration: *steady, SteadySlice: *slice, CacheDir: *cache, SteadyProfiles: *profiles,
		Log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	var table strings.Builder
	bench.WriteTable(&table, rs)
	bench.WriteSlices(&table, rs)
	fmt.Print("\n" + table.String())
	if err != nil {
		fail(err)
	}
	took := time.Since(start).Round(time.Second)
	fmt.Fprintf(os.Stderr, "\n%d rows in %s\n", len(rs), took)
	if *readme != "" {
		section := "results"
		if *short {
			section = "quick results"
		}
		cmd := strings.TrimSpace("go run ./bench/cmd/ttbench " + strings.Join(os.Args[1:], " "))
		if err := writeResults(*readme, section, table.String(), cmd, setup, took); err != nil {
			fail(err)
		}
	}
}

// flagGiven says whether the command line set the flag.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func memLimitString(n int64) string {
	if n == math.MaxInt64 {
		return "none"
	}
	return fmt.Sprintf("%d MiB", n>>20)
}

func orOff(path string) string {
	if path == "" {
		return "off"
	}
	return "on (" + path + ")"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ttbench:", err)
	os.Exit(1)
}

// writeResults replaces the section between <!-- section: begin --> and
// <!-- section: end --> of the Markdown file at path.
func writeResults(path, section, table, cmd, setup string, took time.Duration) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	begin, end := "<!-- "+section+": begin -->", "<!-- "+section+": end -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s … %s section", path, begin, end)
	}
	text := fmt.Sprintf("%s\nMeasured %s on %s with `%s` (%s; %s in all; client and server share the cores, nothing pinned).\n\n%s%s",
		begin, time.Now().UTC().Format("2006-01-02"), bench.Machine(), cmd, setup, took, table, end)
	return os.WriteFile(path, []byte(s[:i]+text+s[j+len(end):]), 0o644)
}
