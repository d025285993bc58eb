// Package journeytest generates seeded synthetic visitors of a shop — page
// views, searches with and without results, chats, checkouts abandoned at
// each step, feedback, campaigns, returning and lapsed visitors, users who
// identified on two devices — together with the true answers it planted:
// each visitor's scenario is decided first and recorded, then realised as
// touchpoints, so the truth is known by construction and never recomputed
// by the code under test.
package journeytest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// FunnelSteps is the funnel Truth.Funnel answers.
const FunnelSteps = "pageview:/pricing,checkout_step:1,checkout_step:2,checkout_step:3"

// PathStart and PathDepth are the paths query Truth.Paths answers.
const (
	PathStart = "pageview:/pricing"
	PathDepth = 4
)

// Options shape a generated data set.
type Options struct {
	Site  string    // Default: "demo"
	Start time.Time // start of the range the visitors are active in. Default: 2026-11-01 UTC
	Days  int       // length of the range. Default: 7
}

func (o Options) withDefaults() Options {
	if o.Site == "" {
		o.Site = "demo"
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Days <= 0 {
		o.Days = 7
	}
	return o
}

// End is the end of the range.
func (o Options) End() time.Time { o = o.withDefaults(); return o.Start.AddDate(0, 0, o.Days) }

// Plan is one visitor's planted scenario.
type Plan struct {
	Channel        event.Channel
	Campaign       string // "source/campaign" or ""
	Pricing        bool
	Reach          uint32 // checkout steps reached, 0..3 (only with Pricing)
	Deltas         [3]float64
	NoResults      bool
	Repeated       bool
	SearchThenChat bool
	HelpThenChat   bool
	Feedback       int // 0 none, 1 low (2/5), 2 high (5/5)
	Segment        journey.Segment
	PriorChannel   event.Channel
	User           string
}

// Visitor is a generated visitor and its trail, in trail order, enriched as
// the collector would have.
type Visitor struct {
	ID    event.VisitorID
	Trail []event.Touchpoint
	Plan  Plan
}

// Truth holds the planted answers.
type Truth struct {
	Visitors        int
	Funnel          [4]int     // visitors reaching each step of FunnelSteps
	FunnelMedian    [4]float64 // median seconds from the previous step
	Signals         map[string]int
	AbandonedAtStep map[uint32]int
	AbandonPages    map[string]int
	Conversions     int
	FirstChannel    map[string]int
	LastChannel     map[string]int
	FirstCampaign   map[string]int
	LastCampaign    map[string]int
	Segments        map[journey.Segment]int
	Sessions        map[event.VisitorID]int // sessions of the whole trail
	Paths           map[string]int          // "a > b > c" → visitors, for PathStart / PathDepth
	Users           map[string][]event.VisitorID
	Touchpoints     int
}

var landings = []struct {
	ch       event.Channel
	campaign string
	referrer string
	query    string
}{
	{event.ChannelDirect, "", "", ""},
	{event.ChannelSearch, "", "https://www.google.com/", ""},
	{event.ChannelSocial, "facebook/spring", "https://www.facebook.com/", "?utm_source=facebook&utm_campaign=spring"},
	{event.ChannelEmail, "newsletter/nov", "", "?utm_source=newsletter&utm_medium=email&utm_campaign=nov"},
	{event.ChannelPaid, "google/brand", "https://www.google.com/", "?utm_source=google&utm_medium=cpc&utm_campaign=brand"},
}

// Generate makes n visitors from seed.
func Generate(seed int64, n int, opts Options) ([]Visitor, Truth) {
	opts = opts.withDefaults()
	r := rand.New(rand.NewPCG(uint64(seed), 0x70c4))
	tr := Truth{Signals: map[string]int{}, AbandonedAtStep: map[uint32]int{}, AbandonPages: map[string]int{},
		FirstChannel: map[string]int{}, LastChannel: map[string]int{}, FirstCampaign: map[string]int{},
		LastCampaign: map[string]int{}, Segments: map[journey.Segment]int{}, Sessions: map[event.VisitorID]int{},
		Paths: map[string]int{}, Users: map[string][]event.VisitorID{}}
	var deltas [4][]float64
	visitors := make([]Visitor, n)
	for i := range visitors {
		v := &visitors[i]
		binaryID(r, &v.ID)
		p := &v.Plan
		l := landings[r.IntN(len(landings))]
		p.Channel, p.Campaign = l.ch, l.campaign
		p.Pricing = r.IntN(2) == 0
		if p.Pricing {
			p.Reach = uint32(r.IntN(4))
		}
		for k := range p.Deltas {
			p.Deltas[k] = float64(5 + r.IntN(300))
		}
		p.NoResults = r.IntN(5) == 0
		p.Repeated = r.IntN(6) == 0
		p.SearchThenChat = r.IntN(6) == 0
		p.HelpThenChat = r.IntN(7) == 0
		p.Feedback = r.IntN(3)
		p.Segment = journey.Segment(1 + r.IntN(3))
		p.PriorChannel = []event.Channel{event.ChannelSearch, event.ChannelSocial, event.ChannelReferral}[r.IntN(3)]
		if i%10 == 1 { // visitors i-1 and i are one user on two devices
			p.User = fmt.Sprintf("user-%d", i-1)
			visitors[i-1].Plan.User = p.User
		}
		sessions := emit(r, v, l.referrer, l.query, opts)
		tr.Sessions[v.ID] = sessions
		tr.Touchpoints += len(v.Trail)

		// The truth, from the plan alone.
		tr.Visitors++
		tr.Segments[p.Segment]++
		if p.Pricing {
			tr.Funnel[0]++
			path := []string{"pageview /pricing"}
			for k := uint32(1); k <= p.Reach; k++ {
				tr.Funnel[k]++
				deltas[k] = append(deltas[k], p.Deltas[k-1])
				if len(path) < PathDepth {
					path = append(path, fmt.Sprintf("checkout_step %d", k))
				}
			}
			tr.Paths[strings.Join(path, " > ")]++
		}
		count := func(ok bool, s string) {
			if ok {
				tr.Signals[s]++
			}
		}
		count(p.NoResults, journey.SignalSearchNoResults)
		count(p.Repeated, journey.SignalRepeatedSearch)
		count(p.SearchThenChat, journey.SignalSearchThenChat)
		count(p.HelpThenChat, journey.SignalHelpThenChat)
		count(p.Reach == 1 || p.Reach == 2, journey.SignalCheckoutAbandoned)
		count(p.Feedback == 1, journey.SignalLowFeedback)
		if p.Reach == 1 || p.Reach == 2 {
			tr.AbandonedAtStep[p.Reach]++
			tr.AbandonPages["/pricing"]++
		}
		if p.Reach == 3 {
			tr.Conversions++
			first, firstCampaign := p.Channel.String(), p.Campaign
			if p.Segment != journey.SegmentNew {
				first, firstCampaign = p.PriorChannel.String(), ""
			}
			tr.FirstChannel[first]++
			tr.LastChannel[p.Channel.String()]++
			if firstCampaign != "" {
				tr.FirstCampaign[firstCampaign]++
			}
			if p.Campaign != "" {
				tr.LastCampaign[p.Campaign]++
			}
		}
		if p.User != "" && !slices.Contains(tr.Users[p.User], v.ID) {
			tr.Users[p.User] = append(tr.Users[p.User], v.ID)
		}
	}
	for k := 1; k < 4; k++ {
		tr.FunnelMedian[k] = journeyMedian(deltas[k])
	}
	return visitors, tr
}

func journeyMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

func binaryID(r *rand.Rand, id *event.VisitorID) {
	for i := range id {
		id[i] = byte(r.Uint32())
	}
}
