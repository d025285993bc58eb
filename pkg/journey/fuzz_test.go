package journey_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
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

// FuzzPartialState: no input makes an accumulator's UnmarshalBinary panic
// (the first byte after the version picks the accumulator); what it
// accepts answers, merges, and marshals to bytes that read back to the same
// answer.
func FuzzPartialState(f *testing.F) {
	vs, _ := journeytest.Generate(6, 40, mergeOpts)
	vs = withEngagement(vs, 6)
	kits := allKits()
	for _, kt := range kits {
		b, err := kt.fill(vs).MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		small, _ := kt.fill(vs[:2]).MarshalBinary()
		f.Add(small)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, kt := range kits {
			a := kt.make()
			if err := a.UnmarshalBinary(b); err != nil {
				continue
			}
			want := kt.result(a)
			again, err := a.MarshalBinary()
			if err != nil {
				t.Fatalf("%s: %v", kt.name, err)
			}
			back := kt.make()
			if err := back.UnmarshalBinary(again); err != nil {
				t.Fatalf("%s: re-marshalled state refused: %v", kt.name, err)
			}
			if err := kt.merge(back, a); err != nil {
				t.Fatalf("%s: %v", kt.name, err)
			}
			if !reflect.DeepEqual(kt.result(a), want) {
				t.Fatalf("%s: merging changed the merged-in state", kt.name)
			}
		}
	})
}
