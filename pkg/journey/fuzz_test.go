package journey_test

import (
	"testing"

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
