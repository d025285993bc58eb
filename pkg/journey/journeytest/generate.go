// Package journeytest generates seeded synthetic visitors of a shop — page
// views, searches with and without results, chats, checkouts abandoned at
// each step, feedback, campaigns, returning and lapsed visitors, users who
// identified on two devices — together with the true answers it planted:
// each visitor's scenario is decided first and recorded, then realised as
// touchpoints, so the truth is known by construction and never recomputed
// by the code under test.
package journeytest

import (
	"math/rand/v2"
	"slices"
	"strconv"
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
	if o.Days < 2 { // a visitor's sessions span up to 23 hours
		o.Days = 7
	}
	return o
}

// End is the end of the range.
func (o Options) End() time.Time { o = o.withDefaults(); return o.Start.AddDate(0, 0, o.Days) }

// Plan is one visitor's planted scenario, decided before any touchpoint is
// made.
type Plan struct {
	Channel        event.Channel // of the landing page view in the range
	Campaign       string        // "source/campaign" or ""
	Browse         int           // product pages after the landing, 0..1
	Pricing        bool          // viewed /pricing after landing
	Reach          uint32        // checkout steps reached, 0..3 (only with Pricing)
	Deltas         [3]float64    // seconds from the previous funnel step to step k+1
	ReLand         bool          // landed again 10 minutes later through another campaign
	Searches       int           // searches that found something, in a session of their own: 0..2
	NoResults      bool
	Repeated       bool
	SearchThenChat bool
	HelpThenChat   string // the help page ("/help/returns" or "/faq") before a chat, or ""
	Feedback       int    // 0 none, 1 low (2/5), 2 not low (3/5)
	Segment        journey.Segment
	PriorChannel   event.Channel // of the visit before the range (returning, lapsed)
	User           string        // identified as; two visitors share each user

	// After the purchase (each in a session of its own, after the above).
	CheckoutCSAT        int32  // 1..5: the prompt answered after the last checkout step reached (Reach > 0); 0 none
	TicketAfterSearch   bool   // a search, then a ticket opened (later solved)
	TicketRating        int32  // 1..5: the help desk's rating of that ticket when solved; 0 none
	TicketAfterPurchase bool   // a ticket opened from the account pages (only with Reach 3)
	RepeatTicket        bool   // two more tickets, two sessions apart
	SelfServe           string // a help page read last, with no chat or ticket after ("/help/shipping", "/faq/returns"); "" none
	Helpful             int    // on that page: 1 helpful, 2 not helpful; 0 no answer
}

// Tickets is how many tickets the plan opens.
func (p *Plan) Tickets() int {
	n := 0
	if p.TicketAfterSearch {
		n++
	}
	if p.TicketAfterPurchase {
		n++
	}
	if p.RepeatTicket {
		n += 2
	}
	return n
}

// Visitor is a generated visitor and its trail, in trail order, enriched as
// the collector would have.
type Visitor struct {
	ID    event.VisitorID
	Trail []event.Touchpoint
	Plan  Plan
}

// Truth holds the planted answers, for the whole trails with
// journey.DefaultConfig; the site-wide ones also for the range
// [Options.Start, Options.End()) (every visitor is active in it, and only
// returning and lapsed visitors have touchpoints before it).
type Truth struct {
	Visitors    int
	Touchpoints int
	// Funnel counts the visitors reaching each step of FunnelSteps (within
	// 24 h); FunnelMedian is the median seconds from the previous step;
	// FunnelBySegment splits Funnel by segment.
	Funnel          [4]int
	FunnelMedian    [4]float64
	FunnelBySegment map[journey.Segment][4]int
	// Reached is how many steps of FunnelSteps each visitor reached.
	Reached map[event.VisitorID]int
	// Signals counts visitors by friction signal; VisitorSignals lists each
	// visitor's signals in journey.Signals order (visitors without any are
	// absent).
	Signals         map[string]int
	VisitorSignals  map[event.VisitorID][]string
	AbandonedAtStep map[uint32]int
	AbandonPages    map[string]int
	// Conversions and the attribution of each (one per visitor at most).
	Conversions   int
	FirstChannel  map[string]int
	LastChannel   map[string]int
	FirstCampaign map[string]int
	LastCampaign  map[string]int
	Segments      map[journey.Segment]int
	// Sessions and Stages are each visitor's, over its whole trail.
	Sessions map[event.VisitorID]int
	Stages   map[event.VisitorID][]journey.Stage
	// Paths counts visitors by path ("a > b > c") for PathStart and
	// PathDepth.
	Paths map[string]int
	// Users lists the two visitors of each identified user.
	Users map[string][]event.VisitorID

	// SelfService is the planted self-service answer (journey.SelfService
	// with the default 24 h window; every visitor's trail spans less).
	SelfService journey.SelfServiceResult
	// Satisfaction is the planted ratings (journey.Satisfaction); RatingSums
	// the exact sums of score/scale behind its means, by stage and by
	// touchpoint.
	Satisfaction   journey.SatisfactionResult
	StageRatingSum map[journey.Stage]float64
	TouchRatingSum map[string]float64
}

// landing is how a visitor arrives in the range.
type landing struct {
	ch       event.Channel
	campaign string
	referrer string
	query    string
}

var landings = []landing{
	{event.ChannelDirect, "", "", ""},
	{event.ChannelSearch, "", "https://www.google.com/", ""},
	{event.ChannelSocial, "facebook/spring", "https://www.facebook.com/", "?utm_source=facebook&utm_campaign=spring"},
	{event.ChannelEmail, "newsletter/nov", "", "?utm_source=newsletter&utm_medium=email&utm_campaign=nov"},
	{event.ChannelPaid, "google/brand", "https://www.google.com/", "?utm_source=google&utm_medium=cpc&utm_campaign=brand"},
}

// Generate makes n visitors from seed: the same seed and options give the
// same visitors. Their trails are in trail order.
func Generate(seed int64, n int, opts Options) ([]Visitor, Truth) {
	opts = opts.withDefaults()
	r := rand.New(rand.NewPCG(uint64(seed), 0x70c4))
	tr := Truth{Signals: map[string]int{}, AbandonedAtStep: map[uint32]int{}, AbandonPages: map[string]int{},
		FirstChannel: map[string]int{}, LastChannel: map[string]int{}, FirstCampaign: map[string]int{},
		LastCampaign: map[string]int{}, Segments: map[journey.Segment]int{}, Sessions: map[event.VisitorID]int{},
		Stages: map[event.VisitorID][]journey.Stage{}, Paths: map[string]int{}, Users: map[string][]event.VisitorID{},
		FunnelBySegment: map[journey.Segment][4]int{}, Reached: map[event.VisitorID]int{},
		VisitorSignals: map[event.VisitorID][]string{}}
	var deltas [4][]float64
	ask := newAskTruth()
	visitors := make([]Visitor, n)
	for i := range visitors {
		v := &visitors[i]
		binaryID(r, &v.ID)
		p := &v.Plan
		l := landings[r.IntN(len(landings))]
		p.Channel, p.Campaign = l.ch, l.campaign
		p.Browse = r.IntN(2)
		p.Pricing = r.IntN(2) == 0
		if p.Pricing {
			p.Reach = uint32(r.IntN(4))
		}
		for k := range p.Deltas {
			p.Deltas[k] = float64(5 + r.IntN(300))
		}
		p.ReLand = r.IntN(8) == 0
		if r.IntN(4) == 0 {
			p.Searches = 1 + r.IntN(2)
		}
		p.NoResults = r.IntN(5) == 0
		p.Repeated = r.IntN(6) == 0
		p.SearchThenChat = r.IntN(6) == 0
		if r.IntN(7) == 0 {
			p.HelpThenChat = []string{"/help/returns", "/faq"}[r.IntN(2)]
		}
		p.Feedback = r.IntN(3)
		p.Segment = journey.Segment(1 + r.IntN(3))
		p.PriorChannel = []event.Channel{event.ChannelSearch, event.ChannelSocial, event.ChannelReferral}[r.IntN(3)]
		switch { // visitors 10k and 10k+1 are one user on two devices
		case i%10 == 0 && i+1 < n:
			p.User = "user-" + strconv.Itoa(i)
		case i%10 == 1:
			p.User = "user-" + strconv.Itoa(i-1)
		}
		if p.Reach > 0 && r.IntN(3) == 0 {
			p.CheckoutCSAT = int32(1 + r.IntN(5))
		}
		p.TicketAfterSearch = r.IntN(6) == 0
		if p.TicketAfterSearch && r.IntN(2) == 0 {
			p.TicketRating = int32(1 + r.IntN(5))
		}
		p.TicketAfterPurchase = p.Reach == 3 && r.IntN(3) == 0
		p.RepeatTicket = r.IntN(10) == 0
		if r.IntN(4) == 0 {
			p.SelfServe = []string{"/help/shipping", "/faq/returns"}[r.IntN(2)]
			p.Helpful = r.IntN(3)
		}
		sessions, stages := emit(r, v, l, opts)
		tr.Sessions[v.ID] = sessions
		tr.Stages[v.ID] = stages
		tr.Touchpoints += len(v.Trail)

		// The truth, from the plan alone.
		tr.Visitors++
		tr.Segments[p.Segment]++
		if p.Pricing {
			reached := 1 + int(p.Reach)
			tr.Reached[v.ID] = reached
			bySeg := tr.FunnelBySegment[p.Segment]
			path := []string{"pageview /pricing"}
			if p.Reach > 0 {
				path = append(path, "pageview /checkout")
			}
			for k := range reached {
				tr.Funnel[k]++
				bySeg[k]++
				if k > 0 {
					deltas[k] = append(deltas[k], p.Deltas[k-1])
					path = append(path, "checkout_step "+strconv.Itoa(k))
				}
			}
			if p.CheckoutCSAT > 0 {
				path = append(path, "feedback") // the prompt, after the last step
			}
			tr.FunnelBySegment[p.Segment] = bySeg
			tr.Paths[strings.Join(path[:min(len(path), PathDepth)], " > ")]++
		}
		abandoned := p.Reach == 1 || p.Reach == 2
		var sig []string
		for _, s := range []struct {
			ok   bool
			name string
		}{
			{p.NoResults, journey.SignalSearchNoResults},
			{p.Repeated, journey.SignalRepeatedSearch},
			{p.SearchThenChat, journey.SignalSearchThenChat},
			{p.HelpThenChat != "", journey.SignalHelpThenChat},
			{abandoned, journey.SignalCheckoutAbandoned},
			{p.Feedback == 1 || p.CheckoutCSAT > 0 && p.CheckoutCSAT < 3 || p.Helpful == 2, journey.SignalLowFeedback},
			{p.TicketAfterSearch, journey.SignalSearchThenTicket},
			{p.Reach == 3 && p.Tickets() > 0, journey.SignalTicketAfterPurchase},
			{p.Tickets() >= 2, journey.SignalRepeatTicket},
		} {
			if s.ok {
				tr.Signals[s.name]++
				sig = append(sig, s.name)
			}
		}
		if sig != nil {
			tr.VisitorSignals[v.ID] = sig
		}
		if abandoned {
			tr.AbandonedAtStep[p.Reach]++
			tr.AbandonPages["/checkout"]++ // the last page of the checkout's session
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
		ask.add(p)
	}
	ask.finish(&tr)
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

// SameCounts reports whether two count maps agree, a missing key counting
// as zero: how tests compare an answer with the Truth.
func SameCounts[K comparable](a, b map[K]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
