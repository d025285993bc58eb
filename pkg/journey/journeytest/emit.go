package journeytest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

const shop = "https://shop.example"

// emitter appends a visitor's touchpoints in time order.
type emitter struct {
	v   *Visitor
	now time.Time
	seq uint32
	r   *rand.Rand
	n   int
}

func (e *emitter) add(tp event.Touchpoint) *event.Touchpoint {
	e.seq++
	e.n++
	tp.ID = fmt.Sprintf("g%d", e.n)
	tp.Site, tp.Visitor, tp.Seq = "demo", e.v.ID, e.seq
	us := e.now.UnixMicro()
	tp.TS, tp.Sent, tp.Received, tp.Derived = us, us, us, us
	if tp.Results == 0 && tp.Type != event.TypeSearch {
		tp.Results = -1
	}
	tp.Browser, tp.OS, tp.Device = "Chrome", "Windows", event.DeviceDesktop
	e.v.Trail = append(e.v.Trail, tp)
	return &e.v.Trail[len(e.v.Trail)-1]
}

func (e *emitter) wait(d time.Duration) { e.now = e.now.Add(d) }

func (e *emitter) page(path string, ch event.Channel) *event.Touchpoint {
	return e.add(event.Touchpoint{Type: event.TypePageview, URL: shop + path, Title: path, Channel: ch})
}

// emit realises v's plan as touchpoints and returns its number of sessions.
// Every planted signal gets a session of its own (sessions are 2 h apart),
// so no signal arises by accident.
func emit(r *rand.Rand, v *Visitor, referrer, query string, opts Options) int {
	p := &v.Plan
	start := opts.Start.Add(time.Duration(r.Int64N(int64(time.Duration(opts.Days)*24*time.Hour - 14*time.Hour))))
	e := &emitter{v: v, r: r}
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
		e.page("/", p.PriorChannel).Referrer = "https://elsewhere.example/"
		e.wait(40 * time.Second)
		e.page("/products/1", event.ChannelInternal)
	}

	// Session 1: landing, maybe pricing, maybe checkout.
	e.now = start
	sessions++
	land := e.page(fmt.Sprintf("/products/%d", 1+r.IntN(20))+query, p.Channel)
	land.Referrer = referrer
	if src, rest, ok := strings.Cut(p.Campaign, "/"); ok {
		land.UTM = event.UTM{Source: src, Campaign: rest}
		land.URL = shop + "/products/1" + query
	}
	if p.User != "" {
		e.wait(10 * time.Second)
		e.add(event.Touchpoint{Type: event.TypeIdentify, User: p.User, URL: land.URL})
	}
	if p.Pricing {
		e.wait(time.Duration(10+r.IntN(60)) * time.Second)
		e.page("/pricing", event.ChannelInternal)
		for k := uint32(1); k <= p.Reach; k++ {
			e.wait(time.Duration(p.Deltas[k-1] * float64(time.Second)))
			e.add(event.Touchpoint{Type: event.TypeCheckoutStep, Step: k, Name: []string{"", "cart", "shipping", "payment"}[k],
				Value: 49.5, Currency: "EUR", URL: shop + "/pricing"})
		}
	}
	next := func(path string) {
		e.wait(2 * time.Hour)
		sessions++
		e.page(path, event.ChannelDirect)
		e.wait(20 * time.Second)
	}
	if p.NoResults {
		next("/")
		e.add(event.Touchpoint{Type: event.TypeSearch, Query: "gift wrapping", Results: 0, URL: shop + "/"})
	}
	if p.Repeated {
		next("/")
		for _, q := range []string{"size guide", "sizes", "size chart"} {
			e.add(event.Touchpoint{Type: event.TypeSearch, Query: q, Results: 4, URL: shop + "/"})
			e.wait(15 * time.Second)
		}
	}
	if p.SearchThenChat {
		next("/")
		e.add(event.Touchpoint{Type: event.TypeSearch, Query: "refund", Results: 2, URL: shop + "/"})
		e.wait(30 * time.Second)
		e.add(event.Touchpoint{Type: event.TypeChatOpen, Widget: "intercom", URL: shop + "/"})
	}
	if p.HelpThenChat {
		next("/help/returns")
		e.add(event.Touchpoint{Type: event.TypeChatOpen, Widget: "intercom", URL: shop + "/help/returns"})
	}
	if p.Feedback > 0 {
		next("/")
		score := int32(2)
		if p.Feedback == 2 {
			score = 5
		}
		e.add(event.Touchpoint{Type: event.TypeFeedback, Score: score, Scale: 5, URL: shop + "/"})
	}
	return sessions
}
