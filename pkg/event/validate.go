package event

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits bound what one touchpoint may carry. The zero value of a field means
// its default.
type Limits struct {
	MaxURL      int           // bytes of URL and Referrer. Default: 2048
	MaxField    int           // bytes of any other string field. Default: 1024
	MaxProps    int           // number of props. Default: 32
	MaxProp     int           // bytes of a prop key or value. Default: 256
	MaxFuture   time.Duration // how far ahead of the collector a client clock may be. Default: 24h
	Retention   time.Duration // events older than this are refused. Default: 400 days
	MaxIDLength int           // bytes of ID. Default: 64
}

// DefaultLimits are the limits used when none are configured.
var DefaultLimits = Limits{
	MaxURL:      2048,
	MaxField:    1024,
	MaxProps:    32,
	MaxProp:     256,
	MaxFuture:   24 * time.Hour,
	Retention:   400 * 24 * time.Hour,
	MaxIDLength: 64,
}

// WithDefaults returns l with its zero fields set to DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	if l.MaxURL > 0 {
		d.MaxURL = l.MaxURL
	}
	if l.MaxField > 0 {
		d.MaxField = l.MaxField
	}
	if l.MaxProps > 0 {
		d.MaxProps = l.MaxProps
	}
	if l.MaxProp > 0 {
		d.MaxProp = l.MaxProp
	}
	if l.MaxFuture > 0 {
		d.MaxFuture = l.MaxFuture
	}
	if l.Retention > 0 {
		d.Retention = l.Retention
	}
	if l.MaxIDLength > 0 {
		d.MaxIDLength = l.MaxIDLength
	}
	return d
}

// ValidationError says which field of a touchpoint is wrong and why.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// ErrInvalid matches every *ValidationError with errors.Is.
var ErrInvalid = errors.New("invalid touchpoint")

// Is makes errors.Is(err, ErrInvalid) true for validation errors.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }

// Validate checks tp against l (zero fields: defaults) at collector time now
// (Unix µs). The TS and Sent fields are client times; Derived is not checked.
// The error is a *ValidationError naming the first wrong field.
func (tp *Touchpoint) Validate(l Limits, now int64) error {
	l = l.WithDefaults()
	if !tp.Type.Valid() {
		return invalid("type", "unknown type")
	}
	if tp.ID == "" {
		return invalid("id", "missing")
	}
	if len(tp.ID) > l.MaxIDLength {
		return invalid("id", fmt.Sprintf("longer than %d bytes", l.MaxIDLength))
	}
	if tp.Visitor.IsZero() {
		return invalid("visitor", "missing")
	}
	if tp.Site == "" {
		return invalid("site", "missing")
	}
	future := now + l.MaxFuture.Microseconds()
	past := now - l.Retention.Microseconds()
	for _, ts := range [...]struct {
		name string
		v    int64
	}{{"ts", tp.TS}, {"sent", tp.Sent}} {
		if ts.v == 0 {
			continue
		}
		if ts.v > future {
			return invalid(ts.name, "more than "+l.MaxFuture.String()+" in the future")
		}
		if ts.v < past {
			return invalid(ts.name, "older than the retention period")
		}
	}
	for _, f := range [...]struct {
		name string
		v    string
		max  int
	}{
		{"id", tp.ID, l.MaxIDLength},
		{"url", tp.URL, l.MaxURL},
		{"referrer", tp.Referrer, l.MaxURL},
		{"site", tp.Site, l.MaxField},
		{"session", tp.Session, l.MaxField},
		{"title", tp.Title, l.MaxField},
		{"name", tp.Name, l.MaxField},
		{"query", tp.Query, l.MaxField},
		{"widget", tp.Widget, l.MaxField},
		{"currency", tp.Currency, l.MaxField},
		{"user", tp.User, l.MaxField},
		{"comment", tp.Comment, l.MaxField},
		{"ticket", tp.Ticket, MaxTicketID},
		{"category", tp.TicketCategory, MaxTicketCategory},
		{"subject", tp.Subject, MaxTicketSubject},
	} {
		if len(f.v) > f.max {
			return invalid(f.name, fmt.Sprintf("longer than %d bytes", f.max))
		}
		if !utf8.ValidString(f.v) {
			return invalid(f.name, "invalid UTF-8")
		}
	}
	if len(tp.Props) > l.MaxProps {
		return invalid("props", fmt.Sprintf("more than %d props", l.MaxProps))
	}
	for _, p := range tp.Props {
		if p.Key == "" {
			return invalid("props", "empty key")
		}
		if len(p.Key) > l.MaxProp || len(p.Value) > l.MaxProp {
			return invalid("props."+truncate(p.Key, 32), fmt.Sprintf("longer than %d bytes", l.MaxProp))
		}
		if !utf8.ValidString(p.Key) || !utf8.ValidString(p.Value) {
			return invalid("props", "invalid UTF-8")
		}
	}
	switch tp.Type {
	case TypeSearch:
		if tp.Query == "" {
			return invalid("query", "missing for a search")
		}
	case TypeCheckoutStep:
		if tp.Step == 0 {
			return invalid("step", "missing for a checkout_step (1..n)")
		}
		if tp.Value < 0 {
			return invalid("value", "negative")
		}
	case TypeIdentify:
		if tp.User == "" {
			return invalid("user", "missing for an identify")
		}
	case TypeFeedback:
		if tp.Scale < 0 || tp.Score < 0 || (tp.Scale > 0 && tp.Score > tp.Scale) {
			return invalid("score", "outside 0..scale")
		}
	case TypeCustom:
		if tp.Name == "" {
			return invalid("name", "missing for a custom event")
		}
	case TypeTicket:
		if tp.Ticket == "" {
			return invalid("ticket", "missing for a ticket (the help desk's ticket id)")
		}
		if !tp.Status.Valid() {
			return invalid("status", "missing for a ticket (opened, replied or solved)")
		}
		if tp.Scale < 0 || tp.Score < 0 || (tp.Scale > 0 && tp.Score > tp.Scale) {
			return invalid("score", "outside 0..scale")
		}
	case TypeEngagement:
		if err := tp.validateEngagement(); err != nil {
			return err
		}
	}
	if tp.Type != TypeTicket && (tp.Ticket != "" || tp.Status != TicketStatusUnknown || tp.TicketChannel != TicketChannelUnknown ||
		tp.TicketCategory != "" || tp.Subject != "") {
		return invalid("ticket", "ticket fields belong to ticket touchpoints")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ValidSite reports whether s is a valid site id: 1 to 64 of A-Z a-z 0-9
// _ . - (never "/", which separates the parts of storage keys).
func ValidSite(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
