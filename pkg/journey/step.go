package journey

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Step selects touchpoints, for funnels, path starts and conversions. Its
// text form (ParseStep, String) is
//
//	type                 any touchpoint of that type ("search", "chat_open")
//	pageview:/path-glob  a page view whose URL path matches the glob, where a
//	                     trailing "*" also matches deeper paths ("pageview:/help*")
//	checkout_step:N      checkout step N (N ≥ 1)
//	custom:name          the custom event called name
//	search:text          a search whose query contains text, ignoring case
//	chat_open:widget     a chat opened in that widget
//	feedback:name, identify:name  the Name field equals name (rarely useful)
//
// A funnel is a comma-separated list of steps (ParseSteps):
// "pageview:/pricing,checkout_step:1,checkout_step:3". Steps cannot
// contain commas.
type Step struct {
	Type   event.Type `json:"-"`
	Arg    string     `json:"-"` // glob, name, text or widget
	Number uint32     `json:"-"` // checkout_step N
}

// String returns the step in the syntax ParseStep reads.
func (s Step) String() string {
	switch {
	case s.Number > 0:
		return s.Type.String() + ":" + strconv.FormatUint(uint64(s.Number), 10)
	case s.Arg != "":
		return s.Type.String() + ":" + s.Arg
	}
	return s.Type.String()
}

// MarshalText writes the step's text form (JSON: a string).
func (s Step) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a step's text form.
func (s *Step) UnmarshalText(b []byte) error {
	st, err := ParseStep(string(b))
	if err == nil {
		*s = st
	}
	return err
}

// ParseStep reads one step.
func ParseStep(s string) (Step, error) {
	typ, arg, _ := strings.Cut(strings.TrimSpace(s), ":")
	st := Step{Type: event.ParseType(typ), Arg: arg}
	if !st.Type.Valid() {
		return st, fmt.Errorf("step %q: unknown touchpoint type %q", s, typ)
	}
	if st.Type == event.TypeCheckoutStep && arg != "" {
		n, err := strconv.ParseUint(arg, 10, 32)
		if err != nil || n == 0 {
			return st, fmt.Errorf("step %q: want checkout_step:N with N ≥ 1", s)
		}
		st.Number, st.Arg = uint32(n), ""
	}
	return st, nil
}

// ParseSteps reads a comma-separated list of steps; empty items are
// skipped.
func ParseSteps(s string) ([]Step, error) {
	var steps []Step
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		st, err := ParseStep(part)
		if err != nil {
			return nil, err
		}
		steps = append(steps, st)
	}
	if len(steps) == 0 {
		return nil, errors.New("no steps")
	}
	return steps, nil
}

// Match reports whether tp is this step. It does not allocate.
func (s *Step) Match(tp *event.Touchpoint) bool {
	if tp.Type != s.Type {
		return false
	}
	switch {
	case s.Number > 0:
		return tp.Step == s.Number
	case s.Arg == "":
		return true
	}
	switch s.Type {
	case event.TypePageview:
		return matchPath(s.Arg, urlPath(tp.URL))
	case event.TypeSearch:
		return containsFold(tp.Query, s.Arg)
	case event.TypeChatOpen:
		return tp.Widget == s.Arg
	default:
		return tp.Name == s.Arg
	}
}

// containsFold reports whether sub is within s, ignoring case (Unicode
// simple folding, byte windows of len(sub)).
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// Label names a touchpoint as a node of a path: "pageview /pricing",
// "checkout_step 2", "custom signup", "ticket opened", or its type
// ("search", "chat_open").
func Label(tp *event.Touchpoint) string { return string(appendLabel(nil, tp)) }

// appendLabel appends tp's Label to dst.
func appendLabel(dst []byte, tp *event.Touchpoint) []byte {
	dst = append(dst, tp.Type.String()...)
	switch tp.Type {
	case event.TypePageview:
		dst = append(dst, ' ')
		dst = append(dst, urlPath(tp.URL)...)
	case event.TypeCheckoutStep:
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(tp.Step), 10)
	case event.TypeCustom:
		dst = append(dst, ' ')
		dst = append(dst, tp.Name...)
	case event.TypeTicket:
		dst = append(dst, ' ')
		dst = append(dst, tp.Status.String()...)
	}
	return dst
}
