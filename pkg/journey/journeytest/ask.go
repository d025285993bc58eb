package journeytest

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/touchtrail/touchtrail/pkg/journey"
)

// The "ask" truth, from the plan alone: emit places each planted session in
// a fixed order, all within 23 hours (less than the self-service window),
// so a help touch failed exactly when an escalation session comes after it.

type askItem struct {
	page, term string // a help touch
	esc        uint8  // or an escalation: 4 chat, 8 ticket
}

type keyCount struct{ visitors, served, chat, ticket int }

type ratingSum struct {
	n, low int
	sum    float64
}

type askTruth struct {
	visitors, helped, served, chat, ticket int
	pages, terms                           map[string]*keyCount
	stages                                 map[journey.Stage]*ratingSum
	touch                                  map[string]*ratingSum
	raters                                 int
}

func newAskTruth() *askTruth {
	return &askTruth{pages: map[string]*keyCount{}, terms: map[string]*keyCount{},
		stages: map[journey.Stage]*ratingSum{}, touch: map[string]*ratingSum{}}
}

// items lists p's help touches and escalations in emit's order.
func items(p *Plan) []askItem {
	var it []askItem
	for i := range p.Searches {
		it = append(it, askItem{term: "boots " + strconv.Itoa(i)})
	}
	if p.NoResults {
		it = append(it, askItem{term: "gift wrapping"})
	}
	if p.Repeated {
		it = append(it, askItem{term: "size guide"}, askItem{term: "sizes"}, askItem{term: "size chart"})
	}
	if p.SearchThenChat {
		it = append(it, askItem{term: "refund"}, askItem{esc: 4})
	}
	if p.HelpThenChat != "" {
		it = append(it, askItem{page: p.HelpThenChat}, askItem{esc: 4})
	}
	if p.TicketAfterSearch {
		it = append(it, askItem{term: "where is my order"}, askItem{esc: 8})
	}
	if p.TicketAfterPurchase {
		it = append(it, askItem{esc: 8})
	}
	if p.RepeatTicket {
		it = append(it, askItem{esc: 8}, askItem{esc: 8})
	}
	if p.SelfServe != "" {
		it = append(it, askItem{page: p.SelfServe})
	}
	return it
}

func (a *askTruth) add(p *Plan) {
	a.visitors++
	it := items(p)
	pages, terms := map[string]uint8{}, map[string]uint8{}
	var vflags uint8
	helped := false
	for i, x := range it {
		if x.esc != 0 {
			continue
		}
		helped = true
		flags := uint8(1)
		for _, y := range it[i+1:] {
			if y.esc != 0 {
				flags |= 2 | y.esc
				break
			}
		}
		vflags |= flags
		if x.term != "" {
			terms[x.term] |= flags
		} else {
			pages[x.page] |= flags
		}
	}
	if helped {
		a.helped++
		if vflags&2 == 0 {
			a.served++
		}
		if vflags&4 != 0 {
			a.chat++
		}
		if vflags&8 != 0 {
			a.ticket++
		}
	}
	fold := func(dst map[string]*keyCount, src map[string]uint8) {
		for k, f := range src {
			c := dst[k]
			if c == nil {
				c = &keyCount{}
				dst[k] = c
			}
			c.visitors++
			if f&2 == 0 {
				c.served++
			}
			if f&4 != 0 {
				c.chat++
			}
			if f&8 != 0 {
				c.ticket++
			}
		}
	}
	fold(a.pages, pages)
	fold(a.terms, terms)

	// Ratings: where emit gives them, and after what.
	rated := false
	rate := func(s journey.Stage, key string, score, scale int32) {
		r := float64(score) / float64(scale)
		for _, acc := range []*ratingSum{a.stageAcc(s), a.touchAcc(key)} {
			acc.n++
			acc.sum += r
			if r < 0.6 {
				acc.low++
			}
		}
		rated = true
	}
	if p.CheckoutCSAT > 0 {
		rate(journey.StageBuy, "checkout", p.CheckoutCSAT, 5) // on /checkout
	}
	if p.Feedback > 0 {
		rate(journey.StageExplore, "pageview /", []int32{0, 2, 3}[p.Feedback], 5) // after a page view of "/"
	}
	if p.TicketRating > 0 {
		rate(journey.StageAsk, "ticket solved", p.TicketRating, 5)
	}
	if p.Helpful > 0 {
		rate(journey.StageAsk, "help_article", int32(2-p.Helpful), 1) // on the help page
	}
	if rated {
		a.raters++
	}
}

func (a *askTruth) stageAcc(s journey.Stage) *ratingSum {
	if a.stages[s] == nil {
		a.stages[s] = &ratingSum{}
	}
	return a.stages[s]
}

func (a *askTruth) touchAcc(k string) *ratingSum {
	if a.touch[k] == nil {
		a.touch[k] = &ratingSum{}
	}
	return a.touch[k]
}

func (r *ratingSum) rating() journey.Rating {
	if r == nil || r.n == 0 {
		return journey.Rating{}
	}
	return journey.Rating{Responses: r.n, Mean: r.sum / float64(r.n), Low: r.low, LowShare: float64(r.low) / float64(r.n)}
}

func (a *askTruth) finish(tr *Truth) {
	ss := journey.SelfServiceResult{Visitors: a.visitors, Helped: a.helped, SelfServed: a.served, Chat: a.chat, Ticket: a.ticket,
		WindowHours: 24}
	if a.helped > 0 {
		ss.Rate = float64(a.served) / float64(a.helped)
	}
	list := func(m map[string]*keyCount) []journey.SelfServiceItem {
		out := []journey.SelfServiceItem{}
		for k, c := range m {
			out = append(out, journey.SelfServiceItem{Key: k, Visitors: c.visitors, SelfServed: c.served,
				Rate: float64(c.served) / float64(c.visitors), Chat: c.chat, Ticket: c.ticket})
		}
		slices.SortFunc(out, func(x, y journey.SelfServiceItem) int {
			return cmp.Or(cmp.Compare(y.Visitors, x.Visitors), cmp.Compare(x.Key, y.Key))
		})
		return out
	}
	ss.Pages, ss.Terms = list(a.pages), list(a.terms)
	tr.SelfService = ss

	sat := journey.SatisfactionResult{Visitors: a.visitors, Raters: a.raters, ByStage: make([]journey.StageRating, journey.StageCount)}
	var all ratingSum
	tr.StageRatingSum, tr.TouchRatingSum = map[journey.Stage]float64{}, map[string]float64{}
	for s := range sat.ByStage {
		acc := a.stages[journey.Stage(s)]
		sat.ByStage[s] = journey.StageRating{Stage: journey.Stage(s), Rating: acc.rating()}
		if acc != nil {
			all.n, all.low, all.sum = all.n+acc.n, all.low+acc.low, all.sum+acc.sum
			tr.StageRatingSum[journey.Stage(s)] = acc.sum
		}
	}
	sat.Overall = all.rating()
	sat.ByTouchpoint = []journey.TouchpointRating{}
	for k, acc := range a.touch {
		sat.ByTouchpoint = append(sat.ByTouchpoint, journey.TouchpointRating{Touchpoint: k, Rating: acc.rating()})
		tr.TouchRatingSum[k] = acc.sum
	}
	slices.SortFunc(sat.ByTouchpoint, func(x, y journey.TouchpointRating) int {
		return cmp.Or(cmp.Compare(y.Responses, x.Responses), cmp.Compare(x.Touchpoint, y.Touchpoint))
	})
	tr.Satisfaction = sat
}
