package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// lang is one of the page languages: an index into messages' arrays.
type lang int

const (
	langEn lang = iota
	langAr
	langRo
	langCount
)

// langs are the page languages in catalog order, with their codes and
// names in themselves (for the switch).
var (
	langTags  = [langCount]language.Tag{language.English, language.Arabic, language.Romanian}
	langCodes = [langCount]string{"en", "ar", "ro"}
	langNames = [langCount]string{"English", "العربية", "Română"}
	matcher   = language.NewMatcher(langTags[:])
	cat       = buildCatalog()
	locales   = buildLocales()
)

const langCookie = "tt_lang"

func buildCatalog() catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for key, tr := range messages {
		for l, s := range tr {
			if err := b.SetString(langTags[l], key, s); err != nil {
				panic("BUG: message " + key + ": " + err.Error())
			}
		}
	}
	return b
}

func buildLocales() [langCount]*locale {
	var ls [langCount]*locale
	for l := range ls {
		ls[l] = &locale{lang: lang(l), p: message.NewPrinter(langTags[l], message.Catalog(cat))}
	}
	return ls
}

// negotiate picks the page language: ?lang= (the switch, which is then
// remembered in a cookie), the cookie, then Accept-Language.
func negotiate(w http.ResponseWriter, r *http.Request) *locale {
	if q := r.URL.Query().Get("lang"); q != "" {
		for l, c := range langCodes {
			if q == c {
				http.SetCookie(w, &http.Cookie{Name: langCookie, Value: c, Path: "/ui/", MaxAge: 365 * 24 * 3600,
					HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r)})
				return locales[l]
			}
		}
	}
	if c, err := r.Cookie(langCookie); err == nil {
		for l, code := range langCodes {
			if c.Value == code {
				return locales[l]
			}
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, _ := matcher.Match(tags...)
	return locales[i]
}

// locale formats text, numbers and dates for one language. It is safe for
// concurrent use (a message.Printer is, for Sprintf).
type locale struct {
	lang lang
	p    *message.Printer
}

// Code is the language code ("en", "ar", "ro").
func (l *locale) Code() string { return langCodes[l.lang] }

// Dir is the text direction: "rtl" for Arabic, else "ltr".
func (l *locale) Dir() string {
	if l.RTL() {
		return "rtl"
	}
	return "ltr"
}

// RTL reports a right-to-left language.
func (l *locale) RTL() bool { return l.lang == langAr }

// T translates the message key, formatting args into it.
func (l *locale) T(key string, args ...any) string {
	if _, ok := messages[key]; !ok {
		return key // a missing key shows; TestCatalog keeps them away
	}
	return l.p.Sprintf(key, args...)
}

// N formats an integer with the locale's digits and grouping.
func (l *locale) N(n int) string { return l.p.Sprintf("%d", n) }

// Pct formats a 0..1 ratio as a percentage with one decimal.
func (l *locale) Pct(r float64) string { return l.p.Sprintf("%.1f%%", 100*r) }

// digits formats a non-negative integer with the locale's digits and no
// grouping (years, days, clock times).
func (l *locale) digits(n int, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	if l.lang != langAr {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		b.WriteRune('٠' + (c - '0'))
	}
	return b.String()
}

// Date formats a day: "Nov 25, 2026", "25 نوفمبر 2026", "25 nov. 2026".
func (l *locale) Date(t time.Time) string {
	t = t.UTC()
	m := monthNames[l.lang][t.Month()-1]
	d, y := l.digits(t.Day(), 0), l.digits(t.Year(), 0)
	if l.lang == langEn {
		return m + " " + d + ", " + y
	}
	return d + " " + m + " " + y
}

// Time formats a day and a time of day in UTC.
func (l *locale) Time(t time.Time) string {
	t = t.UTC()
	sep := ", "
	if l.lang == langAr {
		sep = "، "
	}
	return l.Date(t) + sep + l.digits(t.Hour(), 2) + ":" + l.digits(t.Minute(), 2)
}

// Dur formats seconds as a short duration: "45s", "2m 29s", "3h 5m" (in
// the locale's units and digits).
func (l *locale) Dur(sec float64) string {
	s := int(sec + 0.5)
	switch {
	case s < 60:
		return l.T("dur.s", s)
	case s < 3600:
		return l.T("dur.m", s/60, s%60)
	}
	return l.T("dur.h", s/3600, s%3600/60)
}

// Stage names a lifecycle stage.
func (l *locale) Stage(s fmt.Stringer) string { return l.T("stage." + s.String()) }

// Signal names a friction signal.
func (l *locale) Signal(s string) string { return l.T("sig." + s) }

// Channel names a channel ("" is unknown).
func (l *locale) Channel(c string) string { return l.T("ch." + c) }

// Type names a touchpoint type.
func (l *locale) Type(t string) string { return l.T("type." + t) }

// Label names a path node or top touchpoint (journey.Label: "pageview
// /pricing", "checkout_step 2", "search"): the type translated, the rest
// as it is.
func (l *locale) Label(label string) string {
	typ, rest, ok := strings.Cut(label, " ")
	if _, known := messages["type."+typ]; !known {
		return label
	}
	if !ok {
		return l.Type(typ)
	}
	if typ == "checkout_step" {
		n, err := strconv.Atoi(rest)
		if err == nil {
			rest = l.N(n)
		}
	}
	if l.RTL() {
		rest = "\u2066" + rest + "\u2069" // a left-to-right isolate: paths keep their order
	}
	return l.Type(typ) + " " + rest
}

// Arrow joins the steps of a sequence: " → ", or " ← " right to left, so
// that it points the way the sequence reads.
func (l *locale) Arrow() string {
	if l.RTL() {
		return " ← "
	}
	return " → "
}
