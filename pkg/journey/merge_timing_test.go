package journey_test

import (
	"testing"
)

// A realistic partial: one store's share of the 10,000 generated visitors
// with engagement reports, as a store of four would hold (2,500).
func benchPartials(b *testing.B) (kits []anyKit, parts []partial) {
	b.Helper()
	vs := withEngagement(benchVisitors[:2500], 7)
	for _, kt := range allKits() {
		kits = append(kits, kt)
		parts = append(parts, kt.fill(vs))
	}
	return kits, parts
}

// BenchmarkPartialMerge merges a store's partial into a query node's
// accumulator (made anew each time, as a query node does per question).
func BenchmarkPartialMerge(b *testing.B) {
	kits, parts := benchPartials(b)
	for i, kt := range kits {
		b.Run(kt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := kt.merge(kt.make(), parts[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPartialMarshal encodes a store's partial; bytes/partial is its
// size on the wire.
func BenchmarkPartialMarshal(b *testing.B) {
	kits, parts := benchPartials(b)
	for i, kt := range kits {
		b.Run(kt.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, err := parts[i].MarshalBinary()
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
			b.ReportMetric(float64(n), "bytes/partial")
		})
	}
}

// BenchmarkPartialUnmarshal decodes it on the query node.
func BenchmarkPartialUnmarshal(b *testing.B) {
	kits, parts := benchPartials(b)
	for i, kt := range kits {
		data, err := parts[i].MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(kt.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := kt.make().UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
