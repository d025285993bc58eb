package ui

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Numbers, dates, durations and labels in each locale.
func TestLocaleFormats(t *testing.T) {
	day := time.Date(2026, 11, 7, 9, 5, 0, 0, time.UTC)
	f := func(l lang, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %q, want %q", langCodes[l], got, want)
		}
	}
	en, ar, ro := locales[langEn], locales[langAr], locales[langRo]
	f(langEn, en.N(1234567), "1,234,567")
	f(langAr, ar.N(1234567), "١٬٢٣٤٬٥٦٧")
	f(langRo, ro.N(1234567), "1.234.567")
	f(langEn, en.Pct(0.2125), "21.2%")
	f(langRo, ro.Pct(0.5), "50,0%")
	f(langEn, en.Time(day), "Nov 7, 2026, 09:05")
	f(langAr, ar.Time(day), "٧ نوفمبر ٢٠٢٦، ٠٩:٠٥")
	f(langRo, ro.Date(day), "7 nov. 2026")
	f(langEn, en.Dur(149), "2m 29s")
	f(langAr, ar.Dur(45), "٤٥ ث")
	f(langRo, ro.Dur(3*3600+300), "3h 5m")
	f(langEn, en.Label("checkout_step 12"), "Checkout step 12")
	f(langRo, ro.Label("pageview /pricing"), "Vizualizare /pricing")
	f(langAr, ar.Label("pageview /pricing"), "مشاهدة صفحة \u2066/pricing\u2069")
	f(langEn, en.Label("teleport /x"), "teleport /x")
	f(langAr, ar.Arrow(), " ← ")
}

// The language comes from ?lang=, then the cookie, then Accept-Language,
// else English.
func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		query, cookie, accept string
		want                  lang
	}{
		{"", "", "", langEn},
		{"", "", "fr-FR,fr;q=0.9", langEn},
		{"", "", "ar-MA,fr;q=0.8", langAr},
		{"", "", "de;q=0.9,ro;q=0.8", langRo},
		{"", "ro", "ar", langRo},
		{"ar", "ro", "en", langAr},
		{"xx", "", "ro", langRo},
	} {
		r := httptest.NewRequest(http.MethodGet, "/ui/?lang="+c.query, nil)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: c.cookie})
		}
		r.Header.Set("Accept-Language", c.accept)
		if got := negotiate(httptest.NewRecorder(), r); got.lang != c.want {
			t.Errorf("%+v: %s, want %s", c, got.Code(), langCodes[c.want])
		}
	}
}
