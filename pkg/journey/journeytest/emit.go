package journeytest

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

const shop = "https://shop.example"

// emitter appends a visitor's touchpoints in time order, and the stage the
// generator means each one to be (the planted stage sequence).
type emitter struct {
	v      *Visitor
	now    time.Time
	seq    uint32
	site   string
	stages []journey.Stage
}

func (e *emitter) add(tp event.Touchpoint, stage journey.Stage) *event.Touchpoint {
	e.seq++
	tp.ID = "g" + strconv.Itoa(int(e.seq)) // unique per visitor, as the snippet's are
	tp.Site, tp.Visitor, tp.Seq = e.site, e.v.ID, e.seq
	us := e.now.UnixMicro()
	tp.TS, tp.Sent, tp.Received, tp.Derived = us, us, us, us
	if tp.Type != event.TypeSearch {
		tp.Results = -1
	}
	tp.Browser, tp.OS, tp.Device = "Chrome", "Windows", event.DeviceDesktop
	e.v.Trail = append(e.v.Trail, tp)
	if len(e.stages) == 0 || e.stages[len(e.stages)-1] != stage {
		e.stages = append(e.stages, stage)
	}
	return &e.v.Trail[len(e.v.Trail)-1]
}

func (e *emitter) wait(d time.Duration) { e.now = e.now.Add(d) }

func (e *emitter) page(path string, ch event.Channel, stage journey.Stage) *event.Touchpoint {
	return e.add(event.Touchpoint{Type: event.TypePageview, URL: shop + path, Title: path, Channel: ch}, stage)
}

// landingStage is the stage the generator means a landing page view to
// have: discover for the very first page view through an outside channel.
func landingStage(first bool, ch event.Channel) journey.Stage {
	if first && ch != event.ChannelDirect {
		return journey.StageDiscover
	}
	return journey.StageExplore
}

// emit realises v's plan as touchpoints and returns its number of sessions
// and its stage sequence. Every planted signal gets a session of its own
// (sessions are 2 h apart), so no signal arises by accident.
func emit(r *rand.Rand, v *Visitor, l landing, opts Options) (int, []journey.Stage) {
	p := &v.Plan
	// The sessions span less than 23 hours: all within the range, and
	// within one self-service window.
	start := opts.Start.Add(time.Duration(r.Int64N(int64(time.Duration(opts.Days)*24*time.Hour - 24*time.Hour))))
	e := &emitter{v: v, site: opts.Site}
	sessions := 0
	// The visit before the range: returning visitors came back within 30
	// days, lapsed ones after more than 30.
	switch p.Segment {
	case journey.SegmentReturning:
		e.now = opts.Start.Add(-time.Hour - time.Duration(r.Int64N(int64(19*24*time.Hour))))
	case journey.SegmentLapsed:
		e.now = opts.Start.Add(-31*24*time.Hour - time.Duration(r.Int64N(int64(29*24*time.Hour))))
	}
	if p.Segment != journey.SegmentNew {
		sessions++
		e.page("/", p.PriorChannel, journey.StageDiscover).Referrer = "https://elsewhere.example/"
		e.wait(40 * time.Second)
		e.page("/products/1", event.ChannelInternal, journey.StageExplore)
	}

	// Session 1: landing, browsing, maybe pricing and a checkout.
	e.now = start
	sessions++
	product := "/products/" + strconv.Itoa(1+r.IntN(20))
	land := e.page(product+l.query, p.Channel, landingStage(p.Segment == journey.SegmentNew, p.Channel))
	land.Referrer = l.referrer
	if src, rest, ok := strings.Cut(p.Campaign, "/"); ok {
		land.UTM = event.UTM{Source: src, Campaign: rest}
	}
	if p.User != "" {
		e.wait(10 * time.Second)
		e.add(event.Touchpoint{Type: event.TypeIdentify, User: p.User, URL: land.URL}, journey.StageUse)
	}
	for range p.Browse {
		e.wait(time.Duration(5+r.IntN(120)) * time.Second)
		e.page("/products/"+strconv.Itoa(1+r.IntN(20)), event.ChannelInternal, journey.StageExplore)
	}
	if p.Pricing {
		e.wait(time.Duration(10+r.IntN(60)) * time.Second)
		e.page("/pricing", event.ChannelInternal, journey.StageBuy)
		for k := uint32(1); k <= p.Reach; k++ {
			d := time.Duration(p.Deltas[k-1] * float64(time.Second))
			if k == 1 { // the checkout page, 2 s before its first step
				e.wait(d - 2*time.Second)
				e.page("/checkout", event.ChannelInternal, journey.StageBuy)
				d = 2 * time.Second
			}
			e.wait(d)
			e.add(event.Touchpoint{Type: event.TypeCheckoutStep, Step: k, Name: stepNames[k],
				Value: 49.5, Currency: "EUR", URL: shop + "/checkout"}, journey.StageBuy)
		}
		if p.CheckoutCSAT > 0 { // t-feedback.js after the last step reached
			e.wait(5 * time.Second)
			e.add(prompt(p.CheckoutCSAT, 5, "/checkout", "checkout", "csat"), journey.StageEngage)
		}
	}
	if p.ReLand { // 10 minutes later, through another campaign: a new session
		e.wait(10 * time.Minute)
		sessions++
		pv := e.page("/products/7?utm_source=newsletter&utm_campaign=dec", event.ChannelEmail, journey.StageExplore)
		pv.UTM = event.UTM{Source: "newsletter", Medium: "email", Campaign: "dec"}
	}
	next := func(path string, stage journey.Stage) {
		e.wait(2 * time.Hour)
		sessions++
		e.page(path, event.ChannelDirect, stage)
		e.wait(20 * time.Second)
	}
	if p.Searches > 0 { // searches that found something: no signal
		next("/", journey.StageExplore)
		for i := range p.Searches {
			e.add(event.Touchpoint{Type: event.TypeSearch, Query: "boots " + strconv.Itoa(i), Results: int32(3 + i), URL: shop + "/"}, journey.StageExplore)
			e.wait(time.Minute)
		}
	}
	if p.NoResults {
		next("/", journey.StageExplore)
		e.add(event.Touchpoint{Type: event.TypeSearch, Query: "gift wrapping", Results: 0, URL: shop + "/"}, journey.StageExplore)
	}
	if p.Repeated {
		next("/", journey.StageExplore)
		for _, q := range []string{"size guide", "sizes", "size chart"} {
			e.add(event.Touchpoint{Type: event.TypeSearch, Query: q, Results: 4, URL: shop + "/"}, journey.StageExplore)
			e.wait(15 * time.Second)
		}
	}
	if p.SearchThenChat {
		next("/", journey.StageExplore)
		e.add(event.Touchpoint{Type: event.TypeSearch, Query: "refund", Results: 2, URL: shop + "/"}, journey.StageExplore)
		e.wait(30 * time.Second)
		e.add(event.Touchpoint{Type: event.TypeChatOpen, Widget: "intercom", URL: shop + "/"}, journey.StageAsk)
	}
	if p.HelpThenChat != "" {
		next(p.HelpThenChat, journey.StageAsk)
		e.add(event.Touchpoint{Type: event.TypeChatOpen, Widget: "intercom", URL: shop + p.HelpThenChat}, journey.StageAsk)
	}
	if p.Feedback > 0 {
		next("/", journey.StageExplore)
		score := int32(2)
		if p.Feedback == 2 {
			score = 3 // 3 of 5 is exactly the threshold: not low
		}
		e.add(event.Touchpoint{Type: event.TypeFeedback, Score: score, Scale: 5, URL: shop + "/"}, journey.StageEngage)
	}
	tickets := 0
	ticket := func(status event.TicketStatus) *event.Touchpoint {
		if status == event.TicketOpened {
			tickets++
		}
		return e.add(event.Touchpoint{Type: event.TypeTicket, Ticket: "T-" + e.v.ID.String()[:8] + "-" + strconv.Itoa(tickets),
			Status: status, TicketChannel: event.TicketEmail, Subject: "Order question"}, journey.StageAsk)
	}
	if p.TicketAfterSearch {
		next("/", journey.StageExplore)
		e.add(event.Touchpoint{Type: event.TypeSearch, Query: "Where is  my order", Results: 1, URL: shop + "/"}, journey.StageExplore)
		e.wait(3 * time.Minute)
		ticket(event.TicketOpened)
		e.wait(20 * time.Minute)
		solved := ticket(event.TicketSolved)
		if p.TicketRating > 0 {
			solved.Score, solved.Scale = p.TicketRating, 5
		}
	}
	if p.TicketAfterPurchase {
		next("/account/orders", journey.StageUse)
		ticket(event.TicketOpened).TicketChannel = event.TicketForm
	}
	if p.RepeatTicket {
		for range 2 {
			next("/account", journey.StageUse)
			ticket(event.TicketOpened)
		}
	}
	if p.SelfServe != "" { // last: nothing escalates after it
		next(p.SelfServe, journey.StageAsk)
		if p.Helpful > 0 {
			e.add(prompt(int32(2-p.Helpful), 1, p.SelfServe, "help_article", "helpful"), journey.StageEngage)
		}
	}
	return sessions, e.stages
}

// prompt is a feedback as t-feedback.js records it: the touchpoint it
// follows and the kind of prompt as props.
func prompt(score, scale int32, path, after, kind string) event.Touchpoint {
	return event.Touchpoint{Type: event.TypeFeedback, Score: score, Scale: scale, URL: shop + path,
		Props: []event.Prop{{Key: journey.FeedbackTouchpointProp, Value: after}, {Key: "prompt", Value: kind}}}
}

var stepNames = []string{"", "cart", "shipping", "payment"}
