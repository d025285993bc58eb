//go:build !race

package journey_test

import (
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// The site-wide accumulators do not allocate per visitor once warm (the
// funnel's slices of times grow amortised; friction keeps 20 examples).
func TestAccumulatorAllocations(t *testing.T) {
	visitors, _ := journeytest.Generate(5, 200, journeytest.Options{})
	steps, _ := journey.ParseSteps(journeytest.FunnelSteps)
	start, _ := journey.ParseStep(journeytest.PathStart)
	cfg := journey.DefaultConfig()
	funnel := journey.NewFunnel(steps, 24*time.Hour)
	friction := journey.NewFriction(cfg)
	paths := journey.NewPaths(&start, 4, cfg)
	attribution := journey.NewAttribution(cfg)
	all := func() {
		for i := range visitors {
			v := &visitors[i]
			funnel.Add(v.Trail)
			friction.Add(v.ID, v.Trail)
			paths.Add(v.Trail)
			attribution.Add(v.Trail, time.Time{})
		}
	}
	all()
	all()
	// Per pass over 200 visitors: attribution's campaign names (2 strings
	// a conversion with a campaign) are all that remains.
	conversions := attribution.Result().Conversions / 2
	if n := testing.AllocsPerRun(20, all); n > float64(2*conversions) {
		t.Errorf("%.0f allocations per 200 visitors (%d conversions)", n, conversions)
	}
	funnelOnly := func() {
		for i := range visitors {
			funnel.Add(visitors[i].Trail)
			friction.Add(visitors[i].ID, visitors[i].Trail)
			paths.Add(visitors[i].Trail)
		}
	}
	if n := testing.AllocsPerRun(20, funnelOnly); n > 1 {
		t.Errorf("funnel, friction and paths: %.0f allocations per 200 visitors", n)
	}
	ss, sa := journey.NewSelfService(cfg), journey.NewSatisfaction(cfg)
	ask := func() {
		for i := range visitors {
			ss.Add(visitors[i].Trail)
			sa.Add(visitors[i].Trail)
		}
	}
	ask()
	if n := testing.AllocsPerRun(20, ask); n > 1 {
		t.Errorf("self-service and satisfaction: %.0f allocations per 200 visitors", n)
	}
}
