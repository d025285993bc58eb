package journey_test

import (
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// benchVisitors is generated once for all benchmarks.
var benchVisitors, benchTruth = journeytest.Generate(7, 10_000, journeytest.Options{})

// perVisitor runs add over every generated visitor once per b.Loop and
// reports the time per visitor and per touchpoint.
func perVisitor(b *testing.B, add func(v *journeytest.Visitor)) {
	b.ReportAllocs()
	for b.Loop() {
		for i := range benchVisitors {
			add(&benchVisitors[i])
		}
	}
	n := float64(b.N)
	b.ReportMetric(b.Elapsed().Seconds()*1e9/n/float64(len(benchVisitors)), "ns/visitor")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/n/float64(benchTruth.Touchpoints), "ns/touchpoint")
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

func BenchmarkSessionize(b *testing.B) {
	cfg := journey.DefaultConfig()
	perVisitor(b, func(v *journeytest.Visitor) { journey.Sessionize(v.Trail, cfg) })
}
