package journey_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

var truthSeeds = []int64{1, 2, 3, 42}

// Every accumulator's numbers equal the answers the generator planted, for
// several seeds.
func TestAgainstPlantedTruth(t *testing.T) {
	for _, seed := range truthSeeds {
		opts := journeytest.Options{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 7}
		visitors, truth := journeytest.Generate(seed, 2500, opts)
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
		}
		f := funnel.Result()
		for k, st := range f.Steps {
			if st.Visitors != truth.Funnel[k] || st.MedianSeconds != truth.FunnelMedian[k] {
				t.Errorf("seed %d funnel step %d (%s): %d visitors, median %.0fs; planted %d, %.0fs",
					seed, k, st.Step, st.Visitors, st.MedianSeconds, truth.Funnel[k], truth.FunnelMedian[k])
			}
			if k > 0 && (st.DropOff != truth.Funnel[k-1]-truth.Funnel[k] ||
				st.FromPrevious != float64(truth.Funnel[k])/float64(truth.Funnel[k-1]) ||
				st.FromFirst != float64(truth.Funnel[k])/float64(truth.Funnel[0])) {
				t.Errorf("seed %d step %d: %+v", seed, k, st)
			}
		}
		fr := friction.Result(3)
		if fr.Visitors != truth.Visitors {
			t.Errorf("seed %d friction over %d visitors, planted %d", seed, fr.Visitors, truth.Visitors)
		}
		for _, s := range fr.Signals {
			if s.Visitors != truth.Signals[s.Signal] {
				t.Errorf("seed %d signal %s: %d visitors, planted %d", seed, s.Signal, s.Visitors, truth.Signals[s.Signal])
			}
			if len(s.Examples) != min(3, s.Visitors) {
				t.Errorf("seed %d signal %s: %d examples", seed, s.Signal, len(s.Examples))
			}
			for _, ex := range s.Examples {
				id, _ := event.ParseVisitor(ex)
				if !slices.Contains(truth.VisitorSignals[id], s.Signal) {
					t.Errorf("seed %d signal %s: example %s was not planted with it", seed, s.Signal, ex)
				}
			}
		}
		if !journeytest.SameCounts(fr.AbandonedAtStep, truth.AbandonedAtStep) {
			t.Errorf("seed %d abandoned at %v, planted %v", seed, fr.AbandonedAtStep, truth.AbandonedAtStep)
		}
		pages := map[string]int{}
		for _, pc := range fr.AbandonPages {
			pages[pc.Page] = pc.Visitors
		}
		if !journeytest.SameCounts(pages, truth.AbandonPages) {
			t.Errorf("seed %d abandon pages %+v, planted %v", seed, fr.AbandonPages, truth.AbandonPages)
		}
		a := attribution.Result()
		if a.Conversions != truth.Conversions || !journeytest.SameCounts(a.FirstChannel, truth.FirstChannel) || !journeytest.SameCounts(a.LastChannel, truth.LastChannel) ||
			!journeytest.SameCounts(a.FirstCampaign, truth.FirstCampaign) || !journeytest.SameCounts(a.LastCampaign, truth.LastCampaign) {
			t.Errorf("seed %d attribution %+v\nplanted %d %v %v %v %v", seed, a, truth.Conversions, truth.FirstChannel, truth.LastChannel, truth.FirstCampaign, truth.LastCampaign)
		}
		if !journeytest.SameCounts(segments, truth.Segments) {
			t.Errorf("seed %d segments %v, planted %v", seed, segments, truth.Segments)
		}
		checkPaths(t, seed, paths.Result(0), truth)
	}
}

// checkPaths compares the sequences and the transitions (the planted
// paths' edges) with the truth.
func checkPaths(t *testing.T, seed int64, p journey.PathsResult, truth journeytest.Truth) {
	t.Helper()
	got := map[string]int{}
	for _, pc := range p.Paths {
		got[strings.Join(pc.Path, " > ")] = pc.Visitors
	}
	if !journeytest.SameCounts(got, truth.Paths) || p.Visitors != truth.Funnel[0] {
		t.Errorf("seed %d paths %v, planted %v", seed, got, truth.Paths)
	}
	wantEdges := map[journey.Transition]int{}
	for path, n := range truth.Paths {
		nodes := strings.Split(path, " > ")
		for d := 0; d+1 < len(nodes); d++ {
			wantEdges[journey.Transition{Depth: d, From: nodes[d], To: nodes[d+1]}] += n
		}
	}
	gotEdges := map[journey.Transition]int{}
	for _, tr := range p.Transitions {
		n := tr.Visitors
		tr.Visitors = 0
		gotEdges[tr] = n
	}
	if !journeytest.SameCounts(gotEdges, wantEdges) {
		t.Errorf("seed %d transitions %v, planted %v", seed, gotEdges, wantEdges)
	}
}

// Each visitor's journey — sessions, stages, signals, funnel reach,
// conversion — is the one planted.
func TestVisitorsAgainstPlantedTruth(t *testing.T) {
	cfg := journey.DefaultConfig()
	steps, _ := journey.ParseSteps(journeytest.FunnelSteps)
	for _, seed := range truthSeeds {
		visitors, truth := journeytest.Generate(seed, 2000, journeytest.Options{})
		for _, v := range visitors {
			j := journey.Build(v.Trail, cfg)
			if len(j.Sessions) != truth.Sessions[v.ID] || j.Touchpoints != len(v.Trail) {
				t.Fatalf("seed %d visitor %s: %d sessions, planted %d (plan %+v)", seed, v.ID, len(j.Sessions), truth.Sessions[v.ID], v.Plan)
			}
			if !slices.Equal(j.Stages, truth.Stages[v.ID]) {
				t.Fatalf("seed %d visitor %s: stages %v, planted %v (plan %+v)", seed, v.ID, j.Stages, truth.Stages[v.ID], v.Plan)
			}
			if !slices.Equal(j.Friction, truth.VisitorSignals[v.ID]) && len(j.Friction)+len(truth.VisitorSignals[v.ID]) > 0 {
				t.Fatalf("seed %d visitor %s: signals %v, planted %v", seed, v.ID, j.Friction, truth.VisitorSignals[v.ID])
			}
			if j.Converted != (v.Plan.Reach == 3) {
				t.Fatalf("seed %d visitor %s: converted %v, plan %+v", seed, v.ID, j.Converted, v.Plan)
			}
			f := journey.NewFunnel(steps, 24*time.Hour)
			f.Add(v.Trail)
			reached := 0
			for _, st := range f.Result().Steps {
				reached += st.Visitors
			}
			if reached != truth.Reached[v.ID] {
				t.Fatalf("seed %d visitor %s: reached %d steps, planted %d", seed, v.ID, reached, truth.Reached[v.ID])
			}
		}
		for user, ids := range truth.Users {
			var trails [][]event.Touchpoint
			n := 0
			for _, v := range visitors {
				if slices.Contains(ids, v.ID) {
					trails = append(trails, v.Trail)
					n += len(v.Trail)
				}
			}
			m := journey.Merge(trails...)
			if len(ids) != 2 || len(m) != n || !slices.IsSortedFunc(m, func(a, b event.Touchpoint) int {
				if event.Less(&a, &b) {
					return -1
				}
				return 0
			}) {
				t.Fatalf("seed %d user %s: visitors %v, merged %d of %d touchpoints out of order", seed, user, ids, len(m), n)
			}
		}
	}
}

// Scoped accumulators, given whole trails, count the planted segments.
func TestScopeAgainstPlantedTruth(t *testing.T) {
	opts := journeytest.Options{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 7}
	steps, _ := journey.ParseSteps(journeytest.FunnelSteps)
	for _, seed := range truthSeeds {
		visitors, truth := journeytest.Generate(seed, 2000, opts)
		for _, seg := range []journey.Segment{journey.SegmentNew, journey.SegmentReturning, journey.SegmentLapsed} {
			scope := journey.Scope{From: opts.Start, To: opts.End(), Segment: seg}
			f := journey.NewFunnel(steps, 24*time.Hour)
			f.Scope = scope
			fr := journey.NewFriction(journey.DefaultConfig())
			fr.Scope = scope
			for _, v := range visitors {
				f.Add(v.Trail)
				fr.Add(v.ID, v.Trail)
			}
			want := truth.FunnelBySegment[seg]
			for k, st := range f.Result().Steps {
				if st.Visitors != want[k] {
					t.Errorf("seed %d %s funnel step %d: %d, planted %d", seed, seg, k, st.Visitors, want[k])
				}
			}
			if got := fr.Result(0).Visitors; got != truth.Segments[seg] {
				t.Errorf("seed %d %s: friction over %d visitors, planted %d", seed, seg, got, truth.Segments[seg])
			}
		}
		// Attribution in the range keeps the touches before it.
		a := journey.NewAttribution(journey.DefaultConfig())
		a.Scope = journey.Scope{From: opts.Start, To: opts.End()}
		for _, v := range visitors {
			a.Add(v.Trail, time.Time{})
		}
		if r := a.Result(); r.Conversions != truth.Conversions || !journeytest.SameCounts(r.FirstChannel, truth.FirstChannel) {
			t.Errorf("seed %d scoped attribution %+v, planted %d %v", seed, r, truth.Conversions, truth.FirstChannel)
		}
		// A range after everything holds nobody.
		f := journey.NewFunnel(steps, 0)
		f.Scope = journey.Scope{From: opts.End(), To: opts.End().Add(time.Hour)}
		for _, v := range visitors {
			f.Add(v.Trail)
		}
		if n := f.Result().Steps[0].Visitors; n != 0 {
			t.Errorf("seed %d: %d visitors after the range", seed, n)
		}
	}
}
