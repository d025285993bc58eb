package event

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestValidateAccepts(t *testing.T) {
	for _, typ := range Types {
		for name, tp := range map[string]Touchpoint{"minimal": valid(typ), "full": full(typ)} {
			if err := tp.Validate(Limits{}, now); err != nil {
				t.Errorf("%s %s: %v", name, typ, err)
			}
		}
	}
	ok := func(name string, mutate func(*Touchpoint)) {
		t.Helper()
		tp := valid(TypePageview)
		mutate(&tp)
		if err := tp.Validate(Limits{}, now); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	ok("client clock 5 min fast", func(tp *Touchpoint) { tp.TS = now + 5*60e6 })
	ok("no ts", func(tp *Touchpoint) { tp.TS = 0 })
	ok("url of exactly 2 KiB", func(tp *Touchpoint) { tp.URL = strings.Repeat("u", 2048) })
	ok("32 props", func(tp *Touchpoint) { tp.Props = nProps(32) })
	ok("prop of exactly 256 bytes", func(tp *Touchpoint) { tp.Props = []Prop{{strings.Repeat("k", 256), strings.Repeat("v", 256)}} })
	ok("empty prop value", func(tp *Touchpoint) { tp.Props = []Prop{{"k", ""}} })
	ok("feedback without a scale", func(tp *Touchpoint) { tp.Type, tp.Score = TypeFeedback, 9 })
	ok("feedback score = scale", func(tp *Touchpoint) { tp.Type, tp.Score, tp.Scale = TypeFeedback, 10, 10 })
	ok("a user on a pageview", func(tp *Touchpoint) { tp.User = "u" })
	ok("the user agent is not validated", func(tp *Touchpoint) { tp.UserAgent = strings.Repeat("\xff", 4096) })
}

func nProps(n int) []Prop {
	props := make([]Prop, n)
	for i := range props {
		props[i] = Prop{fmt.Sprintf("k%d", i), "v"}
	}
	return props
}

func TestValidateRefuses(t *testing.T) {
	day := int64(24 * 3600e6)
	for _, c := range []struct {
		name   string
		typ    Type
		mutate func(*Touchpoint)
		field  string
	}{
		{"unknown type", TypePageview, func(tp *Touchpoint) { tp.Type = TypeUnknown }, "type"},
		{"type out of range", TypePageview, func(tp *Touchpoint) { tp.Type = typeCount }, "type"},
		{"missing id", TypePageview, func(tp *Touchpoint) { tp.ID = "" }, "id"},
		{"id over 64 bytes", TypePageview, func(tp *Touchpoint) { tp.ID = strings.Repeat("i", 65) }, "id"},
		{"missing visitor", TypePageview, func(tp *Touchpoint) { tp.Visitor = VisitorID{} }, "visitor"},
		{"missing site", TypePageview, func(tp *Touchpoint) { tp.Site = "" }, "site"},
		{"url over 2 KiB", TypePageview, func(tp *Touchpoint) { tp.URL = "https://x/" + strings.Repeat("a", 2039) }, "url"},
		{"referrer over 2 KiB", TypePageview, func(tp *Touchpoint) { tp.Referrer = strings.Repeat("a", 2049) }, "referrer"},
		{"title over 1 KiB", TypePageview, func(tp *Touchpoint) { tp.Title = strings.Repeat("a", 1025) }, "title"},
		{"33 props", TypePageview, func(tp *Touchpoint) { tp.Props = nProps(33) }, "props"},
		{"prop value over 256 bytes", TypePageview, func(tp *Touchpoint) { tp.Props = []Prop{{"k", strings.Repeat("v", 257)}} }, "props.k"},
		{"prop key over 256 bytes", TypePageview, func(tp *Touchpoint) { tp.Props = []Prop{{strings.Repeat("k", 257), "v"}} }, "props." + strings.Repeat("k", 32)},
		{"empty prop key", TypePageview, func(tp *Touchpoint) { tp.Props = []Prop{{"", "v"}} }, "props"},
		{"invalid UTF-8 in title", TypePageview, func(tp *Touchpoint) { tp.Title = "bad \xff" }, "title"},
		{"invalid UTF-8 in url", TypePageview, func(tp *Touchpoint) { tp.URL = "https://x/\xc3\x28" }, "url"},
		{"invalid UTF-8 in comment", TypeFeedback, func(tp *Touchpoint) { tp.Comment = "\xed\xa0\x80" }, "comment"}, // a UTF-8 encoded surrogate
		{"invalid UTF-8 in a prop value", TypePageview, func(tp *Touchpoint) { tp.Props = []Prop{{"k", "\xc3\x28"}} }, "props"},
		{"invalid UTF-8 in a prop key", TypePageview, func(tp *Touchpoint) { tp.Props = []Prop{{"k\xff", "v"}} }, "props"},
		{"ts more than a day ahead", TypePageview, func(tp *Touchpoint) { tp.TS = now + day + 1 }, "ts"},
		{"ts older than the retention", TypePageview, func(tp *Touchpoint) { tp.TS = now - 400*day - 1 }, "ts"},
		{"sent more than a day ahead", TypePageview, func(tp *Touchpoint) { tp.Sent = now + 2*day }, "sent"},
		{"sent older than the retention", TypePageview, func(tp *Touchpoint) { tp.Sent = 1 }, "sent"},
		{"search without query", TypeSearch, func(tp *Touchpoint) { tp.Query = "" }, "query"},
		{"checkout_step without step", TypeCheckoutStep, func(tp *Touchpoint) { tp.Step = 0 }, "step"},
		{"checkout_step of negative value", TypeCheckoutStep, func(tp *Touchpoint) { tp.Value = -1 }, "value"},
		{"identify without user", TypeIdentify, func(tp *Touchpoint) { tp.User = "" }, "user"},
		{"feedback score > scale", TypeFeedback, func(tp *Touchpoint) { tp.Score, tp.Scale = 6, 5 }, "score"},
		{"feedback negative score", TypeFeedback, func(tp *Touchpoint) { tp.Score = -1 }, "score"},
		{"feedback negative scale", TypeFeedback, func(tp *Touchpoint) { tp.Scale = -5 }, "score"},
		{"custom without name", TypeCustom, func(tp *Touchpoint) { tp.Name = "" }, "name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tp := valid(c.typ)
			c.mutate(&tp)
			err := tp.Validate(Limits{}, now)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("%v, want a *ValidationError", err)
			}
			if ve.Field != c.field {
				t.Errorf("field %q (%v), want %q", ve.Field, err, c.field)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) is false", err)
			}
			if ve.Reason == "" || !strings.HasPrefix(err.Error(), c.field+": ") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestValidateLimits(t *testing.T) {
	l := Limits{MaxURL: 10, MaxField: 5, MaxProps: 1, MaxProp: 3, MaxFuture: time.Minute, Retention: time.Hour, MaxIDLength: 4}
	f := func(field string, mutate func(*Touchpoint)) {
		t.Helper()
		tp := valid(TypePageview)
		tp.TS = now
		mutate(&tp)
		err := tp.Validate(l, now)
		if field == "" {
			if err != nil {
				t.Errorf("within the limits: %v", err)
			}
			return
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%v, want an error on %q", err, field)
		}
	}
	f("", func(tp *Touchpoint) {
		tp.URL, tp.Title, tp.ID, tp.Props = "0123456789", "01234", "1234", []Prop{{"abc", "def"}}
	})
	f("url", func(tp *Touchpoint) { tp.URL = "0123456789a" })
	f("title", func(tp *Touchpoint) { tp.Title = "012345" })
	f("id", func(tp *Touchpoint) { tp.ID = "12345" })
	f("props", func(tp *Touchpoint) { tp.Props = nProps(2) })
	f("props.k", func(tp *Touchpoint) { tp.Props = []Prop{{"k", "long"}} })
	f("ts", func(tp *Touchpoint) { tp.TS = now + 61e6 })
	f("ts", func(tp *Touchpoint) { tp.TS = now - 3601e6 })
	if d := (Limits{}).WithDefaults(); d != DefaultLimits {
		t.Errorf("zero limits: %+v", d)
	}
}
