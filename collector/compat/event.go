package compat

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Limits bound what a translation writes. Zero fields mean defaults.
type Limits struct {
	// MaxProps bounds the props of one event: further properties are
	// dropped. Default: event.DefaultLimits.MaxProps (32).
	MaxProps int
	// MaxProp bounds a prop key or value in bytes: longer ones are cut at
	// a character boundary. Default: event.DefaultLimits.MaxProp (256).
	MaxProp int
	// OrderStep is the checkout step an "Order Completed" becomes: the step
	// the journey model counts as a purchase. Default: 3.
	OrderStep uint32
}

func (l Limits) withDefaults() Limits {
	if l.MaxProps <= 0 {
		l.MaxProps = event.DefaultLimits.MaxProps
	}
	if l.MaxProp <= 0 {
		l.MaxProp = event.DefaultLimits.MaxProp
	}
	if l.OrderStep == 0 {
		l.OrderStep = 3
	}
	return l
}

// Event is one touchpoint in the making, in the fields of our wire format
// (POST /v1/events). Batch.AppendWire writes it; the collector's decoder
// and validation then judge it as they judge the snippet's events.
type Event struct {
	ID       string
	Type     event.Type
	Visitor  string // any string: 32 hex characters and UUIDs are ids, anything else is hashed
	Session  string
	Seq      uint32
	TS, Sent string // RFC 3339 or Unix milliseconds as the client sent them; "" unknown
	URL      string
	Title    string
	Referrer string
	Name     string
	Query    string
	Results  int // -1: unknown
	Widget   string
	Step     uint32
	Value    float64
	Currency string
	User     string
	Score    int
	Scale    int
	Comment  string
	UA, IP   string
	Props    []event.Prop
}

func (e *Event) reset() {
	props := e.Props[:0]
	*e = Event{Results: -1, Props: props}
}

// Rejection is a message refused by the translation itself (too large,
// no visitor, an unknown type): the collector reports it as it reports an
// event its validation refused.
type Rejection struct {
	Index int // of the message in the request
	Err   string
}

// Batch is the translation of one request: events in message order, each
// with the index of the message it came from (a message may give two, or
// none). Reuse it with Reset.
type Batch struct {
	Events     []Event
	Src        []int // Src[i] is the message index of Events[i]
	Rejected   []Rejection
	Ignored    int  // messages that carry nothing for a trail (PostHog's $set, …)
	Messages   int  // messages in the request
	Cookieless bool // the provider has no visitor id: the collector derives it (daily salted hash)
	// SiteKey names the site as the body does: Segment's writeKey, PostHog's
	// api_key, Plausible's domain, Umami's website id; "" when the body
	// names none.
	SiteKey string
}

// Reset empties b for reuse, keeping capacity.
func (b *Batch) Reset() {
	for i := range b.Events {
		b.Events[i].reset()
	}
	b.Events = b.Events[:0]
	b.Src = b.Src[:0]
	b.Rejected = b.Rejected[:0]
	b.Ignored, b.Messages, b.Cookieless, b.SiteKey = 0, 0, false, ""
}

// add appends an empty event from message src and returns it.
func (b *Batch) add(src int) *Event {
	if len(b.Events) < cap(b.Events) {
		b.Events = b.Events[:len(b.Events)+1]
	} else {
		b.Events = append(b.Events, Event{})
	}
	e := &b.Events[len(b.Events)-1]
	e.reset()
	b.Src = append(b.Src, src)
	return e
}

// drop removes the last event (its message turned out unusable).
func (b *Batch) drop() {
	b.Events[len(b.Events)-1].reset()
	b.Events = b.Events[:len(b.Events)-1]
	b.Src = b.Src[:len(b.Src)-1]
}

func (b *Batch) reject(src int, err string) {
	b.Rejected = append(b.Rejected, Rejection{Index: src, Err: err})
}

// AppendWire appends the batch as a POST /v1/events body for site.
func (b *Batch) AppendWire(dst []byte, site string) []byte {
	dst = append(dst, `{"site":`...)
	dst = event.AppendJSONString(dst, site)
	if b.Cookieless {
		dst = append(dst, `,"cookieless":true`...)
	}
	dst = append(dst, `,"events":[`...)
	for i := range b.Events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = b.Events[i].appendWire(dst)
	}
	return append(dst, ']', '}')
}

func (e *Event) appendWire(dst []byte) []byte {
	w := event.Object{Dst: append(dst, '{')}
	w.Str("id", e.ID)
	w.Str("type", e.Type.String())
	w.Str("visitor", e.Visitor)
	w.Str("session", e.Session)
	if e.Seq > 0 {
		w.Int("seq", int64(e.Seq))
	}
	w.Str("ts", e.TS)
	w.Str("sent", e.Sent)
	w.Str("url", e.URL)
	w.Str("title", e.Title)
	w.Str("referrer", e.Referrer)
	w.Str("name", e.Name)
	w.Str("query", e.Query)
	if e.Results >= 0 {
		w.Int("results", int64(e.Results))
	}
	w.Str("widget", e.Widget)
	if e.Step > 0 {
		w.Int("step", int64(e.Step))
	}
	if e.Value != 0 {
		w.Key("value")
		w.Dst = strconv.AppendFloat(w.Dst, e.Value, 'g', -1, 64)
	}
	w.Str("currency", e.Currency)
	w.Str("user", e.User)
	if e.Type == event.TypeFeedback {
		w.Int("score", int64(e.Score))
		if e.Scale > 0 {
			w.Int("scale", int64(e.Scale))
		}
	}
	w.Str("comment", e.Comment)
	w.Str("ua", e.UA)
	w.Str("ip", e.IP)
	if len(e.Props) > 0 {
		w.Key("props")
		w.Dst = append(w.Dst, '{')
		for i, p := range e.Props {
			if i > 0 {
				w.Dst = append(w.Dst, ',')
			}
			w.Dst = event.AppendJSONString(w.Dst, p.Key)
			w.Dst = append(w.Dst, ':')
			w.Dst = event.AppendJSONString(w.Dst, p.Value)
		}
		w.Dst = append(w.Dst, '}')
	}
	return append(w.Dst, '}')
}

// addProps adds the scalar properties of o as props, within lim: strings
// as they are, numbers and booleans as JSON writes them, one level of
// nested objects as "outer.inner"; arrays and null are left out, and so are
// the keys skip says were taken into typed fields.
func (e *Event) addProps(o *fastjson.Object, prefix string, lim Limits, skip func(key string) bool) {
	if o == nil {
		return
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		if len(e.Props) >= lim.MaxProps {
			return
		}
		key := string(k)
		if prefix != "" {
			key = prefix + "." + key
		} else if skip != nil && skip(key) {
			return
		}
		var val string
		switch v.Type() {
		case fastjson.TypeString:
			val = string(v.GetStringBytes())
		case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
			val = string(v.MarshalTo(nil))
		case fastjson.TypeObject:
			if prefix == "" {
				inner, _ := v.Object()
				e.addProps(inner, key, lim, nil)
			}
			return
		default:
			return
		}
		if key == "" || val == "" && v.Type() == fastjson.TypeString {
			return
		}
		e.Props = append(e.Props, event.Prop{Key: cut(key, lim.MaxProp), Value: cut(val, lim.MaxProp)})
	})
}

// cut returns s within n bytes, cut at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// str returns the string at keys of v, "" when missing or not a string.
func str(v *fastjson.Value, keys ...string) string {
	if v == nil {
		return ""
	}
	x := v.Get(keys...)
	if x == nil || x.Type() != fastjson.TypeString {
		return ""
	}
	return string(x.GetStringBytes())
}

// scalar returns a string, a number (as its JSON text) or "" for what is at
// keys of v: ids and times come as either.
func scalar(v *fastjson.Value, keys ...string) string {
	if v == nil {
		return ""
	}
	x := v.Get(keys...)
	if x == nil {
		return ""
	}
	switch x.Type() {
	case fastjson.TypeString:
		return string(x.GetStringBytes())
	case fastjson.TypeNumber:
		return string(x.MarshalTo(nil))
	}
	return ""
}

// num returns the number at keys of v (a JSON number or a numeric string).
func num(v *fastjson.Value, keys ...string) (float64, bool) {
	if v == nil {
		return 0, false
	}
	x := v.Get(keys...)
	if x == nil {
		return 0, false
	}
	switch x.Type() {
	case fastjson.TypeNumber:
		f, err := x.Float64()
		return f, err == nil
	case fastjson.TypeString:
		f, err := strconv.ParseFloat(string(x.GetStringBytes()), 64)
		return f, err == nil
	}
	return 0, false
}

// contentID returns an id for a message that has none: 32 hex characters of
// SHA-256 over its bytes and a tag. A client that re-sends the message sends
// the same bytes, so the retry is stored once.
func contentID(raw []byte, tag string) string {
	h := sha256.New()
	h.Write(raw)
	h.Write([]byte{0})
	h.Write([]byte(tag))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// derivedID returns a second id for another event made from the message of
// id: 32 hex characters of SHA-256 over id and a tag.
func derivedID(id, tag string) string {
	return contentID([]byte(id), tag)
}

// object returns v as an object, nil when v is missing or not one.
func object(v *fastjson.Value) *fastjson.Object {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	o, _ := v.Object()
	return o
}
