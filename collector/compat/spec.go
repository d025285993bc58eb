package compat

import (
	"math"

	"github.com/valyala/fastjson"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Spec event names: Segment's e-commerce and live chat specs, and the
// feedback event we define. PostHog and Segment events of these names
// become typed touchpoints; any other name is a custom event.
const (
	ProductsSearched      = "Products Searched"
	CheckoutStarted       = "Checkout Started"
	CheckoutStepViewed    = "Checkout Step Viewed"
	CheckoutStepCompleted = "Checkout Step Completed"
	OrderCompleted        = "Order Completed"
	LiveChatStarted       = "Live Chat Conversation Started"
	FeedbackSubmitted     = "Feedback Submitted"
)

// named types a named event (Segment track, PostHog capture) by the spec
// tables and fills its fields from props; the properties it took into
// typed fields are not repeated as props.
func (e *Event) named(name string, props *fastjson.Value, lim Limits, skip func(string) bool) {
	e.Name = name
	var took []string
	switch name {
	case ProductsSearched:
		if q := str(props, "query"); q != "" {
			e.Type, e.Query, e.Name = event.TypeSearch, q, ""
			took = append(took, "query")
			if n, ok := num(props, "results"); ok && n >= 0 && n <= math.MaxInt32 {
				e.Results = int(n)
				took = append(took, "results")
			}
		}
	case CheckoutStarted, CheckoutStepViewed, CheckoutStepCompleted, OrderCompleted:
		e.Type = event.TypeCheckoutStep
		switch name {
		case CheckoutStarted:
			e.Step = 1
		case OrderCompleted:
			e.Step = lim.OrderStep
		default:
			e.Step = 1
			if n, ok := num(props, "step"); ok && n >= 1 && n <= 1<<16 && n == math.Trunc(n) {
				e.Step = uint32(n)
			}
			took = append(took, "step")
		}
		for _, k := range [...]string{"value", "revenue", "total"} {
			if v, ok := num(props, k); ok && v >= 0 && !math.IsInf(v, 0) {
				e.Value = v
				took = append(took, k)
				break
			}
		}
		if c := str(props, "currency"); c != "" {
			e.Currency = c
			took = append(took, "currency")
		}
	case LiveChatStarted:
		e.Type, e.Name = event.TypeChatOpen, ""
		e.Widget = "live_chat"
		if w := str(props, "widget"); w != "" {
			e.Widget = w
			took = append(took, "widget")
		}
	case FeedbackSubmitted:
		e.Type, e.Name = event.TypeFeedback, ""
		if n, ok := num(props, "score"); ok {
			e.Score = int(n)
			took = append(took, "score")
		}
		if n, ok := num(props, "scale"); ok {
			e.Scale = int(n)
			took = append(took, "scale")
		}
		if c := str(props, "comment"); c != "" {
			e.Comment = c
			took = append(took, "comment")
		}
	default:
		e.Type = event.TypeCustom
	}
	if e.Type == event.TypeUnknown { // a search without a query
		e.Type = event.TypeCustom
	}
	if props == nil {
		return
	}
	o := object(props)
	e.addProps(o, "", lim, func(k string) bool {
		for _, t := range took {
			if k == t {
				return true
			}
		}
		return skip != nil && skip(k)
	})
}
