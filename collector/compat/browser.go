package compat

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Plausible's and Umami's scripts send no visitor id (their servers derive
// one from the address and user agent with a daily salt) and no event id:
// their events are cookieless (the collector derives the visitor the same
// way) and get a random id. Neither script retries.

// Browser translates the bodies of Plausible's POST /api/event and Umami's
// POST /api/send. Not safe for concurrent use; reuse it.
type Browser struct {
	p fastjson.Parser
}

// Plausible translates a Plausible event body {"n","u","d","r","p"} into b
// (reset first): "pageview" is a page view, any other name a custom event
// with the props p (an object, or the JSON text of one as
// plausible-tracker sends it). b.SiteKey is the domain d (a comma-separated
// list when the script reports to several sites).
func (br *Browser) Plausible(body []byte, lim Limits, b *Batch) error {
	b.Reset()
	lim = lim.withDefaults()
	v, err := br.p.ParseBytes(body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if v.Type() != fastjson.TypeObject {
		return fmt.Errorf("%w: the body must be a JSON object", ErrMalformed)
	}
	b.Messages, b.Cookieless = 1, true
	b.SiteKey = str(v, "d")
	name, page := str(v, "n"), str(v, "u")
	if name == "" || page == "" {
		return fmt.Errorf("%w: n (event name) and u (URL) are required", ErrMalformed)
	}
	e := b.add(0)
	e.ID = randomID()
	e.URL, e.Referrer = page, str(v, "r")
	if name == "pageview" {
		e.Type = event.TypePageview
	} else {
		e.Type, e.Name = event.TypeCustom, name
	}
	p := v.Get("p")
	if p == nil {
		p = v.Get("m") // the older name of the props
	}
	if p != nil && p.Type() == fastjson.TypeString {
		var pp fastjson.Parser
		if p, err = pp.ParseBytes(p.GetStringBytes()); err != nil {
			b.drop()
			b.reject(0, "p: props must be a JSON object")
			return nil
		}
	}
	if o := object(p); o != nil {
		e.addProps(o, "", lim, nil)
	}
	return nil
}

// Umami translates an Umami body {"type","payload":{…}} into b (reset
// first): a payload without a name is a page view, with one a custom event
// whose data are its props; an "identify" whose data name an id (id,
// userId or user_id) is an identify, any other is ignored. b.SiteKey is the
// website id. origin is the request's Origin header: Umami sends the
// page's path and host name, and the origin gives the scheme.
func (br *Browser) Umami(body []byte, origin string, lim Limits, b *Batch) error {
	b.Reset()
	lim = lim.withDefaults()
	v, err := br.p.ParseBytes(body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	pl := v.Get("payload")
	if pl == nil || pl.Type() != fastjson.TypeObject {
		return fmt.Errorf("%w: a payload object is required", ErrMalformed)
	}
	b.Messages, b.Cookieless = 1, true
	b.SiteKey = str(pl, "website")
	kind := str(v, "type")
	e := b.add(0)
	e.ID = randomID()
	e.URL = umamiURL(origin, str(pl, "hostname"), str(pl, "url"))
	e.Title = unescape(str(pl, "title"))
	if r := unescape(str(pl, "referrer")); r != "" {
		e.Referrer = r
	}
	data := pl.Get("data")
	switch kind {
	case "event", "":
		if name := str(pl, "name"); name != "" {
			e.Type, e.Name = event.TypeCustom, name
			if o := object(data); o != nil {
				e.addProps(o, "", lim, nil)
			}
		} else {
			e.Type = event.TypePageview
		}
	case "identify":
		user := scalar(data, "id")
		for _, k := range [...]string{"userId", "user_id"} {
			if user == "" {
				user = scalar(data, k)
			}
		}
		if user == "" {
			b.drop()
			b.Ignored++
			return nil
		}
		e.Type, e.User = event.TypeIdentify, user
		if h := str(data, "user_hash"); h != "" { // identity verification (collector/identity.go)
			e.Props = append(e.Props, event.Prop{Key: "user_hash", Value: h})
		}
	default:
		b.drop()
		b.reject(0, fmt.Sprintf("unknown type %q (want event or identify)", cut(kind, 32)))
	}
	return nil
}

// umamiURL makes the absolute URL of a page Umami names by host name and
// path, with the scheme of the request's origin (https without one).
func umamiURL(origin, host, path string) string {
	path = unescape(path)
	if host == "" || strings.Contains(path, "://") {
		return path
	}
	scheme := "https"
	if u, err := url.Parse(origin); err == nil && u.Scheme != "" && u.Hostname() == host {
		return u.Scheme + "://" + u.Host + path
	}
	return scheme + "://" + host + path
}

// unescape undoes the script's encodeURI / encodeURIComponent; a string
// that is not valid escaping is kept as it is.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// randomID returns 32 random hex characters.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
