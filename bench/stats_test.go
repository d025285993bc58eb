package bench

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var l Latencies
	for i := 1; i <= 1000; i++ {
		l = append(l, ms(i))
	}
	f := func(p float64, want time.Duration) {
		t.Helper()
		if got := l.Percentile(p); got != want {
			t.Errorf("p%v of 1..1000 ms = %v, want %v", p, got, want)
		}
	}
	f(0, ms(1))
	f(50, ms(500))
	f(99, ms(990))
	f(99.9, ms(999))
	f(100, ms(1000))

	one := Latencies{ms(7)}
	for _, p := range []float64{0, 50, 99.9, 100} {
		if one.Percentile(p) != ms(7) {
			t.Errorf("p%v of one sample = %v", p, one.Percentile(p))
		}
	}
	if (Latencies{}).Percentile(50) != 0 {
		t.Error("empty: want 0")
	}
}

// Workers' samples, shuffled and split unevenly, merge into the same
// sorted whole.
func TestMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var parts [3]Latencies
	for i := 1; i <= 10000; i++ {
		w := r.IntN(3)
		parts[w] = append(parts[w], time.Duration(i))
	}
	for _, p := range parts {
		r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	}
	all := merge(append(parts[:], nil))
	if len(all) != 10000 {
		t.Fatalf("%d samples", len(all))
	}
	for i, d := range all {
		if d != time.Duration(i+1) {
			t.Fatalf("sample %d = %v", i, d)
		}
	}
	if all.Percentile(99.9) != 9990 {
		t.Errorf("p99.9 %v", all.Percentile(99.9))
	}
}

func TestPeakRSS(t *testing.T) {
	if PeakRSS() <= 0 {
		t.Skip("no /proc/self/status")
	}
	if err := ResetPeakRSS(); err != nil {
		t.Skipf("cannot reset the peak: %v", err)
	}
	before := PeakRSS()
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = 1
	}
	if after := PeakRSS(); after < before+32<<20 {
		t.Errorf("peak %d MiB after touching 64 MiB, %d MiB before", after>>20, before>>20)
	}
	b[len(b)-1] = 2
}

func TestOthersCPU(t *testing.T) {
	a := cpuTimes{total: 1000, busy: 300, self: 100}
	f := func(b cpuTimes, want float64) {
		t.Helper()
		if got := othersCPU(a, b); math.Abs(got-want) > 1e-9 {
			t.Errorf("othersCPU(%+v) = %v, want %v", b, got, want)
		}
	}
	f(cpuTimes{total: 1200, busy: 500, self: 300}, 0)   // all the busy time ours
	f(cpuTimes{total: 1200, busy: 500, self: 200}, 0.5) // half of it another's
	f(cpuTimes{total: 1200, busy: 400, self: 250}, 0)   // ticks counted apart: never negative
	f(a, 0)                                             // no time passed
	if c := readCPU(); c.total > 0 && (c.busy > c.total || c.self < 0) {
		t.Errorf("readCPU %+v", c)
	}
}
