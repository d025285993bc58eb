package journey_test

import (
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// Every accumulator's numbers equal the answers the generator planted, for
// several seeds.
func TestAgainstPlantedTruth(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 42} {
		opts := journeytest.Options{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 7}
		visitors, truth := journeytest.Generate(seed, 2000, opts)
		cfg := journey.DefaultConfig()
		steps, err := journey.ParseSteps(journeytest.FunnelSteps)
		if err != nil {
			t.Fatal(err)
		}
		start, _ := journey.ParseStep(journeytest.PathStart)
		funnel := journey.NewFunnel(steps, 24*time.Hour)
		friction := journey.NewFriction(cfg)
		attribution := journey.NewAttribution(cfg)
		paths := journey.NewPaths(&start, journeytest.PathDepth, cfg)
		segments := map[journey.Segment]int{}
		for _, v := range visitors {
			funnel.Add(v.Trail)
			friction.Add(v.ID, v.Trail)
			attribution.Add(v.Trail, opts.Start)
			paths.Add(v.Trail)
			seg, ok := journey.Classify(v.Trail, opts.Start, opts.End(), cfg)
			if !ok {
				t.Fatalf("seed %d: visitor %s not active in the range", seed, v.ID)
			}
			segments[seg]++
			if n := len(journey.Sessionize(v.Trail, cfg)); n != truth.Sessions[v.ID] {
				t.Fatalf("seed %d visitor %s: %d sessions, planted %d (plan %+v)", seed, v.ID, n, truth.Sessions[v.ID], v.Plan)
			}
		}
		f := funnel.Result()
		for k, st := range f.Steps {
			if st.Visitors != truth.Funnel[k] || st.MedianSeconds != truth.FunnelMedian[k] {
				t.Errorf("seed %d funnel step %d (%s): %d visitors, median %.0fs; planted %d, %.0fs",
					seed, k, st.Step, st.Visitors, st.MedianSeconds, truth.Funnel[k], truth.FunnelMedian[k])
			}
			if k > 0 && st.DropOff != truth.Funnel[k-1]-truth.Funnel[k] {
				t.Errorf("seed %d step %d drop-off %d", seed, k, st.DropOff)
			}
		}
		fr := friction.Result(3)
		for _, s := range fr.Signals {
			if s.Visitors != truth.Signals[s.Signal] {
				t.Errorf("seed %d signal %s: %d visitors, planted %d", seed, s.Signal, s.Visitors, truth.Signals[s.Signal])
			}
			if len(s.Examples) != min(3, s.Visitors) {
				t.Errorf("seed %d signal %s: %d examples", seed, s.Signal, len(s.Examples))
			}
		}
		for step, n := range truth.AbandonedAtStep {
			if fr.AbandonedAtStep[step] != n {
				t.Errorf("seed %d abandoned at %d: %d, planted %d", seed, step, fr.AbandonedAtStep[step], n)
			}
		}
		if len(fr.AbandonPages) != 1 || fr.AbandonPages[0].Page != "/pricing" || fr.AbandonPages[0].Visitors != truth.AbandonPages["/pricing"] {
			t.Errorf("seed %d abandon pages %+v, planted %v", seed, fr.AbandonPages, truth.AbandonPages)
		}
		a := attribution.Result()
		if a.Conversions != truth.Conversions || !sameCounts(a.FirstChannel, truth.FirstChannel) || !sameCounts(a.LastChannel, truth.LastChannel) ||
			!sameCounts(a.FirstCampaign, truth.FirstCampaign) || !sameCounts(a.LastCampaign, truth.LastCampaign) {
			t.Errorf("seed %d attribution %+v\nplanted %d %v %v %v %v", seed, a, truth.Conversions, truth.FirstChannel, truth.LastChannel, truth.FirstCampaign, truth.LastCampaign)
		}
		if !sameCounts(segments, truth.Segments) {
			t.Errorf("seed %d segments %v, planted %v", seed, segments, truth.Segments)
		}
		p := paths.Result(0)
		got := map[string]int{}
		for _, pc := range p.Paths {
			got[strings.Join(pc.Path, " > ")] = pc.Visitors
		}
		if !sameCounts(got, truth.Paths) || p.Visitors != truth.Funnel[0] {
			t.Errorf("seed %d paths %v, planted %v", seed, got, truth.Paths)
		}
	}
}

func sameCounts[K comparable](a, b map[K]int) bool {
	for k, v := range a {
		if v != 0 && b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if v != 0 && a[k] != v {
			return false
		}
	}
	return true
}
