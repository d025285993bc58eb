package journey_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// The default rules hold after a locale prefix; a path's own match wins over
// the match without its first segment.
func TestStageRulesLocalePrefix(t *testing.T) {
	cfg := journey.DefaultConfig()
	f := func(path string, want journey.Stage) {
		t.Helper()
		pv := event.Touchpoint{Type: event.TypePageview, URL: "https://shop.example" + path, Channel: event.ChannelInternal}
		if got := journey.StageOf(&pv, cfg, false); got != want {
			t.Errorf("page view of %s: stage %s, want %s", path, got, want)
		}
	}
	f("/faq.html", journey.StageAsk)
	f("/ar/faq.html", journey.StageAsk)
	f("/ar/faq.html?s=%D8%B4%D8%AD%D9%86", journey.StageAsk)
	f("/ro-RO/checkout", journey.StageBuy)
	f("/ro_RO/cart/", journey.StageBuy)
	f("/en/help/returns", journey.StageAsk)
	f("/EN/support", journey.StageAsk)
	f("/es-419/pricing", journey.StageBuy)
	f("/zh-Hant-TW/account/orders", journey.StageUse)
	f("/fil/dashboard", journey.StageUse)
	f("/app/faq", journey.StageUse)         // its own match first
	f("/faq/ar/checkout", journey.StageAsk) // idem
	f("/shop/faq", journey.StageExplore)    // "shop" is no language
	f("/e/faq", journey.StageExplore)
	f("/en-/faq", journey.StageExplore)
	f("/en-x/faq", journey.StageExplore)
	f("/en-abcdefghi/faq", journey.StageExplore)
	f("/ar", journey.StageExplore)
	f("/ar/", journey.StageExplore)
	f("/ar/products/7", journey.StageExplore)
	f("/", journey.StageExplore)

	search := event.Touchpoint{Type: event.TypeSearch, URL: "https://shop.example/ar/faq.html", Query: "شحن"}
	if got := journey.StageOf(&search, cfg, false); got != journey.StageAsk {
		t.Errorf("search on /ar/faq.html: %s, want ask", got)
	}
}

// help_then_chat fires on a localized help page, and the journey shows ask.
func TestHelpThenChatUnderLocale(t *testing.T) {
	trail := []event.Touchpoint{
		tp(0, event.TypePageview, "/ar/", channel(event.ChannelDirect)),
		tp(time.Minute, event.TypePageview, "/ar/faq.html", channel(event.ChannelInternal)),
		tp(2*time.Minute, event.TypeChatOpen, "/ar/faq.html"),
	}
	j := journey.Build(trail, journey.Config{})
	if !slices.Contains(j.Friction, journey.SignalHelpThenChat) {
		t.Errorf("friction %v: want %s", j.Friction, journey.SignalHelpThenChat)
	}
	if want := []journey.Stage{journey.StageExplore, journey.StageAsk}; !slices.Equal(j.Stages, want) {
		t.Errorf("stages %v, want %v", j.Stages, want)
	}
}

// A site's own rules come before the defaults, or replace them when asked.
func TestStageRulesFor(t *testing.T) {
	own := []journey.StageRule{{Pattern: "/faq/billing*", Stage: journey.StageBuy}, {Pattern: "/docs*", Stage: journey.StageUse}}
	rules := journey.StageRulesFor(own, false)
	if len(rules) != 2+len(journey.DefaultStageRules()) || rules[0] != own[0] || rules[2] != journey.DefaultStageRules()[0] {
		t.Fatalf("rules %v: want own then defaults", rules)
	}
	cfg := journey.Config{StageRules: rules}
	f := func(path string, want journey.Stage) {
		t.Helper()
		pv := event.Touchpoint{Type: event.TypePageview, URL: "https://shop.example" + path}
		if got := journey.StageOf(&pv, cfg, false); got != want {
			t.Errorf("page view of %s: stage %s, want %s", path, got, want)
		}
	}
	f("/faq/billing/vat", journey.StageBuy) // own rule wins over /faq*
	f("/ro-RO/faq/billing", journey.StageBuy)
	f("/faq/returns", journey.StageAsk) // a default still holds
	f("/en/docs/api", journey.StageUse)

	cfg.StageRules = journey.StageRulesFor(own, true)
	f("/faq/returns", journey.StageExplore)
	f("/docs", journey.StageUse)
	if none := journey.StageRulesFor(nil, true); none == nil || len(none) != 0 {
		t.Errorf("replace with no rules: %v, want an empty, non-nil list (nil means the defaults)", none)
	}
	// A pattern in the site's own letters matches the path as browsers send
	// it, and as written.
	cfg.StageRules = journey.StageRulesFor([]journey.StageRule{{Pattern: "/întrebări*", Stage: journey.StageAsk}, {Pattern: "/مساعدة*", Stage: journey.StageAsk}}, false)
	f("/ro-RO/%C3%AEntreb%C4%83ri/livrare", journey.StageAsk)
	f("/întrebări", journey.StageAsk)
	f("/ar/%D9%85%D8%B3%D8%A7%D8%B9%D8%AF%D8%A9", journey.StageAsk)
	f("/ar/%D8%A8%D8%AD%D8%AB", journey.StageExplore)
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
	// README's example.
	cfg.StageRules = journey.StageRulesFor([]journey.StageRule{{Pattern: "/ajutor*", Stage: journey.StageAsk},
		{Pattern: "/întrebări*", Stage: journey.StageAsk}, {Pattern: "/comanda*", Stage: journey.StageBuy},
		{Pattern: "/contul-meu*", Stage: journey.StageUse}, {Pattern: "/faq/billing*", Stage: journey.StageBuy}}, false)
	f("/ro-RO/ajutor/retur", journey.StageAsk)
	f("/faq/billing/vat", journey.StageBuy)
	f("/en/checkout", journey.StageBuy)
	f("/ro/contul-meu", journey.StageUse)
	own[0].Pattern = "/changed"
	if rules[0].Pattern != "/faq/billing*" {
		t.Error("StageRulesFor shares the caller's slice")
	}
}

func TestValidateStageRules(t *testing.T) {
	if err := journey.DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if err := (journey.Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	f := func(r journey.StageRule, want string) {
		t.Helper()
		cfg := journey.Config{StageRules: journey.StageRulesFor([]journey.StageRule{{Pattern: "/docs*", Stage: journey.StageUse}, r}, false)}
		err := cfg.Validate()
		if !errors.Is(err, journey.ErrBadStageRule) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "rule 2 ") {
			t.Errorf("%+v: error %v, want rule 2 and %q", r, err, want)
		}
	}
	f(journey.StageRule{Pattern: "[", Stage: journey.StageAsk}, `{pattern "[", stage ask}: a pattern is a URL path and starts with "/"`)
	f(journey.StageRule{Pattern: "faq*", Stage: journey.StageAsk}, `starts with "/"`)
	f(journey.StageRule{Pattern: "", Stage: journey.StageAsk}, `starts with "/"`)
	f(journey.StageRule{Pattern: "/faq[", Stage: journey.StageAsk}, `{pattern "/faq[", stage ask}: malformed glob`)
	f(journey.StageRule{Pattern: `/faq\`, Stage: journey.StageAsk}, "malformed glob")
	f(journey.StageRule{Pattern: "/x/[a-", Stage: journey.StageAsk}, "malformed glob")
	f(journey.StageRule{Pattern: "/faq*", Stage: journey.Stage(9)}, "unknown stage")
}
