package journey_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// benchVisitors is generated once for all benchmarks.
var benchVisitors, _ = journeytest.Generate(7, 10_000, journeytest.Options{})

// perVisitor runs add over generated visitors once per b.Loop and reports
// the time per visitor and per touchpoint: over 200 visitors, whose trails
// stay in the CPU cache as a store scan's freshly decoded trail does, and
// over 10,000, whose trails (about 35 MB) do not.
func perVisitor(b *testing.B, add func(v *journeytest.Visitor)) {
	for _, n := range []int{200, len(benchVisitors)} {
		b.Run("visitors="+strconv.Itoa(n), func(b *testing.B) {
			vs := benchVisitors[:n]
			touchpoints := 0
			for i := range vs {
				touchpoints += len(vs[i].Trail)
			}
			b.ReportAllocs()
			for b.Loop() {
				for i := range vs {
					add(&vs[i])
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns/float64(n), "ns/visitor")
			b.ReportMetric(ns/float64(touchpoints), "ns/touchpoint")
		})
	}
}

func BenchmarkFunnelAdd(b *testing.B) {
	steps, _ := journey.ParseSteps(journeytest.FunnelSteps)
	f := journey.NewFunnel(steps, 24*time.Hour)
	perVisitor(b, func(v *journeytest.Visitor) { f.Add(v.Trail) })
}

func BenchmarkFrictionAdd(b *testing.B) {
	f := journey.NewFriction(journey.DefaultConfig())
	perVisitor(b, func(v *journeytest.Visitor) { f.Add(v.ID, v.Trail) })
}

func BenchmarkPathsAdd(b *testing.B) {
	start, _ := journey.ParseStep(journeytest.PathStart)
	p := journey.NewPaths(&start, journeytest.PathDepth, journey.DefaultConfig())
	perVisitor(b, func(v *journeytest.Visitor) { p.Add(v.Trail) })
}

func BenchmarkAttributionAdd(b *testing.B) {
	a := journey.NewAttribution(journey.DefaultConfig())
	perVisitor(b, func(v *journeytest.Visitor) { a.Add(v.Trail, time.Time{}) })
}

func BenchmarkSelfServiceAdd(b *testing.B) {
	ss := journey.NewSelfService(journey.DefaultConfig())
	perVisitor(b, func(v *journeytest.Visitor) { ss.Add(v.Trail) })
}

func BenchmarkSatisfactionAdd(b *testing.B) {
	sa := journey.NewSatisfaction(journey.DefaultConfig())
	perVisitor(b, func(v *journeytest.Visitor) { sa.Add(v.Trail) })
}

func BenchmarkSessionize(b *testing.B) {
	cfg := journey.DefaultConfig()
	perVisitor(b, func(v *journeytest.Visitor) { journey.Sessionize(v.Trail, cfg) })
}
