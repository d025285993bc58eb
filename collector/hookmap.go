package collector

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Paths are alternative JSON paths to one value: the first that holds a
// usable value wins. A path is dot-separated object keys and array indexes
// ("ticket.id", "detail.via.channel", "custom_fields.0.value"), with an
// optional leading "$.". In JSON a single path may be written as a string.
type Paths []string

// UnmarshalJSON accepts "a.b" or ["a.b", "c"].
func (p *Paths) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*p = Paths{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("a JSON path or a list of them: %w", err)
	}
	*p = many
	return nil
}

// Mapping turns a help desk's JSON delivery into a ticket touchpoint. Every
// field is a list of alternative JSON paths; a hook's mapping overrides its
// preset's field by field.
type Mapping struct {
	// Ticket is the help desk's ticket id. Required.
	Ticket Paths `json:"ticket,omitempty"`
	// Status is mapped through StatusValues to opened, replied or solved:
	// the first path whose value maps wins. Required.
	Status Paths `json:"status,omitempty"`
	// StatusValues maps the provider's values (compared without regard to
	// case) to opened, replied or solved; our own names always map.
	StatusValues map[string]string `json:"status_values,omitempty"`
	// Channel is mapped through ChannelValues to email, chat, phone, form,
	// social, api or other; a value that maps to nothing is other.
	Channel       Paths             `json:"channel,omitempty"`
	ChannelValues map[string]string `json:"channel_values,omitempty"`
	// Visitor holds the visitor id the site passed to the help desk (the
	// snippet's tt_v cookie, in a custom field). User is the site's user id,
	// stitched to visitors by identify. One of them must be present.
	Visitor Paths `json:"visitor,omitempty"`
	User    Paths `json:"user,omitempty"`
	// Time is when it happened: RFC 3339, or Unix seconds or milliseconds.
	// Without it the arrival time is used.
	Time Paths `json:"time,omitempty"`
	// Delivery is the provider's own id of the event, when it has one. The
	// touchpoint's id is made from the hook, the ticket, the status, the
	// time and that id, so that a retried delivery is stored once.
	Delivery Paths `json:"delivery,omitempty"`
	Subject  Paths `json:"subject,omitempty"`
	Category Paths `json:"category,omitempty"`
	// Score is a satisfaction rating of Scale (default 5), or good / bad
	// (1 or 0 of 1).
	Score Paths `json:"score,omitempty"`
	Scale int32 `json:"scale,omitempty"`
}

// merged returns m with the fields it leaves empty taken from base.
func (m Mapping) merged(base Mapping) Mapping {
	pick := func(a, b Paths) Paths {
		if len(a) > 0 {
			return a
		}
		return b
	}
	out := Mapping{
		Ticket: pick(m.Ticket, base.Ticket), Status: pick(m.Status, base.Status), Channel: pick(m.Channel, base.Channel),
		Visitor: pick(m.Visitor, base.Visitor), User: pick(m.User, base.User), Time: pick(m.Time, base.Time),
		Delivery: pick(m.Delivery, base.Delivery), Subject: pick(m.Subject, base.Subject),
		Category: pick(m.Category, base.Category), Score: pick(m.Score, base.Score), Scale: m.Scale,
		StatusValues: map[string]string{}, ChannelValues: map[string]string{},
	}
	if out.Scale == 0 {
		out.Scale = base.Scale
	}
	for _, src := range []map[string]string{base.StatusValues, m.StatusValues} {
		for k, v := range src {
			out.StatusValues[strings.ToLower(k)] = v
		}
	}
	for _, src := range []map[string]string{base.ChannelValues, m.ChannelValues} {
		for k, v := range src {
			out.ChannelValues[strings.ToLower(k)] = v
		}
	}
	return out
}

// check reports a mapping that could never yield a touchpoint.
func (m Mapping) check() error {
	switch {
	case len(m.Ticket) == 0:
		return fmt.Errorf("mapping: no path to the ticket id")
	case len(m.Status) == 0:
		return fmt.Errorf("mapping: no path to the status")
	case len(m.Visitor) == 0 && len(m.User) == 0:
		return fmt.Errorf("mapping: no path to the visitor or the user")
	case m.Scale < 0:
		return fmt.Errorf("mapping: negative scale")
	}
	for k, v := range m.StatusValues {
		if !event.ParseTicketStatus(v).Valid() {
			return fmt.Errorf("mapping: status_values[%q] = %q: want opened, replied or solved", k, v)
		}
	}
	for k, v := range m.ChannelValues {
		if event.ParseTicketChannel(v) == event.TicketChannelUnknown {
			return fmt.Errorf("mapping: channel_values[%q] = %q: want email, chat, phone, form, social, api or other", k, v)
		}
	}
	for _, ps := range []Paths{m.Ticket, m.Status, m.Channel, m.Visitor, m.User, m.Time, m.Delivery, m.Subject, m.Category, m.Score} {
		for _, p := range ps {
			if len(splitPath(p)) == 0 {
				return fmt.Errorf("mapping: empty JSON path")
			}
		}
	}
	return nil
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	if p == "" {
		return nil
	}
	return strings.Split(p, ".")
}

// scalar returns the value at path as text: strings as they are, numbers
// and booleans as written; "" for a missing value, null, an object or an
// array, and for the text of a help desk placeholder left unfilled.
func scalar(v *fastjson.Value, path string) string {
	x := v.Get(splitPath(path)...)
	if x == nil {
		return ""
	}
	switch x.Type() {
	case fastjson.TypeString:
		s := strings.TrimSpace(string(x.GetStringBytes()))
		if strings.HasPrefix(s, "{{") || strings.HasPrefix(s, "{$") { // an unfilled placeholder
			return ""
		}
		return s
	case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
		return string(x.MarshalTo(nil))
	}
	return ""
}

func first(v *fastjson.Value, ps Paths) (string, string) {
	for _, p := range ps {
		if s := scalar(v, p); s != "" {
			return s, p
		}
	}
	return "", ""
}

// deliveryError is a delivery that cannot become a touchpoint: 422.
type deliveryError struct{ msg string }

func (e *deliveryError) Error() string { return e.msg }

func badDelivery(format string, args ...any) error {
	return &deliveryError{msg: fmt.Sprintf(format, args...)}
}

// mapped is what a delivery says, before the visitor is resolved.
type mapped struct {
	tp      event.Touchpoint // Ticket, Status, channel, subject, category, score, TS, ID
	visitor string           // as the delivery gives it
	user    string
}

// apply maps one parsed delivery of hook name. now is the arrival time (Unix
// µs), used when the delivery has no time.
func (m *Mapping) apply(name string, v *fastjson.Value, now int64) (mapped, error) {
	var out mapped
	tp := &out.tp
	tp.Reset()
	tp.Type = event.TypeTicket
	tp.Ticket, _ = first(v, m.Ticket)
	if tp.Ticket == "" {
		return out, badDelivery("ticket: no ticket id at %s", strings.Join(m.Ticket, " or "))
	}
	if len(tp.Ticket) > event.MaxTicketID {
		return out, badDelivery("ticket: id longer than %d bytes", event.MaxTicketID)
	}
	var seen []string
	for _, p := range m.Status {
		s := scalar(v, p)
		if s == "" {
			continue
		}
		if st := m.status(s); st.Valid() {
			tp.Status = st
			break
		}
		seen = append(seen, fmt.Sprintf("%s=%q", p, s))
	}
	if !tp.Status.Valid() {
		if len(seen) > 0 {
			return out, badDelivery("status: %s maps to no status (set status_values)", strings.Join(seen, ", "))
		}
		return out, badDelivery("status: no value at %s", strings.Join(m.Status, " or "))
	}
	if s, _ := first(v, m.Channel); s != "" {
		tp.TicketChannel = m.channel(s)
	}
	tp.Subject = clip(firstOf(v, m.Subject), event.MaxTicketSubject)
	tp.TicketCategory = clip(firstOf(v, m.Category), event.MaxTicketCategory)
	if s := firstOf(v, m.Score); s != "" {
		score, scale, err := parseScore(s, m.Scale)
		if err != nil {
			return out, badDelivery("score: %v", err)
		}
		tp.Score, tp.Scale = score, scale
	}
	if s, p := first(v, m.Time); s != "" {
		ts, err := parseHookTime(s)
		if err != nil {
			return out, badDelivery("time: %s=%q: %v", p, s, err)
		}
		tp.TS = ts
	}
	out.visitor = firstOf(v, m.Visitor)
	out.user = firstOf(v, m.User)
	if out.visitor == "" && out.user == "" {
		return out, badDelivery("visitor: neither a visitor at %s nor a user at %s (pass the tt_v cookie to the help desk in a custom field, or identify the user)",
			orNone(m.Visitor), orNone(m.User))
	}
	// The id: what the delivery says (a retry says the same), with the
	// provider's own event id when it has one (two events of a ticket with
	// the same status and time stay two). A mapping whose delivery path is
	// the ticket id itself loses nothing: status and time still count.
	h := sha256.New()
	h.Write([]byte("hook\x00" + name + "\x00" + tp.Ticket + "\x00" + tp.Status.String() + "\x00" + strconv.FormatInt(tp.TS, 10)))
	if d := firstOf(v, m.Delivery); d != "" {
		h.Write([]byte("\x00delivery\x00" + d))
	}
	tp.ID = hex.EncodeToString(h.Sum(nil)[:16])
	if tp.TS == 0 {
		tp.TS = now
	}
	return out, nil
}

func firstOf(v *fastjson.Value, ps Paths) string { s, _ := first(v, ps); return s }

func orNone(ps Paths) string {
	if len(ps) == 0 {
		return "(none)"
	}
	return strings.Join(ps, " or ")
}

func (m *Mapping) status(s string) event.TicketStatus {
	l := strings.ToLower(s)
	if v, ok := m.StatusValues[l]; ok {
		return event.ParseTicketStatus(v)
	}
	return event.ParseTicketStatus(l)
}

func (m *Mapping) channel(s string) event.TicketChannel {
	l := strings.ToLower(s)
	if v, ok := m.ChannelValues[l]; ok {
		return event.ParseTicketChannel(v)
	}
	if c := event.ParseTicketChannel(l); c != event.TicketChannelUnknown {
		return c
	}
	return event.TicketOther
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}

func parseScore(s string, scale int32) (int32, int32, error) {
	switch strings.ToLower(s) {
	case "good":
		return 1, 1, nil
	case "bad":
		return 0, 1, nil
	case "offered", "unoffered":
		return 0, 0, nil // asked, not answered: no rating
	}
	if scale <= 0 {
		scale = 5
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > float64(scale) {
		return 0, 0, fmt.Errorf("%q is not an integer within 0..%d", s, scale)
	}
	return int32(f), scale, nil
}

// parseHookTime reads RFC 3339 (also "2006-01-02 15:04:05 -0700" and
// without a zone, as UTC) or Unix seconds or milliseconds, into Unix µs.
func parseHookTime(s string) (int64, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		switch {
		case n > 1e11 && n < 1e14: // milliseconds
			return int64(math.Round(n * 1000)), nil
		case n > 1e8 && n < 1e11: // seconds
			return int64(math.Round(n * 1e6)), nil
		}
		return 0, fmt.Errorf("not Unix seconds or milliseconds")
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05 -0700", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "Jan 2, 2006 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMicro(), nil
		}
	}
	return 0, fmt.Errorf("want RFC 3339 or Unix seconds or milliseconds")
}

// looksLikeJSON is a cheap first check of a delivery's body.
func looksLikeJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}
