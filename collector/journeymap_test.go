package collector_test

import (
	"context"
	"maps"
	"math"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// GET …/map answers the planted figures over a real Badger store, and
// exactly what journey.Map makes of the same trails, for each filter.
func TestJourneyMapEndpoint(t *testing.T) {
	opts := journeytest.Options{Site: collectortest.Site, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 7}
	visitors, truth := journeytest.Generate(11, 400, opts)
	// The collector's clock a day after the data: a query without from/to
	// reads its default range, the 30 days before now.
	now := opts.End().Add(24 * time.Hour)
	col := collectortest.Start(t, collectortest.Options{Now: func() time.Time { return now }})
	if err := journeytest.Load(context.Background(), col.Store, collectortest.Site, visitors); err != nil {
		t.Fatal(err)
	}
	c := client{t, col.URL}
	rng := "from=2026-11-01&to=2026-11-08"
	get := func(query string) journey.MapResult {
		t.Helper()
		a := c.get("/v1/sites/test/map?"+query, collectortest.ReadToken)
		if a.status != http.StatusOK {
			t.Fatalf("map?%s: %d %s", query, a.status, a.body)
		}
		var r journey.MapResult
		a.json(t, &r)
		return r
	}

	r := get(rng + "&top=20")
	if r.Visitors != truth.Visitors {
		t.Fatalf("map over %d visitors, planted %d", r.Visitors, truth.Visitors)
	}
	top := map[string]int{}
	for _, lc := range r.Stages[journey.StageBuy].Top {
		top[lc.Touchpoint] = lc.Visitors
	}
	for k, want := range map[string]int{"pageview /pricing": truth.Funnel[0], "checkout_step 1": truth.Funnel[1],
		"checkout_step 2": truth.Funnel[2], "checkout_step 3": truth.Funnel[3]} {
		if top[k] != want {
			t.Errorf("buy: %s %d visitors, planted %d", k, top[k], want)
		}
	}
	signals := map[string]int{}
	for _, st := range r.Stages {
		for _, f := range st.Friction {
			signals[f.Signal] += f.Visitors
		}
	}
	// A visitor's low ratings count in each stage they were given in.
	want := maps.Clone(truth.Signals)
	want[journey.SignalLowFeedback] = 0
	for _, v := range visitors {
		p := &v.Plan
		for _, low := range []bool{p.Feedback == 1, p.CheckoutCSAT > 0 && p.CheckoutCSAT < 3, p.Helpful == 2} {
			if low {
				want[journey.SignalLowFeedback]++
			}
		}
	}
	if !journeytest.SameCounts(signals, want) {
		t.Errorf("friction over the stages %v, planted %v", signals, want)
	}

	for _, q := range []struct {
		query string
		scope journey.Scope
		ch    string
	}{
		{rng, journey.Scope{}, ""},
		{rng + "&segment=lapsed", journey.Scope{Segment: journey.SegmentLapsed}, ""},
		{rng + "&channel=email", journey.Scope{}, "email"},
		{"", journey.Scope{}, ""},
	} {
		m := journey.NewMap(journey.DefaultConfig())
		m.Scope = q.scope
		if q.query != "" {
			m.Scope.From, m.Scope.To = opts.Start, opts.End()
		} else {
			m.Scope.From, m.Scope.To = now.Add(-30*24*time.Hour), now
		}
		if q.ch != "" {
			m.Channel = event.ParseChannel(q.ch)
		}
		for _, v := range visitors {
			m.Add(v.Trail)
		}
		want, got := m.Result(5), get(q.query)
		roundAverages(&want)
		roundAverages(&got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("map?%s differs from journey.Map:\n got %+v\nwant %+v", q.query, got, want)
		}
	}
	if n := get(rng + "&segment=returning").Visitors; n != truth.Segments[journey.SegmentReturning] {
		t.Errorf("returning: %d visitors, planted %d", n, truth.Segments[journey.SegmentReturning])
	}

	for query, status := range map[string]int{"channel=internal": 400, "channel=tv": 400, "top=0": 400, "segment=old": 400, "from=yesterday": 400} {
		if a := c.get("/v1/sites/test/map?"+query, collectortest.ReadToken); a.status != status {
			t.Errorf("map?%s: %d %s, want %d", query, a.status, a.body, status)
		}
	}
	if a := c.get("/v1/sites/test/map", ""); a.status != http.StatusUnauthorized {
		t.Errorf("map without a token: %d", a.status)
	}
	if a := c.get("/v1/sites/test/map", collectortest.OtherRead); a.status != http.StatusForbidden {
		t.Errorf("map with another site's token: %d", a.status)
	}
}

// roundAverages rounds the feedback averages to 9 decimals: their sums
// depend on the order visitors are added in.
func roundAverages(r *journey.MapResult) {
	for i := range r.Stages {
		if a := r.Stages[i].Feedback.Average; a != nil {
			v := math.Round(*a*1e9) / 1e9
			r.Stages[i].Feedback.Average = &v
		}
	}
}
