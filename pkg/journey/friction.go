package journey

import (
	"cmp"
	"slices"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Friction signal names.
const (
	SignalSearchNoResults   = "search_no_results"  // a search that found nothing
	SignalRepeatedSearch    = "repeated_search"    // RepeatedSearches+ searches in one session
	SignalSearchThenChat    = "search_then_chat"   // self-service failed: a search, then a chat, in one session
	SignalHelpThenChat      = "help_then_chat"     // a help / FAQ page, then a chat, in one session
	SignalCheckoutAbandoned = "checkout_abandoned" // a checkout started and not finished
	SignalLowFeedback       = "low_feedback"       // feedback below LowFeedback of its scale
)

// Signals lists the signals in the order results report them.
var Signals = signalIndex[:]

// SignalCount is how many visitors showed a signal, with a few of them.
type SignalCount struct {
	Signal   string   `json:"signal"`
	Visitors int      `json:"visitors"`
	Examples []string `json:"examples"`
}

// PageCount counts visitors by page.
type PageCount struct {
	Page     string `json:"page"`
	Visitors int    `json:"visitors"`
}

// FrictionResult is the answer of GET …/friction. Every count is of
// visitors: a visitor who searched in vain twice counts once.
type FrictionResult struct {
	Visitors int           `json:"visitors"`
	Signals  []SignalCount `json:"signals"`
	// AbandonedAtStep counts abandoned checkouts by the last step reached.
	AbandonedAtStep map[uint32]int `json:"abandoned_at_step"`
	// AbandonPages are the pages most often last before an abandoned checkout.
	AbandonPages []PageCount `json:"abandon_pages"`
}

// VisitorSignals is what Signals finds in one trail.
type VisitorSignals struct {
	Signals      []string `json:"signals"`
	LastStep     uint32   `json:"last_checkout_step,omitempty"` // of an abandoned checkout
	AbandonPage  string   `json:"abandon_page,omitempty"`
	helpSeen     bool
	searchSeen   bool
	searchesSess int
}

// FindSignals returns the friction signals of one trail.
func FindSignals(trail []event.Touchpoint, cfg Config) VisitorSignals {
	cfg = cfg.withDefaults()
	var v VisitorSignals
	var has [len(signalIndex)]bool
	var maxStep uint32
	lastPage := ""
	lastPageAtCheckout := ""
	camp := ""
	for i := range trail {
		tp := &trail[i]
		if i > 0 && splits(&trail[i-1], tp, camp, cfg.SessionGap) {
			v.helpSeen, v.searchSeen, v.searchesSess, camp = false, false, 0, ""
		}
		if c := campaign(tp); c != "" && camp == "" {
			camp = c
		}
		switch tp.Type {
		case event.TypePageview:
			lastPage = urlPath(tp.URL)
			if StageOf(tp, cfg, false) == StageAsk {
				v.helpSeen = true
			}
		case event.TypeSearch:
			v.searchSeen = true
			v.searchesSess++
			if tp.Results == 0 {
				has[iSearchNoResults] = true
			}
			if v.searchesSess >= cfg.RepeatedSearches {
				has[iRepeatedSearch] = true
			}
		case event.TypeChatOpen:
			if v.searchSeen {
				has[iSearchThenChat] = true
			}
			if v.helpSeen {
				has[iHelpThenChat] = true
			}
		case event.TypeCheckoutStep:
			if tp.Step > maxStep {
				maxStep = tp.Step
				lastPageAtCheckout = lastPage
			}
		case event.TypeFeedback:
			if tp.Scale > 0 && float64(tp.Score)/float64(tp.Scale) < cfg.LowFeedback {
				has[iLowFeedback] = true
			}
		}
	}
	if maxStep > 0 && maxStep < cfg.CheckoutLastStep {
		has[iCheckoutAbandoned] = true
		v.LastStep, v.AbandonPage = maxStep, lastPageAtCheckout
	}
	for i, s := range Signals {
		if has[i] {
			v.Signals = append(v.Signals, s)
		}
	}
	return v
}

// Indexes of Signals, for a fixed array of flags.
const (
	iSearchNoResults = iota
	iRepeatedSearch
	iSearchThenChat
	iHelpThenChat
	iCheckoutAbandoned
	iLowFeedback
)

var signalIndex = [...]string{iSearchNoResults: SignalSearchNoResults, iRepeatedSearch: SignalRepeatedSearch,
	iSearchThenChat: SignalSearchThenChat, iHelpThenChat: SignalHelpThenChat, iCheckoutAbandoned: SignalCheckoutAbandoned,
	iLowFeedback: SignalLowFeedback}

// Friction counts friction signals over many visitors.
type Friction struct {
	cfg      Config
	visitors int
	counts   map[string]int
	examples map[string][]string
	atStep   map[uint32]int
	pages    map[string]int
}

// NewFriction returns an empty friction accumulator.
func NewFriction(cfg Config) *Friction {
	return &Friction{cfg: cfg.withDefaults(), counts: map[string]int{}, examples: map[string][]string{},
		atStep: map[uint32]int{}, pages: map[string]int{}}
}

// maxExamples bounds the example visitors kept per signal.
const maxExamples = 20

// Add counts one visitor's trail; the visitor's id is kept as an example
// of its first signals.
func (f *Friction) Add(visitor event.VisitorID, trail []event.Touchpoint) {
	f.visitors++
	v := FindSignals(trail, f.cfg)
	for _, s := range v.Signals {
		f.counts[s]++
		if len(f.examples[s]) < maxExamples {
			f.examples[s] = append(f.examples[s], visitor.String())
		}
	}
	if v.LastStep > 0 {
		f.atStep[v.LastStep]++
		if v.AbandonPage != "" {
			f.pages[v.AbandonPage]++
		}
	}
}

// Result returns the counts with up to examples example visitors a signal.
func (f *Friction) Result(examples int) FrictionResult {
	r := FrictionResult{Visitors: f.visitors, AbandonedAtStep: f.atStep, AbandonPages: []PageCount{}}
	for _, s := range Signals {
		ex := f.examples[s]
		if len(ex) > examples {
			ex = ex[:examples]
		}
		r.Signals = append(r.Signals, SignalCount{Signal: s, Visitors: f.counts[s], Examples: append([]string{}, ex...)})
	}
	for p, n := range f.pages {
		r.AbandonPages = append(r.AbandonPages, PageCount{Page: p, Visitors: n})
	}
	slices.SortFunc(r.AbandonPages, func(a, b PageCount) int {
		return cmp.Or(cmp.Compare(b.Visitors, a.Visitors), cmp.Compare(a.Page, b.Page))
	})
	return r
}
