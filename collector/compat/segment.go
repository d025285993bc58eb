package compat

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Segment's limits (its HTTP tracking API's documented "max request size").
const (
	SegmentMaxMessage = 32 << 10  // bytes of one message
	SegmentMaxBatch   = 500 << 10 // bytes of one request body, uncompressed
)

// Errors for a body that cannot be translated at all; the collector answers
// 400 with the message.
var (
	// ErrMalformed is returned when the body is not the provider's JSON shape.
	ErrMalformed = errors.New("malformed body")
	// ErrTooLarge is returned when the body passes the provider's size limit.
	ErrTooLarge = errors.New("body too large")
)

// SegmentKinds are the message types of the Segment tracking spec, each
// with its endpoint /v1/<kind>; "batch" takes a list of typed messages.
var SegmentKinds = []string{"batch", "track", "page", "screen", "identify", "group", "alias"}

// Segment translates Segment HTTP tracking API bodies (also what
// RudderStack's SDKs send). Not safe for concurrent use; reuse it.
type Segment struct {
	p      fastjson.Parser
	raw    []byte
	linked []link // the visitor–user links made in this request
}

type link struct{ visitor, user string }

// Parse translates body, sent to /v1/<kind>, into b (reset first). A body
// that is not Segment JSON at all fails with ErrMalformed or ErrTooLarge; a
// message that cannot be used is listed in b.Rejected and the rest go on.
func (s *Segment) Parse(body []byte, kind string, lim Limits, b *Batch) error {
	b.Reset()
	s.linked = s.linked[:0]
	lim = lim.withDefaults()
	if len(body) > SegmentMaxBatch {
		return fmt.Errorf("%w: %d bytes, Segment's limit is %d", ErrTooLarge, len(body), SegmentMaxBatch)
	}
	root, err := s.p.ParseBytes(body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if root.Type() != fastjson.TypeObject {
		return fmt.Errorf("%w: the body must be a JSON object", ErrMalformed)
	}
	b.SiteKey = str(root, "writeKey")
	if kind != "batch" {
		b.Messages = 1
		if len(body) > SegmentMaxMessage {
			b.reject(0, fmt.Sprintf("message larger than %d bytes", SegmentMaxMessage))
			return nil
		}
		s.message(root, body, kind, nil, "", 0, lim, b)
		return nil
	}
	msgs := root.GetArray("batch")
	if msgs == nil {
		return fmt.Errorf("%w: a batch needs a \"batch\" array of messages", ErrMalformed)
	}
	b.Messages = len(msgs)
	batchCtx := root.Get("context")
	sentAt := scalar(root, "sentAt")
	for i, m := range msgs {
		s.raw = m.MarshalTo(s.raw[:0])
		if len(s.raw) > SegmentMaxMessage {
			b.reject(i, fmt.Sprintf("message larger than %d bytes", SegmentMaxMessage))
			continue
		}
		if m.Type() != fastjson.TypeObject {
			b.reject(i, "message must be a JSON object")
			continue
		}
		s.message(m, s.raw, str(m, "type"), batchCtx, sentAt, i, lim, b)
	}
	return nil
}

// message translates one message of type kind.
func (s *Segment) message(m *fastjson.Value, raw []byte, kind string, batchCtx *fastjson.Value, sentAt string, i int, lim Limits, b *Batch) {
	if t := str(m, "type"); t != "" {
		kind = t
	}
	anon, user := scalar(m, "anonymousId"), scalar(m, "userId")
	visitor := anon
	if visitor == "" {
		visitor = user
	}
	if visitor == "" && kind != "alias" {
		b.reject(i, "anonymousId or userId required")
		return
	}
	e := b.add(i)
	e.ID = scalar(m, "messageId")
	if e.ID == "" {
		e.ID = contentID(raw, "segment")
	}
	e.Visitor, e.User = visitor, user
	e.Seq = uint32(len(b.Events))
	e.TS = scalar(m, "timestamp")
	if e.TS == "" {
		e.TS = scalar(m, "originalTimestamp") // RudderStack
	}
	if e.Sent = scalar(m, "sentAt"); e.Sent == "" {
		e.Sent = sentAt
	}
	ctx := m.Get("context")
	if ctx == nil {
		ctx = batchCtx
	}
	e.context(ctx)
	props := m.Get("properties")
	switch kind {
	case "track":
		name := str(m, "event")
		if name == "" {
			b.drop()
			b.reject(i, "track needs an event name")
			return
		}
		e.named(name, props, lim, nil)
	case "page", "screen":
		e.Type = event.TypePageview
		if u := str(props, "url"); u != "" {
			e.URL = u
			e.campaign(ctx)
		}
		if t := str(props, "title"); t != "" {
			e.Title = t
		} else if e.Title == "" || kind == "screen" {
			e.Title = str(m, "name")
		}
		if r := str(props, "referrer"); r != "" {
			e.Referrer = r
		}
		if kind == "screen" {
			e.Props = append(e.Props, event.Prop{Key: "screen", Value: cut(str(m, "name"), lim.MaxProp)})
		} else if n := str(m, "name"); n != "" {
			e.Props = append(e.Props, event.Prop{Key: "name", Value: cut(n, lim.MaxProp)})
		}
		if c := str(m, "category"); c != "" {
			e.Props = append(e.Props, event.Prop{Key: "category", Value: cut(c, lim.MaxProp)})
		}
		if o := object(props); o != nil {
			e.addProps(o, "", lim, pageKey)
		}
	case "identify":
		if user == "" { // traits of an anonymous visitor: nothing for a trail
			b.drop()
			b.Ignored++
			return
		}
		// Traits (names, e-mail addresses) are profile data, not journey
		// data: they are not stored.
		e.Type, e.User = event.TypeIdentify, user
		if anon != "" && anon != user {
			// Later messages may carry the userId alone (a backend's): link
			// that visitor to the user too.
			first := *e
			e2 := b.add(i) // e may move with the append: not used after it
			props := e2.Props[:0]
			*e2 = first
			e2.Props = append(props, first.Props...)
			e2.ID, e2.Visitor, e2.Seq = linkID(user), user, uint32(len(b.Events))
			s.link(user, user)
		}
	case "group":
		e.Type, e.Name = event.TypeCustom, "Group"
		if g := scalar(m, "groupId"); g != "" {
			e.Props = append(e.Props, event.Prop{Key: "group_id", Value: cut(g, lim.MaxProp)})
		}
		if o := object(m.Get("traits")); o != nil {
			e.addProps(o, "", lim, nil)
		}
	case "alias":
		prev := scalar(m, "previousId")
		if prev == "" || user == "" {
			b.drop()
			b.reject(i, "alias needs previousId and userId")
			return
		}
		e.Type, e.Visitor, e.User = event.TypeIdentify, prev, user
		s.link(prev, user)
		return
	default:
		b.drop()
		b.reject(i, fmt.Sprintf("unknown message type %q (want track, page, screen, identify, group or alias)", cut(kind, 32)))
		return
	}
	if kind == "identify" {
		s.link(visitor, user)
		return
	}
	if user == "" || !s.link(visitor, user) {
		return
	}
	// A userId on any message says the visitor is that user: stitch them
	// as identify does, with an identify just before the message. Its id is
	// the same for every message of the user, so a visitor gets one (the
	// store keeps an id once per visitor; this request's are skipped here).
	n := len(b.Events)
	l := b.add(i)
	msg := &b.Events[n-1]
	l.ID, l.Type, l.Visitor, l.User, l.TS, l.Sent = linkID(user), event.TypeIdentify, visitor, user, msg.TS, msg.Sent
	b.Events[n-1], b.Events[n] = b.Events[n], b.Events[n-1]
	b.Events[n-1].Seq, b.Events[n].Seq = uint32(n), uint32(n+1)
}

// link records that this request links visitor and user; false when it
// already did.
func (s *Segment) link(visitor, user string) bool {
	for _, l := range s.linked {
		if l.visitor == visitor && l.user == user {
			return false
		}
	}
	s.linked = append(s.linked, link{visitor, user})
	return true
}

// linkID is the id of the identify that links a visitor to user.
func linkID(user string) string { return derivedID(user, "segment-user") }

// pageKey says which page properties are taken into typed fields.
func pageKey(k string) bool {
	switch k {
	case "url", "title", "referrer", "path", "search":
		return true
	}
	return false
}

// context takes the page, user agent, address and campaign of a Segment
// context object.
func (e *Event) context(ctx *fastjson.Value) {
	if ctx == nil {
		return
	}
	e.URL = str(ctx, "page", "url")
	if e.URL == "" {
		e.URL = str(ctx, "page", "path") + str(ctx, "page", "search")
	}
	e.Title = str(ctx, "page", "title")
	e.Referrer = str(ctx, "page", "referrer")
	e.UA = str(ctx, "userAgent")
	e.IP = str(ctx, "ip")
	e.campaign(ctx)
}

// campaign adds the context's campaign to the URL, unless it has one.
func (e *Event) campaign(ctx *fastjson.Value) {
	if c := object(ctx.Get("campaign")); c != nil && !strings.Contains(e.URL, "utm_") {
		e.URL = appendCampaign(e.URL, ctx.Get("campaign"))
	}
}

// appendCampaign adds a Segment context.campaign to url as utm_*
// parameters, which is where enrichment reads a campaign from.
func appendCampaign(page string, c *fastjson.Value) string {
	sep := "?"
	if strings.Contains(page, "?") {
		sep = "&"
	}
	var sb strings.Builder
	sb.WriteString(page)
	for _, f := range [...][2]string{{"name", "utm_campaign"}, {"source", "utm_source"}, {"medium", "utm_medium"}, {"term", "utm_term"}, {"content", "utm_content"}} {
		if v := str(c, f[0]); v != "" {
			sb.WriteString(sep)
			sb.WriteString(f[1])
			sb.WriteByte('=')
			sb.WriteString(url.QueryEscape(v))
			sep = "&"
		}
	}
	return sb.String()
}
