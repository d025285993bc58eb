package enrich

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Channel derives the UTM campaign of pageURL and the marketing channel of a
// visit from the page's URL and its referrer, first rule first:
//
//   - paid: a click id (gclid, fbclid, msclkid, …) or a paid utm_medium
//     (cpc, ppc, paid*, display, …)
//   - email: utm_medium or utm_source email / newsletter
//   - social: utm_medium social, or a social network as utm_source
//   - search: utm_medium organic
//   - internal: the referrer's host is the page's ("www." aside)
//   - email, search, social: a webmail, search engine or social network
//     referrer (apps' android-app:// referrers included)
//   - referral: any other referrer, or UTM parameters without a known medium
//   - direct: no referrer and no UTM parameters
//
// It does not allocate unless a UTM value needs percent-decoding. Safe for
// concurrent use.
func Channel(pageURL, referrer string) (event.UTM, event.Channel) {
	utm, clickID := parseUTM(pageURL)
	medium, source := utm.Medium, utm.Source
	switch {
	case clickID || hasPrefixFold(medium, "paid") || oneOf(medium, paidMedia...):
		return utm, event.ChannelPaid
	case oneOf(medium, emailMedia...) || oneOf(source, "email", "e-mail", "newsletter"):
		return utm, event.ChannelEmail
	case oneOf(medium, socialMedia...) || source != "" && classify(source) == kindSocial:
		return utm, event.ChannelSocial
	case oneOf(medium, "organic", "seo"):
		return utm, event.ChannelSearch
	}
	ref := host(referrer)
	if ref != "" {
		if strings.EqualFold(ref, host(pageURL)) {
			return utm, event.ChannelInternal
		}
		switch classify(ref) {
		case kindEmail:
			return utm, event.ChannelEmail
		case kindSearch:
			return utm, event.ChannelSearch
		case kindSocial:
			return utm, event.ChannelSocial
		}
		return utm, event.ChannelReferral
	}
	if !utm.IsZero() {
		return utm, event.ChannelReferral
	}
	return utm, event.ChannelDirect
}

var (
	paidMedia   = []string{"cpc", "ppc", "cpm", "cpv", "cpa", "cpp", "display", "banner", "ads", "retargeting"}
	emailMedia  = []string{"email", "e-mail", "e_mail", "mail", "newsletter"}
	socialMedia = []string{"social", "social-network", "social-media", "social_media", "sm", "social network", "social media"}
)

// kind is what a referrer host (or a utm_source) is known to be.
type kind uint8

const (
	kindOther kind = iota
	kindSearch
	kindSocial
	kindEmail
)

// domains are matched against a host and each of its parent domains, most
// specific first, so "mail.google.com" is webmail and "google.com" search.
var domains = map[string]kind{
	// Search engines not caught by a label below.
	"bing.com": kindSearch, "duckduckgo.com": kindSearch, "baidu.com": kindSearch, "ecosia.org": kindSearch,
	"search.brave.com": kindSearch, "qwant.com": kindSearch, "startpage.com": kindSearch, "kagi.com": kindSearch,
	"naver.com": kindSearch, "sogou.com": kindSearch, "seznam.cz": kindSearch, "ask.com": kindSearch,
	"aol.com": kindSearch, "so.com": kindSearch, "yandex.ru": kindSearch, "ya.ru": kindSearch,
	"perplexity.ai": kindSearch, "chatgpt.com": kindSearch, "search.app": kindSearch,
	// Social networks.
	"fb.com": kindSocial, "fb.me": kindSocial, "t.co": kindSocial, "x.com": kindSocial, "lnkd.in": kindSocial,
	"youtu.be": kindSocial, "threads.net": kindSocial, "mastodon.social": kindSocial, "bsky.app": kindSocial,
	"vk.com": kindSocial, "news.ycombinator.com": kindSocial, "quora.com": kindSocial, "t.me": kindSocial,
	"telegram.org": kindSocial, "weibo.com": kindSocial, "discord.com": kindSocial, "wa.me": kindSocial,
	"pin.it": kindSocial, "redd.it": kindSocial,
	// Webmail and mail apps.
	"mail.google.com": kindEmail, "outlook.live.com": kindEmail, "outlook.office.com": kindEmail,
	"outlook.office365.com": kindEmail, "mail.yahoo.com": kindEmail, "mail.proton.me": kindEmail,
	"mail.aol.com": kindEmail, "com.google.android.gm": kindEmail, "com.microsoft.office.outlook": kindEmail,
}

// labels are matched against each dot-separated label of a host, so
// "google" matches google.com, www.google.co.uk, news.google.de and the
// com.google.android.googlequicksearchbox app. They double as the names
// that utm_source commonly uses ("facebook", "linkedin").
var labels = map[string]kind{
	"google": kindSearch, "bing": kindSearch, "yahoo": kindSearch, "yandex": kindSearch, "duckduckgo": kindSearch,
	"baidu": kindSearch, "ecosia": kindSearch,
	"facebook": kindSocial, "instagram": kindSocial, "twitter": kindSocial, "linkedin": kindSocial,
	"reddit": kindSocial, "youtube": kindSocial, "tiktok": kindSocial, "pinterest": kindSocial,
	"snapchat": kindSocial, "tumblr": kindSocial, "whatsapp": kindSocial, "mastodon": kindSocial,
	"bluesky": kindSocial, "threads": kindSocial, "discord": kindSocial, "telegram": kindSocial,
	"x": kindSocial, "ig": kindSocial, "fb": kindSocial, "yt": kindSocial,
}

// classify says what the host or source name s is. It lower-cases into a
// stack buffer, so it does not allocate.
func classify(s string) kind {
	var buf [256]byte
	if len(s) > len(buf) {
		return kindOther
	}
	b := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	// Parent domains, most specific first; a bare TLD is never listed.
	for rest := b; ; {
		if k, ok := domains[string(rest)]; ok {
			return k
		}
		i := indexByte(rest, '.')
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	// Labels: "x", "ig" and the other short ones only as the whole name,
	// or x.example.org would be social.
	for rest := b; len(rest) > 0; {
		label := rest
		if i := indexByte(rest, '.'); i >= 0 {
			label, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(label) <= 2 && len(label) != len(b) {
			continue
		}
		if k, ok := labels[string(label)]; ok {
			return k
		}
	}
	return kindOther
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// host returns the host of an absolute URL without user info, port or
// "www.", as written (compare with strings.EqualFold), or "" when u has no
// "scheme://". It returns a substring of u: no allocation.
func host(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return ""
	}
	h := u[i+3:]
	if j := strings.IndexAny(h, "/?#"); j >= 0 {
		h = h[:j]
	}
	if j := strings.LastIndexByte(h, '@'); j >= 0 {
		h = h[j+1:]
	}
	if j := strings.LastIndexByte(h, ':'); j >= 0 && !strings.Contains(h[j:], "]") {
		h = h[:j]
	}
	if hasPrefixFold(h, "www.") {
		h = h[4:]
	}
	return h
}

func oneOf(v string, set ...string) bool {
	if v == "" {
		return false
	}
	for _, s := range set {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// parseUTM reads the utm_* parameters and click ids of a URL's query with a
// small scanner (no url.Values). The first non-empty value of a parameter
// wins, as with url.Values.Get.
func parseUTM(u string) (utm event.UTM, clickID bool) {
	i := strings.IndexByte(u, '?')
	if i < 0 {
		return utm, false
	}
	q := u[i+1:]
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = unescape(v)
		}
	}
	for q != "" {
		pair := q
		if i := strings.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			q = ""
		}
		k, v, _ := strings.Cut(pair, "=")
		if v == "" {
			continue
		}
		switch k {
		case "utm_source":
			set(&utm.Source, v)
		case "utm_medium":
			set(&utm.Medium, v)
		case "utm_campaign":
			set(&utm.Campaign, v)
		case "utm_term":
			set(&utm.Term, v)
		case "utm_content":
			set(&utm.Content, v)
		case "gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid", "epik", "rdt_cid":
			clickID = true
		}
	}
	return utm, clickID
}

// maxUTM bounds a UTM value, in bytes.
const maxUTM = 256

// unescape percent-decodes a query value when it holds '%' or '+', keeping
// at most maxUTM bytes of valid UTF-8. Without those it returns a substring
// of v: no allocation.
func unescape(v string) string {
	if needsUnescape(v) {
		if s, err := url.QueryUnescape(v); err == nil {
			v = s
		}
	}
	if len(v) > maxUTM {
		n := maxUTM
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "")
	}
	return v
}

func needsUnescape(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] == '%' || v[i] == '+' {
			return true
		}
	}
	return false
}
