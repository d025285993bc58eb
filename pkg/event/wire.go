package event

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Batch is a decoded POST /v1/events body. Reuse it with Reset: it keeps the
// capacity of its slices.
type Batch struct {
	Site       string
	Cookieless bool // the snippet runs in cookieless mode: the collector derives visitors
	Events     []Touchpoint
	Errs       []error // Errs[i] is why Events[i] could not be decoded, or nil

	scratch []byte
}

// Reset empties b for reuse.
func (b *Batch) Reset() {
	for i := range b.Events {
		b.Events[i].Reset()
	}
	b.Site, b.Cookieless = "", false
	b.Events = b.Events[:0]
	clear(b.Errs)
	b.Errs = b.Errs[:0]
	b.scratch = b.scratch[:0]
}

// Errors returned by Decoder.Decode for a body that is not a batch at all.
var (
	// ErrMalformed is returned when the body is not valid JSON of the batch shape.
	ErrMalformed = errors.New("malformed batch")
	// ErrTooManyEvents is returned when the batch holds more than MaxEvents events.
	ErrTooManyEvents = errors.New("too many events in batch")
)

// Decoder decodes wire batches without allocating per field: every string of
// a batch is copied into one buffer and converted once, so decoding costs a
// handful of allocations per batch, not per event. A Decoder is not safe for
// concurrent use; pool it.
type Decoder struct {
	// MaxEvents bounds the events of one batch. Default: 500.
	MaxEvents int

	p     fastjson.Parser
	spans []span
	fixed []byte // the body with lone surrogate escapes replaced
}

// fixSurrogates returns body with every \u escape of a lone UTF-16
// surrogate replaced by \ufffd (same length), in a copy; body itself when
// it has none (the usual case: one scan, no copy). fastjson would keep a
// lone surrogate escape as its six characters of text.
func (d *Decoder) fixSurrogates(body []byte) []byte {
	if !hasSurrogateEscape(body) {
		return body
	}
	d.fixed = append(d.fixed[:0], body...)
	b := d.fixed
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++ // skip the escaped character, a backslash included
			continue
		}
		r, ok := hex4(b, i+2)
		switch {
		case !ok || !utf16.IsSurrogate(r):
		case r < 0xdc00: // high: must be followed by a low one
			if i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, ok := hex4(b, i+8); ok && lo >= 0xdc00 && lo <= 0xdfff {
					i += 11
					continue
				}
			}
			copy(b[i:], `\ufffd`)
		default: // a low one on its own
			copy(b[i:], `\ufffd`)
		}
		i += 5
	}
	return b
}

func hasSurrogateEscape(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`\u`))
		if j < 0 {
			return false
		}
		i += j + 2
		if i < len(body) && (body[i] == 'd' || body[i] == 'D') {
			return true
		}
	}
}

// hex4 reads the 4 hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// span records where a string field's bytes sit in Batch.scratch.
type span struct {
	event  int32
	field  int16 // a strField, or -(prop index + 1)
	isKey  bool
	off, n int32
}

type strField int16

const (
	fID strField = iota
	fSession
	fURL
	fTitle
	fReferrer
	fName
	fQuery
	fWidget
	fCurrency
	fUser
	fComment
	fUA
	fSite
	fTicket
	fCategory
	fSubject
)

func (tp *Touchpoint) strField(f strField) *string {
	switch f {
	case fID:
		return &tp.ID
	case fSession:
		return &tp.Session
	case fURL:
		return &tp.URL
	case fTitle:
		return &tp.Title
	case fReferrer:
		return &tp.Referrer
	case fName:
		return &tp.Name
	case fQuery:
		return &tp.Query
	case fWidget:
		return &tp.Widget
	case fCurrency:
		return &tp.Currency
	case fUser:
		return &tp.User
	case fComment:
		return &tp.Comment
	case fUA:
		return &tp.UserAgent
	case fSite:
		return &tp.Site
	case fTicket:
		return &tp.Ticket
	case fCategory:
		return &tp.TicketCategory
	case fSubject:
		return &tp.Subject
	}
	panic("BUG: unknown string field")
}

// Decode parses body into b (which it resets first). It fails only when the
// body as a whole is unusable (ErrMalformed, ErrTooManyEvents); an event that
// cannot be decoded gets its error in b.Errs and leaves the rest alone. A body
// without "events" that has a "type" is taken as a batch of one event.
//
// Site is copied from the batch into every event that names none. The strings
// of b stay valid after body is reused.
//
// The body must be strict JSON (RFC 8259): NaN, Infinity, raw control
// characters in strings and numbers such as 01 or +1 make it ErrMalformed.
// Strings follow one rule: what is decoded is valid UTF-8 without control
// characters; each invalid UTF-8 sequence, lone surrogate escape and control
// character other than tab, LF and CR becomes U+FFFD.
func (d *Decoder) Decode(body []byte, b *Batch) error {
	b.Reset()
	d.spans = d.spans[:0]
	body = d.fixSurrogates(body)
	v, err := d.p.ParseBytes(body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// fastjson's parser is lenient (NaN, Infinity, raw control characters,
	// numbers like 01 or 1-2); its validator is strict JSON (RFC 8259). It
	// runs after the parser, whose depth limit bounds its recursion.
	if err := fastjson.ValidateBytes(body); err != nil {
		return fmt.Errorf("%w: not strict JSON: %v", ErrMalformed, err)
	}
	root, err := v.Object()
	if err != nil {
		return fmt.Errorf("%w: body must be a JSON object", ErrMalformed)
	}
	var siteSpan = span{off: -1}
	var events []*fastjson.Value
	hasEvents, single := false, false
	var rootErr error
	root.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "site":
			s, err := v.StringBytes()
			if err != nil {
				rootErr = fmt.Errorf("%w: site must be a string", ErrMalformed)
				return
			}
			siteSpan = span{off: int32(len(b.scratch)), n: int32(len(s))}
			b.scratch = append(b.scratch, s...)
		case "cookieless":
			b.Cookieless = v.GetBool()
		case "events":
			a, err := v.Array()
			if err != nil {
				rootErr = fmt.Errorf("%w: events must be an array", ErrMalformed)
				return
			}
			events, hasEvents = a, true
		case "type":
			single = true
		}
	})
	if rootErr != nil {
		return rootErr
	}
	if !hasEvents && single {
		events, hasEvents = []*fastjson.Value{v}, true
	}
	if !hasEvents {
		return fmt.Errorf("%w: no events", ErrMalformed)
	}
	maxEvents := d.MaxEvents
	if maxEvents <= 0 {
		maxEvents = 500
	}
	if len(events) > maxEvents {
		return fmt.Errorf("%w: %d events, at most %d", ErrTooManyEvents, len(events), maxEvents)
	}
	b.Events = growTouchpoints(b.Events, len(events))
	if cap(b.Errs) >= len(events) {
		b.Errs = b.Errs[:len(events)]
	} else {
		b.Errs = make([]error, len(events))
	}
	for i, ev := range events {
		b.Errs[i] = d.decodeEvent(int32(i), ev, b)
	}
	// One conversion for every string of the batch.
	all := string(b.scratch)
	if siteSpan.off >= 0 {
		b.Site = all[siteSpan.off : siteSpan.off+siteSpan.n]
	}
	for _, s := range d.spans {
		tp := &b.Events[s.event]
		str := all[s.off : s.off+s.n]
		switch {
		case s.field >= 0:
			*tp.strField(strField(s.field)) = str
		case s.isKey:
			tp.Props[-s.field-1].Key = str
		default:
			tp.Props[-s.field-1].Value = str
		}
	}
	for i := range b.Events {
		if b.Events[i].Site == "" {
			b.Events[i].Site = b.Site
		}
	}
	return nil
}

func growTouchpoints(s []Touchpoint, n int) []Touchpoint {
	if cap(s) >= n {
		s = s[:n]
	} else {
		s = append(s[:cap(s)], make([]Touchpoint, n-cap(s))...)
	}
	for i := range s {
		s[i].Reset()
	}
	return s
}

func (d *Decoder) addString(b *Batch, event int32, field int16, isKey bool, s []byte) {
	off := len(b.scratch)
	b.scratch = appendClean(b.scratch, s)
	d.spans = append(d.spans, span{event: event, field: field, isKey: isKey, off: int32(off), n: int32(len(b.scratch) - off)})
}

// appendClean appends s to dst under the wire's one rule for strings: what
// is stored is valid UTF-8 without control characters. Each invalid UTF-8
// sequence (a lone surrogate escape such as \ud800 decodes to one) and each
// control character other than tab, LF and CR (the rest of C0, DEL and C1)
// becomes U+FFFD. The JSON text itself must be strict: a raw control
// character inside a string makes the whole body malformed.
func appendClean(dst, s []byte) []byte {
	clean := true
	for _, c := range s {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return append(dst, s...)
	}
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		switch {
		case r == utf8.RuneError && size <= 1,
			r < 0x20 && r != '\t' && r != '\n' && r != '\r',
			r >= 0x7f && r <= 0x9f:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		default:
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
	return dst
}

func (d *Decoder) decodeEvent(i int32, v *fastjson.Value, b *Batch) error {
	o, err := v.Object()
	if err != nil {
		return invalid("event", "must be a JSON object")
	}
	tp := &b.Events[i]
	// The ticket fields are fields of tickets only: on other types these
	// names stay props, as they were before tickets existed.
	isTicket := string(o.Get("type").GetStringBytes()) == "ticket"
	var ferr error
	str := func(f strField, name string, v *fastjson.Value) {
		s, err := v.StringBytes()
		if err != nil {
			ferr = invalid(name, "must be a string")
			return
		}
		d.addString(b, i, int16(f), false, s)
	}
	o.Visit(func(key []byte, v *fastjson.Value) {
		if ferr != nil {
			return
		}
		switch string(key) {
		case "id":
			str(fID, "id", v)
		case "type":
			s, err := v.StringBytes()
			if err != nil {
				ferr = invalid("type", "must be a string")
				return
			}
			if tp.Type = parseTypeBytes(s); tp.Type == TypeUnknown {
				ferr = invalid("type", "unknown type "+strconv.Quote(truncate(string(s), 32)))
			}
		case "visitor":
			s, err := v.StringBytes()
			if err != nil {
				ferr = invalid("visitor", "must be a string")
				return
			}
			if tp.Visitor, err = parseVisitorBytes(s); err != nil {
				ferr = invalid("visitor", err.Error())
			}
		case "site":
			str(fSite, "site", v)
		case "session":
			str(fSession, "session", v)
		case "url":
			str(fURL, "url", v)
		case "title":
			str(fTitle, "title", v)
		case "referrer":
			str(fReferrer, "referrer", v)
		case "name":
			str(fName, "name", v)
		case "query":
			str(fQuery, "query", v)
		case "widget":
			str(fWidget, "widget", v)
		case "currency":
			str(fCurrency, "currency", v)
		case "user":
			str(fUser, "user", v)
		case "comment":
			str(fComment, "comment", v)
		case "ua":
			str(fUA, "ua", v)
		case "ticket", "status", "ticket_channel", "category", "subject":
			if isTicket {
				ferr = d.ticketField(i, key, v, b)
			} else {
				ferr = d.addProp(i, key, v, b)
			}
		case "ip":
			s, err := v.StringBytes()
			if err != nil {
				ferr = invalid("ip", "must be a string")
				return
			}
			ip, err := ParseAddrBytes(s)
			if err != nil || !ip.IsValid() {
				ferr = invalid("ip", "not an IP address")
				return
			}
			// A zone means nothing for a client and could hold any bytes.
			tp.ClientIP = ip.Unmap().WithZone("")
		case "seq":
			n, err := intValue(v, 0, math.MaxUint32)
			if err != nil {
				ferr = invalid("seq", err.Error())
			}
			tp.Seq = uint32(n)
		case "ts":
			tp.TS, ferr = timeValue("ts", v)
		case "sent":
			tp.Sent, ferr = timeValue("sent", v)
		case "results":
			n, err := intValue(v, -1, math.MaxInt32)
			if err != nil {
				ferr = invalid("results", err.Error())
			}
			tp.Results = int32(n)
		case "step":
			n, err := intValue(v, 0, 1<<16)
			if err != nil {
				ferr = invalid("step", err.Error())
			}
			tp.Step = uint32(n)
		case "score":
			n, err := intValue(v, 0, 1000)
			if err != nil {
				ferr = invalid("score", err.Error())
			}
			tp.Score = int32(n)
		case "scale":
			n, err := intValue(v, 0, 1000)
			if err != nil {
				ferr = invalid("scale", err.Error())
			}
			tp.Scale = int32(n)
		case "value":
			f, err := floatValue(v)
			if err != nil {
				ferr = invalid("value", err.Error())
			}
			tp.Value = f
		case "props":
			ferr = d.decodeProps(i, v, b, isTicket)
		default:
			// The snippet sends a typed touchpoint's extra props as fields:
			// unknown scalar fields are props.
			ferr = d.addProp(i, key, v, b)
		}
	})
	return ferr
}

// decodeProps reads a flat object of string (or number / bool) values. A
// ticket's fields may come among its props (the snippet sends them so).
func (d *Decoder) decodeProps(i int32, v *fastjson.Value, b *Batch, isTicket bool) error {
	if v.Type() == fastjson.TypeNull {
		return nil
	}
	o, err := v.Object()
	if err != nil {
		return invalid("props", "must be an object")
	}
	var perr error
	o.Visit(func(key []byte, v *fastjson.Value) {
		if perr != nil {
			return
		}
		switch string(key) {
		case "ticket", "status", "ticket_channel", "category", "subject":
			if isTicket {
				perr = d.ticketField(i, key, v, b)
				return
			}
		}
		perr = d.addProp(i, key, v, b)
	})
	return perr
}

// maxDecodedProps bounds the props of one decoded event: a span names a prop
// by an int16. (Validate's far smaller MaxProps then applies.)
const maxDecodedProps = math.MaxInt16

// addProp adds a string, number or boolean value as a prop; null is
// skipped, and objects or arrays are an error.
func (d *Decoder) addProp(i int32, key []byte, v *fastjson.Value, b *Batch) error {
	var val []byte
	switch v.Type() {
	case fastjson.TypeString:
		val = v.GetStringBytes()
	case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
		var buf [32]byte
		val = v.MarshalTo(buf[:0])
	case fastjson.TypeNull:
		return nil
	default:
		return invalid("props", "values must be strings, numbers or booleans")
	}
	tp := &b.Events[i]
	idx := len(tp.Props)
	if idx >= maxDecodedProps {
		return invalid("props", "too many props")
	}
	tp.Props = append(tp.Props, Prop{})
	d.addString(b, i, int16(-idx-1), true, key)
	d.addString(b, i, int16(-idx-1), false, val)
	return nil
}

func intValue(v *fastjson.Value, lo, hi int64) (int64, error) {
	var n int64
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil || f != math.Trunc(f) {
			return 0, errors.New("must be an integer")
		}
		n = int64(f)
	case fastjson.TypeString:
		var err error
		if n, err = strconv.ParseInt(string(v.GetStringBytes()), 10, 64); err != nil {
			return 0, errors.New("must be an integer")
		}
	case fastjson.TypeNull:
		return lo, nil
	default:
		return 0, errors.New("must be an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("must be within %d..%d", lo, hi)
	}
	return n, nil
}

func floatValue(v *fastjson.Value) (float64, error) {
	var f float64
	var err error
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err = v.Float64()
	case fastjson.TypeString:
		f, err = strconv.ParseFloat(string(v.GetStringBytes()), 64)
	case fastjson.TypeNull:
		return 0, nil
	default:
		err = errors.New("not a number")
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("must be a finite number")
	}
	return f, nil
}

// timeValue reads a client time: Unix milliseconds (what Date.now() gives),
// or an RFC 3339 string. It returns Unix microseconds.
func timeValue(name string, v *fastjson.Value) (int64, error) {
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil || f < 0 || f > 1e15 {
			return 0, invalid(name, "must be Unix milliseconds")
		}
		return msToMicros(f), nil
	case fastjson.TypeString:
		s := string(v.GetStringBytes())
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f <= 1e15 {
			return msToMicros(f), nil // Unix ms as a string, as the pixel sends it
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, invalid(name, "must be Unix milliseconds or RFC 3339")
		}
		return t.UnixMicro(), nil
	case fastjson.TypeNull:
		return 0, nil
	}
	return 0, invalid(name, "must be Unix milliseconds")
}

// msToMicros rounds, not truncates: 1764000000000.123 ms is
// 1764000000000122.99… in floating point, and must be …123 µs.
func msToMicros(ms float64) int64 { return int64(math.Round(ms * 1000)) }

// ticketField decodes one of the fields of a ticket touchpoint.
func (d *Decoder) ticketField(i int32, key []byte, v *fastjson.Value, b *Batch) error {
	tp := &b.Events[i]
	str := func(f strField, name string) error {
		s, err := v.StringBytes()
		if err != nil {
			return invalid(name, "must be a string")
		}
		d.addString(b, i, int16(f), false, s)
		return nil
	}
	switch string(key) {
	case "ticket":
		if v.Type() == fastjson.TypeNumber { // help desks number their tickets
			var buf [32]byte
			d.addString(b, i, int16(fTicket), false, v.MarshalTo(buf[:0]))
			return nil
		}
		return str(fTicket, "ticket")
	case "category":
		return str(fCategory, "category")
	case "subject":
		return str(fSubject, "subject")
	case "status":
		s, err := v.StringBytes()
		if err != nil {
			return invalid("status", "must be a string")
		}
		if tp.Status = parseTicketStatusBytes(s); tp.Status == TicketStatusUnknown {
			return invalid("status", "unknown status "+strconv.Quote(truncate(string(s), 32))+": want opened, replied or solved")
		}
	case "ticket_channel":
		s, err := v.StringBytes()
		if err != nil {
			return invalid("ticket_channel", "must be a string")
		}
		if tp.TicketChannel = parseTicketChannelBytes(s); tp.TicketChannel == TicketChannelUnknown {
			return invalid("ticket_channel", "unknown channel "+strconv.Quote(truncate(string(s), 32))+": want email, chat, phone, form, social, api or other")
		}
	}
	return nil
}
