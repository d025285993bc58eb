package journey_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// FuzzParseSteps: ParseSteps never panics, and what it accepts prints back
// to steps it reads the same.
func FuzzParseSteps(f *testing.F) {
	for _, s := range []string{"pageview:/pricing,checkout_step:1,checkout_step:3", "search:refund", "custom:a:b", "checkout_step:99999999999", ",,", "pageview:[", "chat_open"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		steps, err := journey.ParseSteps(s)
		if err != nil {
			return
		}
		for _, st := range steps {
			back, err := journey.ParseStep(st.String())
			if err != nil || back != st {
				t.Fatalf("%q: step %+v prints as %q, reads back %+v, %v", s, st, st.String(), back, err)
			}
		}
	})
}

// FuzzLocaleStage: under the default rules a locale prefix changes no
// page's stage ("/ar" + p is staged as p, when p has no locale prefix of its
// own: one prefix is cut, not two), and no path makes StageOf panic.
func FuzzLocaleStage(f *testing.F) {
	for _, s := range []string{"/faq.html", "/", "/help/returns?q=x", "/app/faq", "/ro-RO/checkout", "/%D8%A8", "/x#/faq", "//faq", "/faq://x"} {
		f.Add(s)
	}
	cfg := journey.DefaultConfig()
	localeShaped := regexp.MustCompile(`^/[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*(/|$)`)
	stage := func(path string) journey.Stage {
		pv := event.Touchpoint{Type: event.TypePageview, URL: "https://shop.example" + path, Channel: event.ChannelInternal}
		return journey.StageOf(&pv, cfg, false)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !strings.HasPrefix(p, "/") || localeShaped.MatchString(p) {
			stage(p)
			return
		}
		for _, loc := range []string{"/ar", "/ro-RO", "/zh-Hant-TW"} {
			if a, b := stage(loc+p), stage(p); a != b {
				t.Fatalf("%s%s is %s, %s is %s", loc, p, a, p, b)
			}
		}
	})
}
