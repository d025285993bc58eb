package bench

import (
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
	rs, err := Run(Config{Duration: d, Conns: 4, Events: 5000, OverloadConns: 8, Dir: t.TempDir(), Verify: true, Log: t.Logf,
		SteadyHistory: 3000, SteadyDuration: 2 * d, SteadySlice: d, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := len(PhaseIDs) - 1 + 2*len(TrailSizes) // "reads" makes two rows per size
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
		if strings.HasPrefix(r.ID, "ss-") && (len(r.Slices) != 2 || r.Slices[0].ServerCPU <= 0 || r.Slices[1].RSS <= 0 || r.Slices[0].CompactionShare < 0) {
			t.Errorf("%s: slices %+v, want 2 with CPU, a profile and RSS", r.Phase, r.Slices)
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
