package enrich_test

import (
	"errors"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// Referrer spam is dropped and counted like bot traffic: a listed domain,
// a subdomain of one (any depth, any case, with a port), a site's own
// additions; a normal referrer, or a domain that merely ends in a listed
// name's letters, is kept.
func TestReferrerSpam(t *testing.T) {
	e := newEnricher(t, enrich.Config{
		SpamReferrers:     []string{"spam.example"},
		SiteSpamReferrers: map[string][]string{"shop": {"*.rival-seo.example"}},
	})
	f := func(site, ref string, spam bool) {
		t.Helper()
		tp := event.Touchpoint{Type: event.TypePageview, Site: site, URL: "https://shop.example/", Referrer: ref, UserAgent: chrome}
		err := e.Enrich(&tp)
		if spam && !errors.Is(err, enrich.ErrSpam) || !spam && err != nil {
			t.Errorf("site %s referrer %q: err %v, want spam %v", site, ref, err, spam)
		}
	}
	f("shop", "https://semalt.com/", true)                    // on Matomo's list
	f("shop", "http://www.Semalt.com:8080/crawler?x=1", true) // a subdomain, upper case, a port
	f("shop", "https://a.b.darodar.com/", true)               // deeper
	f("shop", "https://buttons-for-website.com", true)        // no path
	f("shop", "https://news.spam.example/", true)             // Config.SpamReferrers
	f("shop", "https://x.rival-seo.example/", true)           // the site's own
	f("blog", "https://x.rival-seo.example/", false)          // … only for that site
	f("shop", "https://www.google.com/", false)               // a search engine
	f("shop", "https://notsemalt.com/", false)                // not a subdomain
	f("shop", "https://semalt.com.shop.example/", false)      // the listed name inside another host
	f("shop", "", false)                                      // no referrer
	f("shop", "android-app://com.google.android.gm/", false)  // an app
	if s := e.Stats(); s.SpamDropped != 6 || s.BotsDropped != 0 {
		t.Errorf("stats %+v: want 6 spam dropped", s)
	}
}

// With KeepBots, spam is kept, flagged as bot traffic, and counted.
func TestReferrerSpamKept(t *testing.T) {
	e := newEnricher(t, enrich.Config{KeepBots: true})
	tp := event.Touchpoint{Type: event.TypePageview, URL: "https://shop.example/", Referrer: "https://semalt.com/", UserAgent: chrome}
	if err := e.Enrich(&tp); err != nil {
		t.Fatal(err)
	}
	if !tp.Bot {
		t.Error("spam kept without the bot flag")
	}
	if s := e.Stats(); s.SpamKept != 1 || s.SpamDropped != 0 {
		t.Errorf("stats %+v: want 1 spam kept", s)
	}
}

func TestSpamReferrersConfig(t *testing.T) {
	for _, bad := range []string{"", "localhost", "https://spam.example/", "spam.example/x", "a b.example"} {
		if err := (enrich.Config{SpamReferrers: []string{bad}}).Validate(); err == nil {
			t.Errorf("spam_referrers %q accepted", bad)
		}
		if err := (enrich.Config{SiteSpamReferrers: map[string][]string{"shop": {bad}}}).Validate(); err == nil {
			t.Errorf("site spam_referrers %q accepted", bad)
		}
	}
}
