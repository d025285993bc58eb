package journey

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Friction signal names. Sessions are those of Sessionize.
const (
	SignalSearchNoResults   = "search_no_results"  // a search that found nothing (results 0; -1 is unknown)
	SignalRepeatedSearch    = "repeated_search"    // RepeatedSearches or more searches in one session
	SignalSearchThenChat    = "search_then_chat"   // self-service failed: a search, then a chat open, in one session
	SignalHelpThenChat      = "help_then_chat"     // a page view of an ask page (StageRules), then a chat open, in one session
	SignalCheckoutAbandoned = "checkout_abandoned" // a checkout step seen, CheckoutLastStep never reached
	SignalLowFeedback       = "low_feedback"       // feedback with score/scale below LowFeedback
	SignalQuickExitHelp     = "quick_exit_help"    // a help page left quickly (QuickExit), then a search, chat or ticket in its session
	// The "ask" stage after the purchase; a ticket is a ticket opened.
	SignalSearchThenTicket    = "search_then_ticket"    // a search or an ask page, then a ticket, in one session
	SignalTicketAfterPurchase = "ticket_after_purchase" // a ticket after a conversion (Config.Conversion)
	SignalRepeatTicket        = "repeat_ticket"         // two tickets (distinct ids) opened within RepeatTicketWindow
)

// Indexes of Signals, for a fixed array of flags.
const (
	iSearchNoResults = iota
	iRepeatedSearch
	iSearchThenChat
	iHelpThenChat
	iCheckoutAbandoned
	iLowFeedback
	iQuickExitHelp
	iSearchThenTicket
	iTicketAfterPurchase
	iRepeatTicket
	signalCount
)

var signalNames = [signalCount]string{iSearchNoResults: SignalSearchNoResults, iRepeatedSearch: SignalRepeatedSearch,
	iSearchThenChat: SignalSearchThenChat, iHelpThenChat: SignalHelpThenChat, iCheckoutAbandoned: SignalCheckoutAbandoned,
	iLowFeedback: SignalLowFeedback, iSearchThenTicket: SignalSearchThenTicket, iTicketAfterPurchase: SignalTicketAfterPurchase,
	iRepeatTicket: SignalRepeatTicket, iQuickExitHelp: SignalQuickExitHelp}

// Signals lists the signal names in the order results report them. Do not
// modify it.
var Signals = signalNames[:]

// SignalCount is how many visitors showed a signal, with a few of them.
type SignalCount struct {
	Signal   string   `json:"signal"`
	Visitors int      `json:"visitors"`
	Examples []string `json:"examples"` // visitor ids, the smallest first
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
	// AbandonedAtStep counts visitors with an abandoned checkout by the
	// furthest step they reached.
	AbandonedAtStep map[uint32]int `json:"abandoned_at_step"`
	// AbandonPages counts visitors with an abandoned checkout by their
	// abandon page, most visitors first.
	AbandonPages []PageCount `json:"abandon_pages"`
}

// VisitorSignals is what FindSignals finds in one trail.
type VisitorSignals struct {
	Signals []string `json:"signals"`
	// LastStep is the furthest step of an abandoned checkout.
	LastStep uint32 `json:"last_checkout_step,omitempty"`
	// AbandonPage is the URL path of the last page view of the session in
	// which the abandoned checkout reached LastStep: where the visitor left
	// (the last page view before it when that session has none).
	AbandonPage string `json:"abandon_page,omitempty"`
}

// visitorFlags is FindSignals' answer without allocation.
type visitorFlags struct {
	has         [signalCount]bool
	lastStep    uint32
	abandonPage string
}

// FindSignals returns the friction signals of one trail (in trail order).
func FindSignals(trail []event.Touchpoint, cfg Config) VisitorSignals {
	cfg = cfg.withDefaults()
	fl := findSignals(trail, &cfg)
	v := VisitorSignals{Signals: []string{}, LastStep: fl.lastStep, AbandonPage: fl.abandonPage}
	for i, s := range signalNames {
		if fl.has[i] {
			v.Signals = append(v.Signals, s)
		}
	}
	return v
}

func findSignals(trail []event.Touchpoint, cfg *Config) visitorFlags {
	var fl visitorFlags
	var maxStep uint32
	sp := newSplitter(cfg)
	lastPage, stepPage := "", ""
	stepInSession := false // the furthest checkout step is in the current session
	helpSeen, searchSeen, searches := false, false, 0
	conv := cfg.conversion()
	purchased := false
	var lastTicket string // the last ticket opened, and when
	var lastTicketAt int64
	repeatWindow := cfg.RepeatTicketWindow.Microseconds()
	engaged := false
	for i := range trail {
		tp := &trail[i]
		if sp.next(tp) {
			helpSeen, searchSeen, searches = false, false, 0
			if stepInSession {
				stepPage, stepInSession = lastPage, false
			}
		}
		switch tp.Type {
		case event.TypePageview:
			lastPage = urlPath(tp.URL)
			if cfg.isHelpPage(lastPage) {
				helpSeen = true
			}
		case event.TypeSearch:
			searchSeen = true
			searches++
			if tp.Results == 0 {
				fl.has[iSearchNoResults] = true
			}
			if searches >= cfg.RepeatedSearches {
				fl.has[iRepeatedSearch] = true
			}
		case event.TypeChatOpen:
			fl.has[iSearchThenChat] = fl.has[iSearchThenChat] || searchSeen
			fl.has[iHelpThenChat] = fl.has[iHelpThenChat] || helpSeen
		case event.TypeCheckoutStep:
			if tp.Step > maxStep {
				maxStep, stepInSession = tp.Step, true
			}
		case event.TypeFeedback:
			if tp.Scale > 0 && float64(tp.Score)/float64(tp.Scale) < cfg.LowFeedback {
				fl.has[iLowFeedback] = true
			}
		case event.TypeTicket:
			if tp.Status != event.TicketOpened {
				break
			}
			fl.has[iSearchThenTicket] = fl.has[iSearchThenTicket] || searchSeen || helpSeen
			fl.has[iTicketAfterPurchase] = fl.has[iTicketAfterPurchase] || purchased
			if lastTicket != "" && tp.Ticket != lastTicket && tp.Derived-lastTicketAt <= repeatWindow {
				fl.has[iRepeatTicket] = true
			}
			lastTicket, lastTicketAt = tp.Ticket, tp.Derived
		case event.TypeEngagement:
			engaged = true
		}
		if !purchased && conv.Match(tp) {
			purchased = true
		}
	}
	// Only trails with engagement reports can show it: others pay nothing.
	fl.has[iQuickExitHelp] = engaged && quickExitHelp(trail, cfg, nil)
	if stepInSession {
		stepPage = lastPage
	}
	if maxStep > 0 && maxStep < cfg.CheckoutLastStep {
		fl.has[iCheckoutAbandoned] = true
		fl.lastStep, fl.abandonPage = maxStep, stepPage
	}
	return fl
}

// Friction counts friction signals over many visitors, each visitor once
// per signal. It keeps counts, the abandon pages and up to MaxExamples
// visitor ids a signal (the smallest ids, so that the examples do not
// depend on the order visitors come in, nor on how they were split between
// stores: a store scans in visitor order, where they are the first):
// trails passed to Add may be reused afterwards. Partial states merge
// (Merge, MarshalBinary). It is not safe for concurrent use.
type Friction struct {
	// Scope, when set, restricts the counts to some visitors and to the
	// part of their trails in its range: Add is then given whole trails.
	Scope Scope

	cfg      Config
	visitors int
	counts   [signalCount]int
	examples [signalCount][]event.VisitorID
	atStep   map[uint32]int
	pages    map[string]int
}

// MaxExamples bounds the example visitors Friction keeps per signal.
const MaxExamples = 20

// NewFriction returns an empty friction accumulator.
func NewFriction(cfg Config) *Friction {
	return &Friction{cfg: cfg.withDefaults(), atStep: map[uint32]int{}, pages: map[string]int{}}
}

// Add counts one visitor's trail (in trail order); the MaxExamples
// smallest visitor ids of each signal are kept as examples.
func (f *Friction) Add(visitor event.VisitorID, trail []event.Touchpoint) {
	trail, ok := f.Scope.apply(trail)
	if !ok {
		return
	}
	f.visitors++
	fl := findSignals(trail, &f.cfg)
	for i, has := range fl.has {
		if !has {
			continue
		}
		f.counts[i]++
		f.examples[i] = keepExample(f.examples[i], visitor)
	}
	if fl.lastStep > 0 {
		f.atStep[fl.lastStep]++
		if fl.abandonPage != "" {
			if n, ok := f.pages[fl.abandonPage]; ok {
				f.pages[fl.abandonPage] = n + 1
			} else {
				f.pages[strings.Clone(fl.abandonPage)] = 1 // keep no decoded trail alive
			}
		}
	}
}

// keepExample adds v to ex, the MaxExamples smallest ids in order.
func keepExample(ex []event.VisitorID, v event.VisitorID) []event.VisitorID {
	i, found := slices.BinarySearchFunc(ex, v, compareVisitors)
	switch {
	case found || i >= MaxExamples:
		return ex
	case ex == nil:
		ex = make([]event.VisitorID, 0, MaxExamples)
	}
	if len(ex) < MaxExamples {
		return slices.Insert(ex, i, v)
	}
	copy(ex[i+1:], ex[i:len(ex)-1])
	ex[i] = v
	return ex
}

func compareVisitors(a, b event.VisitorID) int { return bytes.Compare(a[:], b[:]) }

// Result returns the counts with up to examples (at most MaxExamples)
// example visitors a signal. The result shares nothing with f.
func (f *Friction) Result(examples int) FrictionResult {
	r := FrictionResult{Visitors: f.visitors, Signals: make([]SignalCount, 0, signalCount),
		AbandonedAtStep: make(map[uint32]int, len(f.atStep)), AbandonPages: make([]PageCount, 0, len(f.pages))}
	for i, s := range signalNames {
		ex := f.examples[i][:min(max(examples, 0), len(f.examples[i]))]
		sc := SignalCount{Signal: s, Visitors: f.counts[i], Examples: make([]string, len(ex))}
		for k, v := range ex {
			sc.Examples[k] = v.String()
		}
		r.Signals = append(r.Signals, sc)
	}
	for step, n := range f.atStep {
		r.AbandonedAtStep[step] = n
	}
	for p, n := range f.pages {
		r.AbandonPages = append(r.AbandonPages, PageCount{Page: p, Visitors: n})
	}
	slices.SortFunc(r.AbandonPages, func(a, b PageCount) int {
		return cmp.Or(cmp.Compare(b.Visitors, a.Visitors), cmp.Compare(a.Page, b.Page))
	})
	return r
}
