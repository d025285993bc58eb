package bench

import (
	"strconv"
	"testing"
)

// The generator runs on the same cores as the server it loads: it should
// cost little next to a request and allocate nothing.
func BenchmarkAppendBatch(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			g := NewGenerator(1, 0, 2000, clock)
			buf := g.AppendBatch(nil, "test", n)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = g.AppendBatch(buf[:0], "test", n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}
