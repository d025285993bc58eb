package journey

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Self-service: did the help answer the question? The rules:
//
//   - A help touch is a search (any) or a page view of an ask page (by
//     StageRules). An escalation is a chat open or a ticket opened.
//   - A help touch failed when an escalation follows it within
//     SelfServiceWindow (in trail order; both in the range).
//   - A visitor with help touches was self-served when none of them
//     failed. By help page (the URL path) and by search term (lower case,
//     spaces collapsed, at most MaxTermRunes), a visitor counts once per
//     key, and was self-served there when no touch of that key failed.
//   - Chat and Ticket count the visitors (of a key) with a failed touch
//     followed first by a chat, or by a ticket.

// MaxTermRunes bounds a search term as SelfService reports it.
const MaxTermRunes = 64

// SelfServiceItem is one help page or search term.
type SelfServiceItem struct {
	Key        string  `json:"key"`
	Visitors   int     `json:"visitors"`
	SelfServed int     `json:"self_served"`
	Rate       float64 `json:"rate"`   // SelfServed / Visitors
	Chat       int     `json:"chat"`   // went on to a chat
	Ticket     int     `json:"ticket"` // went on to a ticket
}

// SelfServiceResult is the answer of GET …/selfservice.
type SelfServiceResult struct {
	Visitors    int               `json:"visitors"` // active in the scope
	Helped      int               `json:"helped"`   // with a help touch
	SelfServed  int               `json:"self_served"`
	Rate        float64           `json:"rate"` // SelfServed / Helped; 0 without any
	Chat        int               `json:"chat"`
	Ticket      int               `json:"ticket"`
	WindowHours float64           `json:"window_hours"`
	Pages       []SelfServiceItem `json:"pages"` // most visitors first, then by key
	Terms       []SelfServiceItem `json:"terms"`
}

type ssCount struct{ visitors, served, chat, ticket int }

// SelfService accumulates the self-service rate over many visitors. It
// keeps counts and keys: trails passed to Add may be reused afterwards. It
// is not safe for concurrent use.
type SelfService struct {
	// Scope, when set, restricts the counts to some visitors and to the
	// part of their trails in its range: Add is then given whole trails.
	Scope Scope

	cfg                      Config
	visitors, helped, served int
	chat, ticket             int
	pages, terms             map[string]*ssCount
	vPages, vTerms           map[string]uint8 // per visitor: bit 1 seen, 2 failed, 4 chat, 8 ticket
	touchKeys                []ssTouch
	termBuf                  []byte
}

type ssTouch struct {
	term bool
	key  string
	at   int64
	idx  int
}

// NewSelfService returns an empty self-service accumulator.
func NewSelfService(cfg Config) *SelfService {
	return &SelfService{cfg: cfg.withDefaults(), pages: map[string]*ssCount{}, terms: map[string]*ssCount{},
		vPages: map[string]uint8{}, vTerms: map[string]uint8{}}
}

func escalation(tp *event.Touchpoint) uint8 {
	switch {
	case tp.Type == event.TypeChatOpen:
		return 4
	case tp.Type == event.TypeTicket && tp.Status == event.TicketOpened:
		return 8
	}
	return 0
}

// NormalizeTerm is how SelfService keys a search query: lower case, inner
// spaces collapsed, at most MaxTermRunes.
func NormalizeTerm(q string) string {
	return string(appendTerm(nil, q))
}

func appendTerm(dst []byte, q string) []byte {
	n, space := 0, false
	for _, r := range strings.ToLower(strings.TrimSpace(q)) {
		if n == MaxTermRunes {
			break
		}
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
			n++
			space = false
		}
		dst = utf8.AppendRune(dst, r)
		n++
	}
	return dst
}

// Add counts one visitor's trail (in trail order).
func (ss *SelfService) Add(trail []event.Touchpoint) {
	trail, ok := ss.Scope.apply(trail)
	if !ok {
		return
	}
	ss.visitors++
	ss.touchKeys = ss.touchKeys[:0]
	for i := range trail {
		tp := &trail[i]
		switch tp.Type {
		case event.TypeSearch:
			ss.termBuf = appendTerm(ss.termBuf[:0], tp.Query)
			if len(ss.termBuf) > 0 {
				ss.touchKeys = append(ss.touchKeys, ssTouch{term: true, key: string(ss.termBuf), at: tp.Derived, idx: i})
			}
		case event.TypePageview:
			if p := urlPath(tp.URL); ss.cfg.isHelpPage(p) {
				ss.touchKeys = append(ss.touchKeys, ssTouch{key: p, at: tp.Derived, idx: i})
			}
		}
	}
	if len(ss.touchKeys) == 0 {
		return
	}
	ss.helped++
	clear(ss.vPages)
	clear(ss.vTerms)
	window := ss.cfg.SelfServiceWindow.Microseconds()
	var vflags uint8
	for _, t := range ss.touchKeys {
		flags := uint8(1)
		for j := t.idx + 1; j < len(trail); j++ {
			if trail[j].Derived-t.at > window {
				break
			}
			if e := escalation(&trail[j]); e != 0 {
				flags |= 2 | e
				break
			}
		}
		vflags |= flags
		m := ss.vPages
		if t.term {
			m = ss.vTerms
		}
		m[t.key] |= flags
	}
	if vflags&2 == 0 {
		ss.served++
	}
	if vflags&4 != 0 {
		ss.chat++
	}
	if vflags&8 != 0 {
		ss.ticket++
	}
	fold := func(dst map[string]*ssCount, src map[string]uint8) {
		for k, f := range src {
			c := dst[k]
			if c == nil {
				c = &ssCount{}
				dst[strings.Clone(k)] = c
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
	fold(ss.pages, ss.vPages)
	fold(ss.terms, ss.vTerms)
}

// Result returns the rates, with up to top pages and terms (all when top
// is 0 or less). The result shares nothing with ss.
func (ss *SelfService) Result(top int) SelfServiceResult {
	r := SelfServiceResult{Visitors: ss.visitors, Helped: ss.helped, SelfServed: ss.served, Chat: ss.chat, Ticket: ss.ticket,
		WindowHours: ss.cfg.SelfServiceWindow.Hours(), Pages: items(ss.pages, top), Terms: items(ss.terms, top)}
	if ss.helped > 0 {
		r.Rate = float64(ss.served) / float64(ss.helped)
	}
	return r
}

func items(m map[string]*ssCount, top int) []SelfServiceItem {
	out := make([]SelfServiceItem, 0, len(m))
	for k, c := range m {
		out = append(out, SelfServiceItem{Key: k, Visitors: c.visitors, SelfServed: c.served,
			Rate: float64(c.served) / float64(c.visitors), Chat: c.chat, Ticket: c.ticket})
	}
	slices.SortFunc(out, func(a, b SelfServiceItem) int {
		return cmp.Or(cmp.Compare(b.Visitors, a.Visitors), cmp.Compare(a.Key, b.Key))
	})
	if top > 0 && len(out) > top {
		out = out[:top]
	}
	return out
}
