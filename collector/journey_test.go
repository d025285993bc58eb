package collector_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// Every journey endpoint answers exactly what the generator planted, for
// several seeds, through the HTTP API over a real Badger store.
func TestJourneyEndpointsAgainstPlantedTruth(t *testing.T) {
	for _, seed := range []int64{7, 8, 9} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			opts := journeytest.Options{Site: collectortest.Site}
			visitors, truth := journeytest.Generate(seed, 400, opts)
			col := collectortest.Start(t, collectortest.Options{})
			if err := journeytest.Load(context.Background(), col.Store, collectortest.Site, visitors); err != nil {
				t.Fatal(err)
			}
			c := client{t, col.URL}
			rng := "from=2026-11-01&to=2026-11-08"
			get := func(path string, v any) {
				t.Helper()
				a := c.get("/v1/sites/test/"+path, collectortest.ReadToken)
				if a.status != http.StatusOK {
					t.Fatalf("%s: %d %s", path, a.status, a.body)
				}
				a.json(t, v)
			}

			var f struct {
				Visitors int
				journey.FunnelResult
			}
			get("funnel?"+rng+"&within=24h&steps="+url.QueryEscape(journeytest.FunnelSteps), &f)
			if f.Visitors != truth.Visitors || len(f.Steps) != 4 {
				t.Fatalf("funnel over %d visitors, %d steps", f.Visitors, len(f.Steps))
			}
			for k, st := range f.Steps {
				if st.Visitors != truth.Funnel[k] || st.MedianSeconds != truth.FunnelMedian[k] {
					t.Errorf("funnel step %s: %d, median %.0f; planted %d, %.0f", st.Step, st.Visitors, st.MedianSeconds, truth.Funnel[k], truth.FunnelMedian[k])
				}
			}

			var fr journey.FrictionResult
			get("friction?"+rng, &fr)
			for _, s := range fr.Signals {
				if s.Visitors != truth.Signals[s.Signal] {
					t.Errorf("friction %s: %d, planted %d", s.Signal, s.Visitors, truth.Signals[s.Signal])
				}
			}
			for step, n := range truth.AbandonedAtStep {
				if fr.AbandonedAtStep[step] != n {
					t.Errorf("abandoned at step %d: %d, planted %d", step, fr.AbandonedAtStep[step], n)
				}
			}

			var at journey.AttributionResult
			get("attribution?"+rng, &at)
			if at.Conversions != truth.Conversions || !journeytest.SameCounts(at.FirstChannel, truth.FirstChannel) || !journeytest.SameCounts(at.LastChannel, truth.LastChannel) ||
				!journeytest.SameCounts(at.LastCampaign, truth.LastCampaign) {
				t.Errorf("attribution %+v, planted %d first %v last %v", at, truth.Conversions, truth.FirstChannel, truth.LastChannel)
			}

			var p journey.PathsResult
			get(fmt.Sprintf("paths?%s&start=%s&depth=%d&top=50", rng, url.QueryEscape(journeytest.PathStart), journeytest.PathDepth), &p)
			got := map[string]int{}
			for _, pc := range p.Paths {
				got[strings.Join(pc.Path, " > ")] = pc.Visitors
			}
			if !journeytest.SameCounts(got, truth.Paths) {
				t.Errorf("paths %v, planted %v", got, truth.Paths)
			}

			for seg, n := range truth.Segments {
				var sf struct{ Visitors int }
				get("funnel?"+rng+"&segment="+seg.String()+"&steps=pageview", &sf)
				if sf.Visitors != n {
					t.Errorf("segment %s: %d visitors, planted %d", seg, sf.Visitors, n)
				}
			}

			for _, v := range visitors[:20] {
				var j journey.Journey
				get("visitors/"+v.ID.String()+"/journey", &j)
				if len(j.Sessions) != truth.Sessions[v.ID] || j.Touchpoints != len(v.Trail) {
					t.Errorf("visitor %s: %d sessions %d touchpoints, planted %d / %d", v.ID, len(j.Sessions), j.Touchpoints, truth.Sessions[v.ID], len(v.Trail))
				}
			}
			for user, ids := range truth.Users {
				var uj struct {
					Visitors []string
					journey.Journey
				}
				get("users/"+user+"/journey", &uj)
				want := 0
				for _, v := range visitors {
					if v.ID == ids[0] || (len(ids) > 1 && v.ID == ids[1]) {
						want += len(v.Trail)
					}
				}
				if len(uj.Visitors) != len(ids) || uj.Touchpoints != want {
					t.Errorf("user %s: visitors %v touchpoints %d, planted %v / %d", user, uj.Visitors, uj.Touchpoints, ids, want)
				}
				break
			}
		})
	}
}
