package journey

import (
	"cmp"
	"slices"
	"unicode"
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

	// scratch, per visitor: the help touches, their keys in keyBuf, and
	// each distinct key with its flags (bit 1 seen, 2 failed, 4 chat, 8
	// ticket).
	touches []ssTouch
	keys    []ssTouch
	keyBuf  []byte
}

type ssTouch struct {
	term   bool
	off, n int // of the key in keyBuf
	at     int64
	idx    int
	flags  uint8
}

// NewSelfService returns an empty self-service accumulator.
func NewSelfService(cfg Config) *SelfService {
	return &SelfService{cfg: cfg.withDefaults(), pages: map[string]*ssCount{}, terms: map[string]*ssCount{}}
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
	for _, r := range q { // lower-cased rune by rune: no copy of q
		if n == MaxTermRunes {
			break
		}
		if unicode.IsSpace(r) {
			space = n > 0 // inner spaces collapse; leading ones go
			continue
		}
		if space {
			dst = append(dst, ' ')
			n++
			space = false
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
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
	ss.touches, ss.keys, ss.keyBuf = ss.touches[:0], ss.keys[:0], ss.keyBuf[:0]
	for i := range trail {
		tp := &trail[i]
		off := len(ss.keyBuf)
		switch tp.Type {
		case event.TypeSearch:
			if ss.keyBuf = appendTerm(ss.keyBuf, tp.Query); len(ss.keyBuf) > off {
				ss.touches = append(ss.touches, ssTouch{term: true, off: off, n: len(ss.keyBuf) - off, at: tp.Derived, idx: i})
			}
		case event.TypePageview:
			if p := urlPath(tp.URL); ss.cfg.isHelpPage(p) {
				ss.keyBuf = append(ss.keyBuf, p...)
				ss.touches = append(ss.touches, ssTouch{off: off, n: len(p), at: tp.Derived, idx: i})
			}
		}
	}
	if len(ss.touches) == 0 {
		return
	}
	ss.helped++
	window := ss.cfg.SelfServiceWindow.Microseconds()
	var vflags uint8
	for _, t := range ss.touches {
		t.flags = 1
		for j := t.idx + 1; j < len(trail); j++ {
			if trail[j].Derived-t.at > window {
				break
			}
			if e := escalation(&trail[j]); e != 0 {
				t.flags |= 2 | e
				break
			}
		}
		vflags |= t.flags
		ss.addKey(t)
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
	for _, k := range ss.keys {
		dst := ss.pages
		if k.term {
			dst = ss.terms
		}
		key := ss.keyBuf[k.off : k.off+k.n]
		c := dst[string(key)]
		if c == nil {
			c = &ssCount{}
			dst[string(key)] = c
		}
		c.visitors++
		if k.flags&2 == 0 {
			c.served++
		}
		if k.flags&4 != 0 {
			c.chat++
		}
		if k.flags&8 != 0 {
			c.ticket++
		}
	}
}

// addKey merges a touch into the visitor's distinct keys (a handful: a
// linear search).
func (ss *SelfService) addKey(t ssTouch) {
	key := ss.keyBuf[t.off : t.off+t.n]
	for i := range ss.keys {
		k := &ss.keys[i]
		if k.term == t.term && string(ss.keyBuf[k.off:k.off+k.n]) == string(key) {
			k.flags |= t.flags
			return
		}
	}
	ss.keys = append(ss.keys, t)
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
