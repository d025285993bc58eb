package journey_test

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// partial is what every site-wide accumulator offers a cluster.
type partial interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// kit drives one accumulator through the sharding test.
type kit[A partial] struct {
	name   string
	make   func() A
	add    func(a A, v *journeytest.Visitor)
	merge  func(a, b A) error
	result func(a A) any
	// other is made with different parameters: merging it must fail.
	other func() A
}

var mergeOpts = journeytest.Options{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 7}

// scopes: none, and the range of the data set with a segment (which
// classifies each visitor by its history).
var mergeScopes = []journey.Scope{{}, {From: mergeOpts.Start.AddDate(0, 0, 1), To: mergeOpts.End(), Segment: journey.SegmentReturning}}

func funnelKit(scope journey.Scope) kit[*journey.Funnel] {
	steps, _ := journey.ParseSteps(journeytest.FunnelSteps)
	return kit[*journey.Funnel]{name: "funnel",
		make: func() *journey.Funnel {
			f := journey.NewFunnel(steps, 24*time.Hour)
			f.Scope = scope
			return f
		},
		add:    func(f *journey.Funnel, v *journeytest.Visitor) { f.Add(v.Trail) },
		merge:  (*journey.Funnel).Merge,
		result: func(f *journey.Funnel) any { return []any{f.Result(), f.Visitors()} },
		other: func() *journey.Funnel {
			f := journey.NewFunnel(steps, time.Hour)
			f.Scope = scope
			return f
		},
	}
}

func pathsKit(scope journey.Scope) kit[*journey.Paths] {
	start, _ := journey.ParseStep(journeytest.PathStart)
	cfg := journey.DefaultConfig()
	return kit[*journey.Paths]{name: "paths",
		make: func() *journey.Paths {
			p := journey.NewPaths(&start, journeytest.PathDepth, cfg)
			p.Scope = scope
			return p
		},
		add:    func(p *journey.Paths, v *journeytest.Visitor) { p.Add(v.Trail) },
		merge:  (*journey.Paths).Merge,
		result: func(p *journey.Paths) any { return p.Result(0) },
		other: func() *journey.Paths {
			p := journey.NewPaths(nil, journeytest.PathDepth, cfg)
			p.Scope = scope
			return p
		},
	}
}

func frictionKit(scope journey.Scope) kit[*journey.Friction] {
	cfg := journey.DefaultConfig()
	return kit[*journey.Friction]{name: "friction",
		make: func() *journey.Friction {
			f := journey.NewFriction(cfg)
			f.Scope = scope
			return f
		},
		add:    func(f *journey.Friction, v *journeytest.Visitor) { f.Add(v.ID, v.Trail) },
		merge:  (*journey.Friction).Merge,
		result: func(f *journey.Friction) any { return f.Result(journey.MaxExamples) },
		other: func() *journey.Friction {
			f := journey.NewFriction(journey.Config{RepeatedSearches: 2})
			f.Scope = scope
			return f
		},
	}
}

func attributionKit(scope journey.Scope) kit[*journey.Attribution] {
	cfg := journey.DefaultConfig()
	return kit[*journey.Attribution]{name: "attribution",
		make: func() *journey.Attribution {
			a := journey.NewAttribution(cfg)
			a.Scope = scope
			return a
		},
		add:    func(a *journey.Attribution, v *journeytest.Visitor) { a.Add(v.Trail, mergeOpts.Start) },
		merge:  (*journey.Attribution).Merge,
		result: func(a *journey.Attribution) any { return a.Result() },
		other: func() *journey.Attribution {
			a := journey.NewAttribution(journey.Config{CheckoutLastStep: 2})
			a.Scope = scope
			return a
		},
	}
}

func mapKit(scope journey.Scope, ch event.Channel) kit[*journey.Map] {
	cfg := journey.DefaultConfig()
	return kit[*journey.Map]{name: "map",
		make: func() *journey.Map {
			m := journey.NewMap(cfg)
			m.Scope, m.Channel = scope, ch
			return m
		},
		add:    func(m *journey.Map, v *journeytest.Visitor) { m.Add(v.Trail) },
		merge:  (*journey.Map).Merge,
		result: func(m *journey.Map) any { return m.Result(0) },
		other: func() *journey.Map {
			m := journey.NewMap(cfg)
			m.Scope, m.Channel = scope, event.ChannelReferral
			return m
		},
	}
}

func engagementKit(scope journey.Scope) kit[*journey.Engagement] {
	cfg := journey.DefaultConfig()
	return kit[*journey.Engagement]{name: "engagement",
		make: func() *journey.Engagement {
			e := journey.NewEngagement(cfg)
			e.Scope = scope
			return e
		},
		add:    func(e *journey.Engagement, v *journeytest.Visitor) { e.Add(v.Trail) },
		merge:  (*journey.Engagement).Merge,
		result: func(e *journey.Engagement) any { return e.Result(0) },
		other: func() *journey.Engagement {
			e := journey.NewEngagement(journey.Config{QuickExit: time.Minute})
			e.Scope = scope
			return e
		},
	}
}

func selfServiceKit(scope journey.Scope) kit[*journey.SelfService] {
	cfg := journey.DefaultConfig()
	return kit[*journey.SelfService]{name: "self-service",
		make: func() *journey.SelfService {
			ss := journey.NewSelfService(cfg)
			ss.Scope = scope
			return ss
		},
		add:    func(ss *journey.SelfService, v *journeytest.Visitor) { ss.Add(v.Trail) },
		merge:  (*journey.SelfService).Merge,
		result: func(ss *journey.SelfService) any { return ss.Result(0) },
		other: func() *journey.SelfService {
			ss := journey.NewSelfService(journey.Config{SelfServiceWindow: time.Hour})
			ss.Scope = scope
			return ss
		},
	}
}

func satisfactionKit(scope journey.Scope) kit[*journey.Satisfaction] {
	cfg := journey.DefaultConfig()
	return kit[*journey.Satisfaction]{name: "satisfaction",
		make: func() *journey.Satisfaction {
			sa := journey.NewSatisfaction(cfg)
			sa.Scope = scope
			return sa
		},
		add:    func(sa *journey.Satisfaction, v *journeytest.Visitor) { sa.Add(v.Trail) },
		merge:  (*journey.Satisfaction).Merge,
		result: func(sa *journey.Satisfaction) any { return sa.Result(0) },
		other: func() *journey.Satisfaction {
			sa := journey.NewSatisfaction(journey.Config{LowFeedback: 0.5})
			sa.Scope = scope
			return sa
		},
	}
}

// withEngagement returns the visitors with an engagement report after
// most page views (engaged 0.2 s to 10 min, scrolled 0..100 %), as
// t-engage.js sends them; journeytest plants none.
func withEngagement(visitors []journeytest.Visitor, seed uint64) []journeytest.Visitor {
	r := rand.New(rand.NewPCG(seed, 5))
	out := make([]journeytest.Visitor, len(visitors))
	for i, v := range visitors {
		out[i] = v
		out[i].Trail = nil
		for _, tp := range v.Trail {
			out[i].Trail = append(out[i].Trail, tp)
			if tp.Type != event.TypePageview || r.IntN(5) == 0 {
				continue
			}
			ms := int64(200 + r.IntN(600_000))
			if r.IntN(3) == 0 {
				ms = int64(r.IntN(10_000)) // quick exits
			}
			out[i].Trail = append(out[i].Trail, event.Touchpoint{Type: event.TypeEngagement, Site: tp.Site, Visitor: tp.Visitor,
				URL: tp.URL, Derived: tp.Derived, Seq: tp.Seq, Props: []event.Prop{
					{Key: event.PropEngagedMS, Value: strconv.FormatInt(ms, 10)}, {Key: event.PropScroll, Value: strconv.Itoa(r.IntN(101))}}})
		}
	}
	return out
}

// shards splits visitors into k random shards, as partitions by visitor
// would.
func shards(visitors []journeytest.Visitor, k int, seed uint64) [][]*journeytest.Visitor {
	r := rand.New(rand.NewPCG(seed, 99))
	out := make([][]*journeytest.Visitor, k)
	for i := range visitors {
		s := r.IntN(k)
		out[s] = append(out[s], &visitors[i])
	}
	return out
}

// checkSharded: for k shards and several seeds, accumulating each shard,
// marshalling, unmarshalling and merging (in two orders, into an empty
// accumulator and into the first partial) answers exactly what
// accumulating the whole set answers.
func checkSharded[A partial](t *testing.T, kt kit[A], visitors []journeytest.Visitor, seeds int) {
	t.Helper()
	whole := kt.make()
	for i := range visitors {
		kt.add(whole, &visitors[i])
	}
	want := kt.result(whole)
	for _, k := range []int{1, 2, 3, 8} {
		for seed := range uint64(min(k, seeds)) { // one split into one shard
			parts := make([]A, k)
			for s, shard := range shards(visitors, k, seed) {
				a := kt.make()
				for _, v := range shard {
					kt.add(a, v)
				}
				b, err := a.MarshalBinary()
				if err != nil {
					t.Fatalf("%s: marshal: %v", kt.name, err)
				}
				parts[s] = kt.make()
				if err := parts[s].UnmarshalBinary(b); err != nil {
					t.Fatalf("%s: unmarshal: %v", kt.name, err)
				}
			}
			forward := kt.make()
			for _, p := range parts {
				if err := kt.merge(forward, p); err != nil {
					t.Fatalf("%s: merge: %v", kt.name, err)
				}
			}
			if got := kt.result(forward); !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %d shards (seed %d), merged in order:\n got %+v\nwant %+v", kt.name, k, seed, got, want)
			}
			backward := parts[k-1]
			for i := k - 2; i >= 0; i-- {
				if err := kt.merge(backward, parts[i]); err != nil {
					t.Fatalf("%s: merge: %v", kt.name, err)
				}
			}
			if got := kt.result(backward); !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %d shards (seed %d), merged in reverse:\n got %+v\nwant %+v", kt.name, k, seed, got, want)
			}
		}
	}
	if err := kt.merge(kt.make(), kt.other()); !errors.Is(err, journey.ErrMismatch) {
		t.Errorf("%s: merging different parameters: %v", kt.name, err)
	}
	b, _ := kt.other().MarshalBinary()
	if err := kt.make().UnmarshalBinary(b); !errors.Is(err, journey.ErrMismatch) {
		t.Errorf("%s: unmarshalling different parameters: %v", kt.name, err)
	}
}

// TestMergeEqualsOneNode: every accumulator, over the journeytest shop
// (2,000 visitors, engagement reports added) without and with a Scope,
// split two ways into each k; and the funnel and engagement over 4,000,
// split one way, which takes their medians past journey.ExactValues into
// the sketch.
func TestMergeEqualsOneNode(t *testing.T) {
	small, _ := journeytest.Generate(1, 2000, mergeOpts)
	small = withEngagement(small, 1)
	for i, scope := range mergeScopes {
		t.Run(fmt.Sprintf("scope%d", i), func(t *testing.T) {
			checkSharded(t, funnelKit(scope), small, 2)
			checkSharded(t, pathsKit(scope), small, 2)
			checkSharded(t, frictionKit(scope), small, 2)
			checkSharded(t, attributionKit(scope), small, 2)
			checkSharded(t, mapKit(scope, event.ChannelUnknown), small, 2)
			checkSharded(t, mapKit(scope, event.ChannelSocial), small, 2)
			checkSharded(t, engagementKit(scope), small, 2)
			checkSharded(t, selfServiceKit(scope), small, 2)
			checkSharded(t, satisfactionKit(scope), small, 2)
		})
	}
	t.Run("sketched", func(t *testing.T) {
		large, _ := journeytest.Generate(3, 4000, mergeOpts)
		large = withEngagement(large, 3)
		checkSharded(t, funnelKit(journey.Scope{}), large, 1)
		checkSharded(t, engagementKit(journey.Scope{}), large, 1)
	})
}

// anyKit is a kit with its type erased, to list every accumulator.
type anyKit struct {
	name   string
	make   func() partial
	fill   func(vs []journeytest.Visitor) partial
	merge  func(a, b partial) error
	result func(a partial) any
}

func erase[A partial](kt kit[A]) anyKit {
	return anyKit{name: kt.name,
		make: func() partial { return kt.make() },
		fill: func(vs []journeytest.Visitor) partial {
			a := kt.make()
			for i := range vs {
				kt.add(a, &vs[i])
			}
			return a
		},
		merge:  func(a, b partial) error { return kt.merge(a.(A), b.(A)) },
		result: func(a partial) any { return kt.result(a.(A)) },
	}
}

// allKits lists every site-wide accumulator, without a Scope.
func allKits() []anyKit {
	var s journey.Scope
	return []anyKit{erase(funnelKit(s)), erase(pathsKit(s)), erase(frictionKit(s)), erase(attributionKit(s)),
		erase(mapKit(s, event.ChannelUnknown)), erase(engagementKit(s)), erase(selfServiceKit(s)), erase(satisfactionKit(s))}
}

// Truncated or damaged partial states give an error or a state that
// answers, never a panic; a truncated one always an error, and the
// accumulator keeps its state.
func TestPartialStateCorrupt(t *testing.T) {
	vs, _ := journeytest.Generate(4, 300, mergeOpts)
	vs = withEngagement(vs, 4)
	r := rand.New(rand.NewPCG(4, 4))
	for _, kt := range allKits() {
		good, err := kt.fill(vs).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		want := kt.result(kt.fill(vs[:10]))
		lengths := []int{0, 1, 9, 10, 11}
		for range 300 {
			lengths = append(lengths, r.IntN(len(good)))
		}
		for _, n := range lengths {
			a := kt.fill(vs[:10])
			if err := a.UnmarshalBinary(good[:n]); !errors.Is(err, journey.ErrCorrupt) {
				t.Fatalf("%s: %d of %d bytes: %v", kt.name, n, len(good), err)
			}
			if got := kt.result(a); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: a failed unmarshal changed the state", kt.name)
			}
		}
		for range 300 {
			bad := slices.Clone(good)
			for range 1 + r.IntN(3) {
				bad[10+r.IntN(len(bad)-10)] ^= byte(1 + r.IntN(255))
			}
			a := kt.make()
			if a.UnmarshalBinary(bad) == nil {
				kt.result(a) // must answer
				if err := kt.merge(kt.make(), a); err != nil {
					t.Fatalf("%s: merge of a decoded state: %v", kt.name, err)
				}
			}
		}
		for _, head := range [][]byte{{2, good[1]}, {1, 'Z'}} {
			bad := append(head, good[2:]...)
			if err := kt.make().UnmarshalBinary(bad); !errors.Is(err, journey.ErrCorrupt) {
				t.Errorf("%s: version %d kind %q: %v", kt.name, bad[0], bad[1], err)
			}
		}
	}
}

// Past journey.ExactValues visitors a step, the funnel's median time comes
// from the sketch: within journey.RelativeAccuracy of the planted (exact)
// median, on one node and merged from 8 stores alike.
func TestFunnelMedianSketchAgainstPlanted(t *testing.T) {
	vs, truth := journeytest.Generate(8, 6000, mergeOpts)
	kt := funnelKit(journey.Scope{})
	one := kt.make()
	for i := range vs {
		one.Add(vs[i].Trail)
	}
	merged := kt.make()
	for _, shard := range shards(vs, 8, 8) {
		part := kt.make()
		for _, v := range shard {
			part.Add(v.Trail)
		}
		if err := merged.Merge(part); err != nil {
			t.Fatal(err)
		}
	}
	sketched := 0
	for k, st := range one.Result().Steps {
		if k == 0 {
			continue
		}
		if st.Visitors > journey.ExactValues {
			sketched++
		}
		want := truth.FunnelMedian[k]
		if math.Abs(st.MedianSeconds-want) > journey.RelativeAccuracy*want {
			t.Errorf("step %d (%d visitors): median %.3f s, planted %.1f s", k, st.Visitors, st.MedianSeconds, want)
		}
		if m := merged.Result().Steps[k].MedianSeconds; m != st.MedianSeconds {
			t.Errorf("step %d: merged median %v, one node %v", k, m, st.MedianSeconds)
		}
	}
	if sketched < 2 {
		t.Fatalf("only %d steps past %d visitors: the sketch is not tested", sketched, journey.ExactValues)
	}
}
