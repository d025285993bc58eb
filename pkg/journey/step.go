package journey

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Step selects touchpoints for funnels, paths and conversions:
//
//	type                 any touchpoint of that type ("search", "chat_open")
//	pageview:/path-glob  a page view whose URL path matches ("pageview:/help*")
//	checkout_step:N      checkout step N
//	custom:name          the custom event called name
//	search:text          a search whose query contains text
//	chat_open:widget     a chat opened in that widget
type Step struct {
	Type   event.Type `json:"-"`
	Arg    string     `json:"-"` // glob, name, text or widget
	Number uint32     `json:"-"` // checkout_step N
}

// String returns the step in the syntax ParseStep reads.
func (s Step) String() string {
	switch {
	case s.Number > 0:
		return fmt.Sprintf("%s:%d", s.Type, s.Number)
	case s.Arg != "":
		return s.Type.String() + ":" + s.Arg
	}
	return s.Type.String()
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

// ParseSteps reads a comma-separated list of steps.
func ParseSteps(s string) ([]Step, error) {
	var steps []Step
	for _, part := range strings.Split(s, ",") {
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
		return nil, fmt.Errorf("no steps")
	}
	return steps, nil
}

// Match reports whether tp is this step.
func (s Step) Match(tp *event.Touchpoint) bool {
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
		return strings.Contains(strings.ToLower(tp.Query), strings.ToLower(s.Arg))
	case event.TypeChatOpen:
		return tp.Widget == s.Arg
	default:
		return tp.Name == s.Arg
	}
}

// Label names a touchpoint as a node of a path: "pageview /pricing",
// "checkout_step 2", "custom signup", or its type.
func Label(tp *event.Touchpoint) string {
	switch tp.Type {
	case event.TypePageview:
		return "pageview " + urlPath(tp.URL)
	case event.TypeCheckoutStep:
		return "checkout_step " + strconv.FormatUint(uint64(tp.Step), 10)
	case event.TypeCustom:
		return "custom " + tp.Name
	}
	return tp.Type.String()
}
