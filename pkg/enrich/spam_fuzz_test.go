package enrich

import (
	"strings"
	"testing"
)

// FuzzReferrerSpam: any referrer is read without panicking, and the set
// says spam exactly when the host or one of its parent domains is listed.
func FuzzReferrerSpam(f *testing.F) {
	f.Add("https://www.semalt.com/x?y#z")
	f.Add("http://user@SEMALT.com:8080/")
	f.Add("https://[2001:db8::1]:443/")
	f.Add("//.")
	f.Add("android-app://com.google.android.gm/")
	s := builtinSpam()
	f.Fuzz(func(t *testing.T, ref string) {
		h := referrerHost(ref)
		want := false
		for d := h; d != ""; {
			if _, ok := s[d]; ok {
				want = true
				break
			}
			_, rest, ok := strings.Cut(d, ".")
			if !ok {
				break
			}
			d = rest
		}
		if got := s.has(h); got != want {
			t.Fatalf("%q (host %q): has %v, want %v", ref, h, got, want)
		}
	})
}
