package compat

import (
	"fmt"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// PostHog translates PostHog capture API bodies (/capture/, /batch/,
// /i/v0/e/, /e/): one event, {"batch":[…]} or a bare array, the project
// key in api_key, token or an event's properties.token. Not safe for
// concurrent use; reuse it.
type PostHog struct {
	p   fastjson.Parser
	raw []byte
}

// Parse translates body into b (reset first). A body that is not PostHog
// JSON at all fails with ErrMalformed; an event that cannot be used is
// listed in b.Rejected and the rest go on.
func (ph *PostHog) Parse(body []byte, lim Limits, b *Batch) error {
	b.Reset()
	lim = lim.withDefaults()
	root, err := ph.p.ParseBytes(body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var events []*fastjson.Value
	sentAt := ""
	switch root.Type() {
	case fastjson.TypeArray:
		events, _ = root.Array()
	case fastjson.TypeObject:
		b.SiteKey = str(root, "api_key")
		if b.SiteKey == "" {
			b.SiteKey = str(root, "token")
		}
		sentAt = scalar(root, "sent_at")
		if a := root.Get("batch"); a != nil {
			if events, err = a.Array(); err != nil {
				return fmt.Errorf("%w: batch must be an array of events", ErrMalformed)
			}
		} else {
			events = []*fastjson.Value{root}
		}
	default:
		return fmt.Errorf("%w: the body must be a JSON object or array", ErrMalformed)
	}
	b.Messages = len(events)
	for i, ev := range events {
		if ev.Type() != fastjson.TypeObject {
			b.reject(i, "event must be a JSON object")
			continue
		}
		if b.SiteKey == "" {
			b.SiteKey = str(ev, "api_key")
		}
		if b.SiteKey == "" {
			b.SiteKey = str(ev, "properties", "token")
		}
		ph.event(ev, sentAt, i, lim, b)
	}
	return nil
}

func (ph *PostHog) event(ev *fastjson.Value, sentAt string, i int, lim Limits, b *Batch) {
	name := str(ev, "event")
	if name == "" {
		b.reject(i, "event name required")
		return
	}
	props := ev.Get("properties")
	distinct := scalar(ev, "distinct_id")
	if distinct == "" {
		distinct = scalar(props, "distinct_id")
	}
	if distinct == "" {
		distinct = scalar(ev, "$distinct_id")
	}
	if distinct == "" {
		b.reject(i, "distinct_id required")
		return
	}
	switch name {
	case "$pageview", "$screen", "$identify", "$create_alias":
	default:
		if strings.HasPrefix(name, "$") { // $set, $groupidentify, $autocapture, …: PostHog's own machinery
			b.Ignored++
			return
		}
	}
	e := b.add(i)
	if e.ID = scalar(ev, "uuid"); e.ID == "" {
		ph.raw = ev.MarshalTo(ph.raw[:0])
		e.ID = contentID(ph.raw, "posthog")
	}
	e.Visitor = distinct
	e.Seq = uint32(len(b.Events))
	e.TS, e.Sent = scalar(ev, "timestamp"), sentAt
	e.URL = str(props, "$current_url")
	if r := str(props, "$referrer"); r != "$direct" {
		e.Referrer = r
	}
	e.Session = str(props, "$session_id")
	e.IP = str(props, "$ip")
	if ua := str(props, "$raw_user_agent"); ua != "" {
		e.UA = ua
	}
	switch name {
	case "$pageview":
		e.Type = event.TypePageview
		e.Title = str(props, "title")
		if o := object(props); o != nil {
			e.addProps(o, "", lim, func(k string) bool { return k == "title" || posthogKey(k) })
		}
	case "$screen":
		e.Type = event.TypePageview
		e.Title = str(props, "$screen_name")
		if o := object(props); o != nil {
			e.addProps(o, "", lim, posthogKey)
		}
	case "$identify":
		e.Type, e.User = event.TypeIdentify, distinct
		// The $set properties are a person's profile, not journey data:
		// they are not stored. A browser's identify may carry the
		// user_hash of identity verification (collector/identity.go).
		if h := str(props, "user_hash"); h != "" {
			e.Props = append(e.Props, event.Prop{Key: "user_hash", Value: h})
		} else if h := str(props, "$set", "user_hash"); h != "" {
			e.Props = append(e.Props, event.Prop{Key: "user_hash", Value: h})
		}
		if anon := scalar(props, "$anon_distinct_id"); anon != "" && anon != distinct {
			first := *e
			e2 := b.add(i) // e may move with the append: not used after it
			props := e2.Props[:0]
			*e2 = first
			e2.Props = append(props, first.Props...)
			e2.ID, e2.Visitor, e2.Seq = derivedID(first.ID, "anon"), anon, uint32(len(b.Events))
		}
	case "$create_alias":
		alias := scalar(props, "alias")
		if alias == "" {
			b.drop()
			b.reject(i, "$create_alias needs properties.alias")
			return
		}
		e.Type, e.Visitor, e.User = event.TypeIdentify, alias, distinct
	default:
		e.named(name, props, lim, posthogKey)
	}
}

// posthogKey says which properties are PostHog's own: its "$…" keys and
// the routing fields, never stored as props.
func posthogKey(k string) bool {
	return strings.HasPrefix(k, "$") || k == "distinct_id" || k == "token"
}
