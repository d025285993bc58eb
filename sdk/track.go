package sdk

import (
	"fmt"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// visitor parses a visitor id: the snippet's 32 hex characters, a UUID, or
// any other string of up to 128 bytes (hashed to an id).
func visitor(v string) (event.VisitorID, error) {
	id, err := event.ParseVisitor(v)
	if err != nil {
		return id, fmt.Errorf("sdk: visitor: %w", err)
	}
	return id, nil
}

func (c *Client) track(v string, e Event) error {
	id, err := visitor(v)
	if err != nil {
		return err
	}
	e.Visitor = id
	return c.Track(e)
}

// Pageview records a server-rendered page view.
func (c *Client) Pageview(visitor, url, title string) error {
	return c.track(visitor, Event{Type: event.TypePageview, URL: url, Title: title, Results: -1})
}

// Search records a site or help-centre search and how many results it gave
// (-1: unknown; 0 is a friction signal).
func (c *Client) Search(visitor, query string, results int) error {
	return c.track(visitor, Event{Type: event.TypeSearch, Query: query, Results: int32(max(results, -1))})
}

// ChatOpen records that the visitor opened a chat (or a support ticket).
func (c *Client) ChatOpen(visitor, widget string) error {
	return c.track(visitor, Event{Type: event.TypeChatOpen, Widget: widget, Results: -1})
}

// Step is one step of the purchase funnel.
type Step struct {
	Step     int     // 1..n
	Name     string  // e.g. "shipping", "payment", "order placed"
	Value    float64 // cart value
	Currency string  // ISO 4217
}

// CheckoutStep records a step of the purchase funnel, e.g. the order placed.
func (c *Client) CheckoutStep(visitor string, s Step) error {
	return c.track(visitor, Event{Type: event.TypeCheckoutStep, Step: uint32(max(s.Step, 0)), Name: s.Name,
		Value: s.Value, Currency: s.Currency, Results: -1})
}

// Feedback records a rating (CSAT, NPS) with an optional comment.
func (c *Client) Feedback(visitor string, score, scale int, comment string) error {
	return c.track(visitor, Event{Type: event.TypeFeedback, Score: int32(score), Scale: int32(scale), Comment: comment, Results: -1})
}

// Identify stitches the visitor to a known user id: the user's trail then
// holds every visitor identified as it.
func (c *Client) Identify(visitor, user string) error {
	return c.track(visitor, Event{Type: event.TypeIdentify, User: user, Results: -1})
}
