package enrich_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/event"
)

func TestChannel(t *testing.T) {
	const page = "https://shop.example/pricing"
	type utm = event.UTM
	tests := []struct {
		name, url, referrer string
		want                event.Channel
		utm                 utm
	}{
		// Direct and internal.
		{"no referrer", page, "", event.ChannelDirect, utm{}},
		{"garbage referrer", page, "not a url", event.ChannelDirect, utm{}},
		{"same host", page, "https://shop.example/", event.ChannelInternal, utm{}},
		{"www and case", page, "https://WWW.Shop.Example:443/cart", event.ChannelInternal, utm{}},
		{"internal with utm", page + "?utm_campaign=banner", "https://shop.example/", event.ChannelInternal, utm{Campaign: "banner"}},
		{"subdomain is referral", page, "https://blog.shop.example/post", event.ChannelReferral, utm{}},

		// Search engines.
		{"google", page, "https://www.google.com/", event.ChannelSearch, utm{}},
		{"google country", page, "https://www.google.co.uk/search?q=x", event.ChannelSearch, utm{}},
		{"bing", page, "https://www.bing.com/search?q=shoes", event.ChannelSearch, utm{}},
		{"duckduckgo", page, "https://duckduckgo.com/", event.ChannelSearch, utm{}},
		{"yahoo", page, "https://search.yahoo.com/", event.ChannelSearch, utm{}},
		{"yandex", page, "https://yandex.ru/search/?text=x", event.ChannelSearch, utm{}},
		{"baidu", page, "https://www.baidu.com/link?url=x", event.ChannelSearch, utm{}},
		{"ecosia", page, "https://www.ecosia.org/", event.ChannelSearch, utm{}},
		{"google app", page, "android-app://com.google.android.googlequicksearchbox/", event.ChannelSearch, utm{}},
		{"utm organic", page + "?utm_source=google&utm_medium=organic", "", event.ChannelSearch, utm{Source: "google", Medium: "organic"}},

		// Social networks.
		{"t.co", page, "https://t.co/abc", event.ChannelSocial, utm{}},
		{"x.com", page, "https://x.com/someone/status/1", event.ChannelSocial, utm{}},
		{"facebook mobile", page, "https://m.facebook.com/", event.ChannelSocial, utm{}},
		{"instagram link shim", page, "https://l.instagram.com/", event.ChannelSocial, utm{}},
		{"linkedin", page, "https://www.linkedin.com/feed/", event.ChannelSocial, utm{}},
		{"reddit", page, "https://old.reddit.com/r/golang/", event.ChannelSocial, utm{}},
		{"youtube", page, "https://www.youtube.com/", event.ChannelSocial, utm{}},
		{"tiktok", page, "https://www.tiktok.com/", event.ChannelSocial, utm{}},
		{"pinterest country", page, "https://www.pinterest.co.uk/", event.ChannelSocial, utm{}},
		{"hacker news", page, "https://news.ycombinator.com/item?id=1", event.ChannelSocial, utm{}},
		{"facebook app", page, "android-app://com.facebook.katana/", event.ChannelSocial, utm{}},
		{"utm social medium", page + "?utm_medium=social&utm_campaign=a+b", "", event.ChannelSocial, utm{Medium: "social", Campaign: "a b"}},
		{"utm social source", page + "?utm_source=Facebook&utm_campaign=launch", "", event.ChannelSocial, utm{Source: "Facebook", Campaign: "launch"}},
		{"utm source ig", page + "?utm_source=ig", "", event.ChannelSocial, utm{Source: "ig"}},
		{"short label only as a name", page, "https://x.example.org/", event.ChannelReferral, utm{}},

		// Email.
		{"utm email", page + "?utm_source=newsletter&utm_medium=email&utm_campaign=nov%20sale", "", event.ChannelEmail, utm{Source: "newsletter", Medium: "email", Campaign: "nov sale"}},
		{"utm source newsletter", page + "?utm_source=Newsletter", "https://www.google.com/", event.ChannelEmail, utm{Source: "Newsletter"}},
		{"gmail", page, "https://mail.google.com/mail/u/0/", event.ChannelEmail, utm{}},
		{"outlook", page, "https://outlook.live.com/", event.ChannelEmail, utm{}},
		{"gmail app", page, "android-app://com.google.android.gm/", event.ChannelEmail, utm{}},

		// Paid: click ids and paid media win over everything.
		{"cpc", page + "?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=running+shoes&utm_content=ad1", "https://www.google.com/",
			event.ChannelPaid, utm{Source: "google", Medium: "cpc", Campaign: "spring", Term: "running shoes", Content: "ad1"}},
		{"ppc upper case", page + "?utm_medium=PPC", "", event.ChannelPaid, utm{Medium: "PPC"}},
		{"paid social", page + "?utm_source=facebook&utm_medium=paid_social", "https://m.facebook.com/", event.ChannelPaid, utm{Source: "facebook", Medium: "paid_social"}},
		{"display", page + "?utm_medium=display", "https://ads.example.net/", event.ChannelPaid, utm{Medium: "display"}},
		{"gclid", page + "?gclid=abc123", "https://www.google.com/", event.ChannelPaid, utm{}},
		{"fbclid", page + "?fbclid=xyz", "", event.ChannelPaid, utm{}},
		{"msclkid", page + "?q=1&msclkid=xyz#top", "https://www.bing.com/", event.ChannelPaid, utm{}},
		{"empty click id", page + "?gclid=", "", event.ChannelDirect, utm{}},

		// Referral.
		{"blog", page, "https://blog.example.org/post", event.ChannelReferral, utm{}},
		{"google docs is still google", page, "https://docs.google.com/", event.ChannelSearch, utm{}},
		{"utm unknown medium", page + "?utm_source=partner&utm_campaign=x#top", "", event.ChannelReferral, utm{Source: "partner", Campaign: "x"}},
		{"utm after fragment ignored", page + "#utm_source=x", "", event.ChannelDirect, utm{}},
		{"first value wins", page + "?utm_source=a&utm_source=b", "", event.ChannelReferral, utm{Source: "a"}},
		{"bad escape kept", page + "?utm_campaign=100%", "", event.ChannelReferral, utm{Campaign: "100%"}},
		{"invalid utf-8 dropped", page + "?utm_campaign=%ff%fe", "", event.ChannelDirect, utm{}},
		{"unicode", page + "?utm_campaign=%C3%A9t%C3%A9", "", event.ChannelReferral, utm{Campaign: "été"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ch := enrich.Channel(tt.url, tt.referrer)
			if ch != tt.want || u != tt.utm {
				t.Errorf("Channel(%q, %q)\n  = %v %+v\n want %v %+v", tt.url, tt.referrer, ch, u, tt.want, tt.utm)
			}
		})
	}
}

func TestUTMValueBounded(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	u, _ := enrich.Channel("https://a.example/?utm_term="+url.QueryEscape(long), "")
	if len(u.Term) > 256 || !utf8.ValidString(u.Term) || !strings.HasPrefix(long, u.Term) || len(u.Term) < 255 {
		t.Errorf("utm_term of %d bytes kept as %d bytes (valid %v)", len(long), len(u.Term), utf8.ValidString(u.Term))
	}
}

// FuzzChannel: any URL and referrer give a known channel and UTM values
// that are short valid UTF-8, and agree with net/url where it parses.
func FuzzChannel(f *testing.F) {
	f.Add("https://shop.example/?utm_source=a%20b&utm_medium=cpc", "https://www.google.com/")
	f.Add("https://shop.example/?gclid=1#x", "android-app://com.google.android.gm/")
	f.Add("?utm_campaign=%", "://")
	f.Fuzz(func(t *testing.T, page, ref string) {
		u, ch := enrich.Channel(page, ref)
		if ch < event.ChannelDirect || ch > event.ChannelInternal {
			t.Fatalf("channel %d", ch)
		}
		for _, v := range []string{u.Source, u.Medium, u.Campaign, u.Term, u.Content} {
			if len(v) > 256 || !utf8.ValidString(v) {
				t.Fatalf("UTM value %q", v)
			}
		}
		if i := strings.IndexByte(page, '?'); i >= 0 {
			raw, _, _ := strings.Cut(page[i+1:], "#")
			q, err := url.ParseQuery(raw)
			if err == nil && plainKeys(raw) {
				if want := q.Get("utm_source"); len(want) <= 256 && utf8.ValidString(want) && want != "" && q["utm_source"][0] != "" && u.Source != want {
					t.Fatalf("utm_source %q, net/url says %q", u.Source, want)
				}
			}
		}
	})
}

// plainKeys reports whether no key of the query needs decoding (we read
// keys as written; net/url decodes them).
func plainKeys(raw string) bool {
	for _, pair := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+;") {
			return false
		}
	}
	return true
}
