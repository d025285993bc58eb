package bench

import (
	"strings"
	"testing"
	"time"
)

// The harness works end to end: every phase runs briefly and measures
// something. No timing assertions: speed is for `make bench`.
func TestHarnessSmoke(t *testing.T) {
	rs, err := Run(Config{Duration: 300 * time.Millisecond, Conns: 4, Events: 5000, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 10 {
		t.Fatalf("%d phases, want 10", len(rs))
	}
	for _, r := range rs {
		if r.EventsPerSec <= 0 {
			t.Errorf("%s measured nothing", r.Phase)
		}
		if r.Ceiling != "" && (r.Ratio <= 0 || r.BytesPerEvent <= 0 || r.P99 < r.P50) {
			t.Errorf("%s: ratio %v, bytes %v, p50 %v p99 %v", r.Phase, r.Ratio, r.BytesPerEvent, r.P50, r.P99)
		}
	}
	var sb strings.Builder
	WriteTable(&sb, rs)
	if strings.Count(sb.String(), "\n") != 12 {
		t.Errorf("table:\n%s", sb.String())
	}
}

func TestPercentiles(t *testing.T) {
	var l Latencies
	for i := 1; i <= 1000; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	if l.Percentile(50) != 500*time.Millisecond || l.Percentile(99) != 990*time.Millisecond || l.Percentile(100) != time.Second {
		t.Errorf("p50 %v p99 %v p100 %v", l.Percentile(50), l.Percentile(99), l.Percentile(100))
	}
	if (Latencies{}).Percentile(50) != 0 {
		t.Error("empty")
	}
}

func TestGeneratorMix(t *testing.T) {
	g := NewGenerator(1, 0, 100, func() int64 { return 1 })
	counts := map[string]int{}
	ids := map[string]bool{}
	for range 10000 {
		b := g.AppendEvent(nil)
		s := string(b)
		counts[s[strings.Index(s, `"type":"`)+8:][:4]]++
		id := s[7 : strings.Index(s[7:], `"`)+7]
		if ids[id] {
			t.Fatalf("id %s twice", id)
		}
		ids[id] = true
	}
	if counts["page"] < 5700 || counts["page"] > 6300 || counts["sear"] < 1300 || counts["chec"] < 1300 {
		t.Errorf("mix %v", counts)
	}
	g2 := NewGenerator(1, 0, 100, func() int64 { return 1 })
	if string(g2.AppendEvent(nil)) != string(NewGenerator(1, 0, 100, func() int64 { return 1 }).AppendEvent(nil)) {
		t.Error("not deterministic for a seed")
	}
}
