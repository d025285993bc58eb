package enrich

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Channel derives the UTM campaign of pageURL and the marketing channel of a
// visit from the page's URL and its referrer:
//
//   - paid: a click id (gclid, fbclid, msclkid, …) or a paid utm_medium (cpc, ppc, paid*, display, …)
//   - email: utm_medium or utm_source email / newsletter, or a webmail referrer
//   - social: utm_medium social, a social utm_source, or a social network referrer
//   - internal: the referrer is the page's own host
//   - search: a search engine referrer, or utm_medium organic
//   - referral: any other referrer, or UTM parameters without a known medium
//   - direct: no referrer and no UTM parameters
//
// It does not allocate unless a UTM value needs percent-decoding.
func Channel(pageURL, referrer string) (event.UTM, event.Channel) {
	utm, clickID := parseUTM(pageURL)
	medium, source := utm.Medium, utm.Source
	switch {
	case clickID || oneOf(medium, "cpc", "ppc", "cpm", "cpv", "display", "banner", "ads", "paidsearch", "paid_search", "paid-social", "paid_social") ||
		hasPrefixFold(medium, "paid"):
		return utm, event.ChannelPaid
	case oneOf(medium, "email", "e-mail", "e_mail", "newsletter") || oneOf(source, "email", "newsletter", "e-mail"):
		return utm, event.ChannelEmail
	case oneOf(medium, "social", "social-network", "social-media", "social_media", "sm") || hostIn(source, socialHosts):
		return utm, event.ChannelSocial
	case oneOf(medium, "organic"):
		return utm, event.ChannelSearch
	}
	ref := host(referrer)
	switch {
	case ref != "" && sameSite(ref, host(pageURL)):
		if !utm.IsZero() {
			return utm, event.ChannelReferral
		}
		return utm, event.ChannelInternal
	case ref != "" && hostIn(ref, webmailHosts):
		return utm, event.ChannelEmail
	case ref != "" && hostIn(ref, searchHosts):
		return utm, event.ChannelSearch
	case ref != "" && hostIn(ref, socialHosts):
		return utm, event.ChannelSocial
	case ref != "" || !utm.IsZero():
		return utm, event.ChannelReferral
	}
	return utm, event.ChannelDirect
}

// Hosts are matched by label: "google" matches google.com, www.google.co.uk
// and news.google.de; entries with a dot match that domain and its
// subdomains.
var (
	searchHosts  = []string{"google", "bing.com", "duckduckgo.com", "search.yahoo.com", "yahoo", "baidu.com", "yandex", "ecosia.org", "search.brave.com", "qwant.com", "startpage.com", "kagi.com", "naver.com", "sogou.com", "seznam.cz", "ask.com", "aol.com"}
	socialHosts  = []string{"facebook", "fb.com", "instagram.com", "t.co", "twitter.com", "x.com", "linkedin.com", "lnkd.in", "reddit.com", "youtube.com", "youtu.be", "tiktok.com", "pinterest", "snapchat.com", "threads.net", "mastodon.social", "bsky.app", "vk.com", "news.ycombinator.com", "tumblr.com", "quora.com", "whatsapp.com", "telegram.org", "t.me", "weibo.com", "discord.com"}
	webmailHosts = []string{"mail.google.com", "outlook.live.com", "outlook.office.com", "mail.yahoo.com", "mail.proton.me", "mail.aol.com"}
)

// hostIn reports whether h (lower case) matches one of the patterns.
func hostIn(h string, patterns []string) bool {
	if h == "" {
		return false
	}
	for _, p := range patterns {
		if strings.IndexByte(p, '.') >= 0 {
			if h == p || strings.HasSuffix(h, p) && h[len(h)-len(p)-1] == '.' {
				return true
			}
			continue
		}
		// A bare label: any label of h equal to it.
		for rest := h; rest != ""; {
			label := rest
			if i := strings.IndexByte(rest, '.'); i >= 0 {
				label, rest = rest[:i], rest[i+1:]
			} else {
				rest = ""
			}
			if label == p {
				return true
			}
		}
	}
	return false
}

// host returns the lower-case host of an absolute URL, without port or "www.".
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
	if hasUpper(h) {
		h = strings.ToLower(h)
	}
	return strings.TrimPrefix(h, "www.")
}

func sameSite(a, b string) bool { return a != "" && a == b }

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func oneOf(v string, set ...string) bool {
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

// parseUTM reads the utm_* parameters and click ids of a URL's query.
func parseUTM(u string) (utm event.UTM, clickID bool) {
	q := u
	if i := strings.IndexByte(q, '?'); i >= 0 {
		q = q[i+1:]
	} else {
		return utm, false
	}
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	for q != "" {
		pair := q
		if i := strings.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			q = ""
		}
		k, v, _ := strings.Cut(pair, "=")
		switch k {
		case "utm_source":
			utm.Source = unescape(v)
		case "utm_medium":
			utm.Medium = unescape(v)
		case "utm_campaign":
			utm.Campaign = unescape(v)
		case "utm_term":
			utm.Term = unescape(v)
		case "utm_content":
			utm.Content = unescape(v)
		case "gclid", "gbraid", "wbraid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid", "dclid":
			clickID = clickID || v != ""
		}
	}
	return utm, clickID
}

// unescape percent-decodes a query value when needed, keeping at most 256
// bytes of valid UTF-8.
func unescape(v string) string {
	if strings.ContainsAny(v, "%+") {
		if s, err := url.QueryUnescape(v); err == nil {
			v = s
		}
	}
	if len(v) > 256 {
		n := 256
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
