package journey

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactMedian is the median by definition: sorted, the middle value or
// the mean of the middle two.
func exactMedian(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Over more than ExactValues values the median comes from the sketch and
// lies within RelativeAccuracy of the exact one; up to ExactValues it is
// exact. Merging parts split anyhow answers bit for bit what one quantity
// of all values answers.
func TestQuantityMedianAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	dists := map[string]func() float64{
		"uniform 5..305 s":    func() float64 { return float64(5 + r.IntN(300)) },
		"lognormal seconds":   func() float64 { return math.Exp(r.NormFloat64()*2 + 3) },
		"ms to an hour":       func() float64 { return float64(r.IntN(3_600_000)) / 1000 },
		"µs, some zeros":      func() float64 { return float64(r.IntN(40)) / 1e6 },
		"two clusters":        func() float64 { return []float64{0.5, 7200}[r.IntN(2)] + r.Float64() },
		"heavy tail (pareto)": func() float64 { return 1 / math.Pow(1-r.Float64(), 1.5) },
	}
	for name, gen := range dists {
		for _, n := range []int{1, 2, 3, 100, ExactValues, ExactValues + 1, 5000, 20001} {
			xs := make([]float64, n)
			var one quantity
			for i := range xs {
				xs[i] = gen()
				one.add(xs[i])
			}
			want, got := exactMedian(xs), one.median()
			if n <= ExactValues {
				if got != want {
					t.Errorf("%s, %d values: median %v, exact %v", name, n, got, want)
				}
			} else if math.Abs(got-want) > RelativeAccuracy*want {
				t.Errorf("%s, %d values: sketch median %v, exact %v: error %.3f%% > %.0f%%",
					name, n, got, want, 100*math.Abs(got-want)/want, 100*RelativeAccuracy)
			}
			// Split into 1..8 parts, through the encoding, merged in two orders.
			for k := 1; k <= 8; k++ {
				parts := make([]quantity, k)
				for i, x := range xs {
					parts[(i*7+k)%k].add(x)
				}
				for i := range parts {
					b := parts[i].encode(nil)
					var back quantity
					d := &dec{b: b}
					back.decode(d)
					if err := d.done("test"); err != nil {
						t.Fatalf("%s: decode: %v", name, err)
					}
					parts[i] = back
				}
				var fwd, bwd quantity
				for i := range parts {
					fwd.merge(&parts[i])
					bwd.merge(&parts[k-1-i])
				}
				if a, b := fwd.median(), bwd.median(); a != got || b != got {
					t.Fatalf("%s, %d values in %d parts: merged medians %v, %v; one quantity %v", name, n, k, a, b, got)
				}
			}
		}
	}
}

// Corrupt sketches are refused, never trusted: bins out of range or order,
// counts that do not add up.
func TestQuantityDecodeRefuses(t *testing.T) {
	var q quantity
	for i := range 3000 {
		q.add(float64(i))
	}
	good := q.encode(nil)
	f := func(name string, b []byte) {
		t.Helper()
		var back quantity
		d := &dec{b: b}
		back.decode(d)
		if d.done("test") == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	f("truncated", good[:len(good)-1])
	f("count off by one", enc(nil).n(3001).u(0).n(1).i(5).u(3000))
	f("index out of range", enc(nil).n(2000).u(0).n(1).i(int64(maxSketchIndex)+1).u(2000))
	f("bins out of order", enc(nil).n(2000).u(0).n(2).i(10).u(1000).i(0).u(1000))
	f("zero count bin", enc(nil).n(2000).u(2000).n(1).i(10).u(0))
	f("exact value negative", enc(nil).n(1).f(-1))
	f("exact value NaN", enc(nil).n(1).f(math.NaN()))
	f("huge length", enc(nil).n(2000).u(0).u(1<<60))
}
