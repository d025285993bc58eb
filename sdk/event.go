package sdk

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Type is the type of a touchpoint.
type Type string

// The touchpoint types the collector knows.
const (
	TypePageview     Type = "pageview"      // a page seen
	TypeSearch       Type = "search"        // a site, FAQ or help-centre search
	TypeChatOpen     Type = "chat_open"     // a chat (or ticket) opened
	TypeCheckoutStep Type = "checkout_step" // a step of the purchase funnel
	TypeIdentify     Type = "identify"      // the visitor became a known user
	TypeFeedback     Type = "feedback"      // a rating (CSAT, NPS)
	TypeCustom       Type = "custom"        // anything else, named by Name
	TypeTicket       Type = "ticket"        // a help-desk ticket opened, replied or solved
)

// Valid reports whether t is one of the types above.
func (t Type) Valid() bool {
	switch t {
	case TypePageview, TypeSearch, TypeChatOpen, TypeCheckoutStep, TypeIdentify, TypeFeedback, TypeCustom, TypeTicket:
		return true
	}
	return false
}

// Results is the result count of a search. Its zero value is
// UnknownResults: say NoResults (a friction signal) or Found(n) explicitly.
type Results struct {
	n     int32
	known bool
}

// UnknownResults is a search whose result count is not known: nothing is
// sent. It is the zero value.
var UnknownResults = Results{}

// NoResults is a search that found nothing: a friction signal.
var NoResults = Results{n: 0, known: true}

// Found is a search that found n results; a negative n is UnknownResults.
func Found(n int) Results {
	if n < 0 {
		return UnknownResults
	}
	return Results{n: int32(min(n, 1<<31-1)), known: true}
}

// Count returns the result count and whether it is known.
func (r Results) Count() (n int, known bool) { return int(r.n), r.known }

func (r Results) String() string {
	if !r.known {
		return "unknown"
	}
	return fmt.Sprint(r.n)
}

// Prop is one custom property of an event (Event.Props).
type Prop struct {
	Key, Value string
}

// Event is a touchpoint as a backend sends it: only the fields a backend
// may set. Set Type, Visitor and the fields of its type (or use the typed
// helpers); Track fills ID, Seq and Time when they are zero. The site is
// Config.Site. Device, place and channel are the collector's to fill.
type Event struct {
	Type    Type
	Visitor string // the snippet's 32 hex characters (VisitorID), a UUID, or any string up to 128 bytes (hashed)
	ID      string // unique per visitor: a re-sent event is stored once. Default: 16 random bytes in hex
	Session string // an optional session hint
	Seq     uint32 // per-visitor order of events with the same time. Default: a per-visitor counter
	Time    time.Time

	URL      string  // the page (every type)
	Title    string  // pageview
	Referrer string  // pageview
	Name     string  // checkout step name, custom event name
	Query    string  // search
	Results  Results // search: NoResults, Found(n) or UnknownResults (the zero value)
	Widget   string  // chat_open
	Step     int     // checkout_step, 1..n
	Value    float64 // checkout_step cart value
	Currency string  // checkout_step, ISO 4217
	User     string  // identify; on other types too (a write key may set it)
	Score    int     // feedback
	Scale    int     // feedback
	Comment  string  // feedback
	Ticket   Ticket  // ticket
	Props    []Prop  // at most 32, 256 bytes each

	// The visitor's own address and browser, for device and geo, when the
	// backend speaks for a browser request (Middleware sets both). The
	// collector uses and drops them; they are trusted because the SDK
	// sends with the site's write key.
	ClientIP  netip.Addr
	UserAgent string
}

// ErrInvalid is matched (errors.Is) by the errors of Track and the typed
// helpers for an event that cannot be sent: an unknown type, or a missing
// or over-long visitor.
var ErrInvalid = errors.New("invalid event")

// maxVisitorLen is the longest visitor string the collector accepts.
const maxVisitorLen = 128

// invalid says which field of an event is wrong; it matches ErrInvalid.
type invalid struct{ field, reason string }

func (e *invalid) Error() string        { return e.field + ": " + e.reason }
func (e *invalid) Is(target error) bool { return target == ErrInvalid }

func (e *Event) check() error {
	switch {
	case !e.Type.Valid():
		return &invalid{"type", fmt.Sprintf("unknown type %q", string(e.Type))}
	case e.Visitor == "":
		return &invalid{"visitor", "missing"}
	case len(e.Visitor) > maxVisitorLen:
		return &invalid{"visitor", "longer than 128 bytes"}
	}
	return nil
}
