package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The harness works end to end: every phase runs briefly, measures
// something and fails on no request; the collector phases check that the
// store holds what was accepted, enriched. No timing assertions: speed is
// for `make bench`.
func TestHarnessSmoke(t *testing.T) {
	d := time.Second
	if testing.Short() {
		d = 300 * time.Millisecond
	}
	var phases []string // the steady phases have their own test
	for _, id := range PhaseIDs {
		if !strings.HasPrefix(id, "ss-") {
			phases = append(phases, id)
		}
	}
	rs, err := Run(Config{Duration: d, Conns: 4, Events: 5000, OverloadConns: 8, Dir: t.TempDir(), Verify: true, Log: t.Logf, Phases: phases})
	if err != nil {
		t.Fatal(err)
	}
	want := len(phases) - 1 + 2*len(TrailSizes) // "reads" makes two rows per size
	if len(rs) != want {
		t.Fatalf("%d rows, want %d", len(rs), want)
	}
	for _, r := range rs {
		if r.Events <= 0 || r.EventsPerSec <= 0 || (r.ID != "b" && r.Requests <= 0) {
			t.Errorf("%s measured nothing: %+v", r.Phase, r)
		}
		if r.Ceiling != "" && r.Ratio <= 0 {
			t.Errorf("%s: no ratio to %s", r.Phase, r.Ceiling)
		}
		if strings.HasPrefix(r.ID, "sync") || strings.HasPrefix(r.ID, "async") || r.ID == "b" {
			if r.BytesPerEvent <= 0 {
				t.Errorf("%s: no bytes on disk", r.Phase)
			}
		}
		if r.ID != "b" && !(r.P50 > 0 && r.P50 <= r.P99 && r.P99 <= r.P999) {
			t.Errorf("%s: p50 %v p99 %v p99.9 %v", r.Phase, r.P50, r.P99, r.P999)
		}
	}
	var sb strings.Builder
	WriteTable(&sb, rs)
	if got := strings.Count(sb.String(), "\n"); got != 2+len(rs) {
		t.Errorf("table of %d lines:\n%s", got, sb.String())
	}
}

// The steady phases build a (small) history once, keep it in the cache
// directory, copy it for each phase and measure it slice by slice: CPU per
// event from the process and its profile, RSS, a ratio to A; ss-half runs
// at half of ss-async1's rate. A second run takes the cached history.
func TestSteadySmoke(t *testing.T) {
	d := 300 * time.Millisecond
	cache := t.TempDir()
	cfg := Config{Duration: d, Conns: 4, Dir: t.TempDir(), Log: t.Logf, Phases: []string{"a", "ss-async1", "ss-sync1", "ss-half"},
		SteadyHistory: 2000, SteadyDuration: 2 * d, SteadySlice: d, CacheDir: cache}
	rs, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 {
		t.Fatalf("%d rows, want 4", len(rs))
	}
	for _, r := range rs[1:] {
		if r.Requests <= 0 || r.Ratio <= 0 || !strings.Contains(r.Phase, "over 2,000 touchpoints") {
			t.Errorf("%s: %+v", r.Phase, r)
		}
		if len(r.Slices) != 2 || r.Slices[0].ServerCPU <= 0 || r.Slices[1].RSS <= 0 || r.Slices[0].CompactionShare < 0 {
			t.Errorf("%s: slices %+v, want 2 with CPU, a profile and RSS", r.Phase, r.Slices)
		}
	}
	if half, peak := rs[3].ReqPerSec, rs[1].ReqPerSec; half > 0.75*peak {
		t.Errorf("paced at %.0f req/s, half of %.0f wanted", half, peak)
	}
	var sb strings.Builder
	WriteSlices(&sb, rs)
	if got := strings.Count(sb.String(), "| at |"); got != 3 {
		t.Errorf("%d slice tables, want 3:\n%s", got, sb.String())
	}
	// The history was kept: a second run finds it (and its compaction mark).
	hist, err := os.ReadDir(cache)
	if err != nil || len(hist) != 1 {
		t.Fatalf("cache holds %v (%v), want one history", hist, err)
	}
	if _, err := os.Stat(filepath.Join(cache, hist[0].Name(), "FLATTENED")); err != nil {
		t.Errorf("history not compacted: %v", err)
	}
	cfg.Phases, cfg.Dir = []string{"ss-sync1"}, t.TempDir()
	if _, err := Run(cfg); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadDir(cache); len(again) != 1 || again[0].Name() != hist[0].Name() {
		t.Errorf("a second run rebuilt the history: %v", again)
	}
}

func TestPhaseSelection(t *testing.T) {
	if _, err := Run(Config{Phases: []string{"nope"}}); err == nil {
		t.Error("unknown phase accepted")
	}
	rs, err := Run(Config{Phases: []string{"half", "b"}, Events: 1000, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].ID != "b" {
		t.Errorf("rows %+v, want only b (half needs async1)", rs)
	}
}
