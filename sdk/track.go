package sdk

// The typed helpers below build an Event of one type and Track it. Each
// takes the visitor first: the snippet's 32 hex characters (see VisitorID),
// a UUID, or any other string of up to 128 bytes (hashed to an id, the same
// string always to the same id). They return what Track returns, or an
// error matching ErrInvalid for an empty or over-long visitor. They are
// safe for concurrent use and never block.

func (c *Client) track(visitor string, e Event) error {
	e.Visitor = visitor
	return c.Track(e)
}

// Pageview records a page view, e.g. of a server-rendered page (Middleware
// does that for a whole handler).
func (c *Client) Pageview(visitor, url, title string) error {
	return c.track(visitor, Event{Type: TypePageview, URL: url, Title: title})
}

// Search records a site or help-centre search and how many results it gave:
// NoResults (a friction signal), Found(n) or UnknownResults.
func (c *Client) Search(visitor, query string, results Results) error {
	return c.track(visitor, Event{Type: TypeSearch, Query: query, Results: results})
}

// ChatOpen records that the visitor opened a chat, or a support ticket,
// through widget (a name of your choosing: "intercom", "ticket", …).
func (c *Client) ChatOpen(visitor, widget string) error {
	return c.track(visitor, Event{Type: TypeChatOpen, Widget: widget})
}

// Step is one step of the purchase funnel, for CheckoutStep.
type Step struct {
	Step     int     // 1..n, required
	Name     string  // e.g. "shipping", "payment", "order placed"
	Value    float64 // cart value
	Currency string  // ISO 4217, e.g. "EUR"
}

// CheckoutStep records a step of the purchase funnel, e.g. the order placed.
func (c *Client) CheckoutStep(visitor string, s Step) error {
	return c.track(visitor, Event{Type: TypeCheckoutStep, Step: s.Step, Name: s.Name, Value: s.Value, Currency: s.Currency})
}

// Feedback records a rating at a touchpoint (CSAT, NPS): score out of
// scale (e.g. 4 of 5, 9 of 10), with an optional comment.
func (c *Client) Feedback(visitor string, score, scale int, comment string) error {
	return c.track(visitor, Event{Type: TypeFeedback, Score: score, Scale: scale, Comment: comment})
}

// Identify records that the visitor is the known user (an account id of
// yours): the user's trail then holds every visitor identified as it.
func (c *Client) Identify(visitor, user string) error {
	return c.track(visitor, Event{Type: TypeIdentify, User: user})
}

// Custom records an event of the site's own naming (e.g. "invoice_paid")
// with optional properties (at most 32, 256 bytes each).
func (c *Client) Custom(visitor, name string, props ...Prop) error {
	return c.track(visitor, Event{Type: TypeCustom, Name: name, Props: props})
}

// Ticket is a help-desk ticket, for Client.Ticket.
type Ticket struct {
	ID       string // the help desk's ticket id, required
	Status   string // "opened", "replied" or "solved", required
	Channel  string // how it came: "email", "chat", "phone", "form", "social", "api" or "other"
	Category string // optional, up to 64 bytes
	Subject  string // optional, up to 256 bytes
}

// Ticket records a support ticket opened, answered or solved, in the trail
// of the visitor who asked (stage ask): a backend that opens tickets itself
// (a contact form), or one relaying its help desk. Help desks that call
// webhooks can post to the collector's POST /v1/sites/{site}/hooks/{name}
// instead. Score and scale, when the help desk rated the ticket, go in
// Track(Event{Type: TypeTicket, Ticket: t, Score: s, Scale: 5}).
func (c *Client) Ticket(visitor string, t Ticket) error {
	return c.track(visitor, Event{Type: TypeTicket, Ticket: t})
}
