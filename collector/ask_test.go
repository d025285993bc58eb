package collector_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// The ask stage end to end: the planted shop's tickets arrive as webhook
// deliveries (each sent twice, as a help desk retries), everything else as
// the snippet would have sent it; /selfservice, /satisfaction and the
// ticket signals of /friction equal the planted truth, for several seeds.
func TestAskEndpointsAgainstPlantedTruth(t *testing.T) {
	for _, seed := range []int64{7, 8, 9} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			opts := journeytest.Options{Site: collectortest.Site}
			visitors, truth := journeytest.Generate(seed, 400, opts)
			col := collectortest.Start(t, collectortest.Options{
				Now: func() time.Time { return opts.End() },
				Config: func(cfg *collector.Config) {
					cfg.Sites[0].Hooks = []collector.Hook{{Name: "desk", Secret: genericSecret, SignatureHeader: "X-Desk-Signature"}}
				},
			})
			rest, tickets := journeytest.Tickets(visitors)
			if len(tickets) < 50 {
				t.Fatalf("only %d tickets planted", len(tickets))
			}
			if err := journeytest.Load(context.Background(), col.Store, collectortest.Site, rest); err != nil {
				t.Fatal(err)
			}
			c := client{t, col.URL}
			for i := range tickets {
				body := journeytest.HookDelivery(&tickets[i])
				for range 2 {
					if a := c.do(http.MethodPost, "/v1/sites/test/hooks/desk", body, deskHeaders(body, genericSecret)); a.status != http.StatusAccepted {
						t.Fatalf("delivery %s: %d %s", body, a.status, a.body)
					}
				}
			}
			get := func(path string, v any) {
				t.Helper()
				a := c.get("/v1/sites/test/"+path, collectortest.ReadToken)
				if a.status != http.StatusOK {
					t.Fatalf("%s: %d %s", path, a.status, a.body)
				}
				a.json(t, v)
			}
			rng := "from=2026-11-01&to=2026-11-08"
			var ss journey.SelfServiceResult
			get("selfservice?top=1000&"+rng, &ss)
			checkSelf(t, ss, truth.SelfService)
			var sat journey.SatisfactionResult
			get("satisfaction?top=1000&"+rng, &sat)
			checkSat(t, sat, truth.Satisfaction)
			var fr journey.FrictionResult
			get("friction?"+rng, &fr)
			for _, s := range fr.Signals {
				if s.Visitors != truth.Signals[s.Signal] {
					t.Errorf("friction %s: %d, planted %d", s.Signal, s.Visitors, truth.Signals[s.Signal])
				}
			}
			var top journey.SelfServiceResult
			get("selfservice?top=2&"+rng, &top)
			if len(top.Terms) != 2 || len(top.Pages) != 2 || top.Terms[0] != truth.SelfService.Terms[0] {
				t.Errorf("top=2: %+v", top)
			}
			for _, q := range []string{"selfservice?top=0", "satisfaction?segment=old", "selfservice?from=yesterday"} {
				if a := c.get("/v1/sites/test/"+q, collectortest.ReadToken); a.status != http.StatusBadRequest {
					t.Errorf("%s: %d, want 400", q, a.status)
				}
			}
			if a := c.get("/v1/sites/test/satisfaction", ""); a.status != http.StatusUnauthorized {
				t.Errorf("satisfaction without a token: %d", a.status)
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func checkSelf(t *testing.T, got, want journey.SelfServiceResult) {
	t.Helper()
	if got.Visitors != want.Visitors || got.Helped != want.Helped || got.SelfServed != want.SelfServed || got.Chat != want.Chat ||
		got.Ticket != want.Ticket || !near(got.Rate, want.Rate) || len(got.Pages) != len(want.Pages) || len(got.Terms) != len(want.Terms) {
		t.Fatalf("selfservice %+v\nplanted %+v", got, want)
	}
	for i := range got.Pages {
		if g, w := got.Pages[i], want.Pages[i]; g.Key != w.Key || g.Visitors != w.Visitors || g.SelfServed != w.SelfServed || g.Ticket != w.Ticket || g.Chat != w.Chat {
			t.Errorf("page %d %+v, planted %+v", i, g, w)
		}
	}
	for i := range got.Terms {
		if g, w := got.Terms[i], want.Terms[i]; g.Key != w.Key || g.Visitors != w.Visitors || g.SelfServed != w.SelfServed || g.Ticket != w.Ticket || g.Chat != w.Chat {
			t.Errorf("term %d %+v, planted %+v", i, g, w)
		}
	}
}

func checkSat(t *testing.T, got, want journey.SatisfactionResult) {
	t.Helper()
	same := func(a, b journey.Rating) bool {
		return a.Responses == b.Responses && a.Low == b.Low && near(a.Mean, b.Mean) && near(a.LowShare, b.LowShare)
	}
	if got.Visitors != want.Visitors || got.Raters != want.Raters || !same(got.Overall, want.Overall) || len(got.ByStage) != len(want.ByStage) ||
		len(got.ByTouchpoint) != len(want.ByTouchpoint) {
		t.Fatalf("satisfaction %+v\nplanted %+v", got, want)
	}
	for i := range got.ByStage {
		if got.ByStage[i].Stage != want.ByStage[i].Stage || !same(got.ByStage[i].Rating, want.ByStage[i].Rating) {
			t.Errorf("stage %+v, planted %+v", got.ByStage[i], want.ByStage[i])
		}
	}
	for i := range got.ByTouchpoint {
		if got.ByTouchpoint[i].Touchpoint != want.ByTouchpoint[i].Touchpoint || !same(got.ByTouchpoint[i].Rating, want.ByTouchpoint[i].Rating) {
			t.Errorf("touchpoint %+v, planted %+v", got.ByTouchpoint[i], want.ByTouchpoint[i])
		}
	}
}
