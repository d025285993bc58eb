// Package sdk is touchtrail's Go server-side SDK. Backends send the
// touchpoints that happen on the server — an order placed, a server-rendered
// page, a support ticket answered — into the same per-visitor trails as the
// browser's snippet.
//
// Tracking never blocks the caller: Track puts the event in a bounded queue
// and returns; a background worker batches events (by count, bytes and
// time), gzips them and sends them with the site's write key, retrying
// network errors, 5xx and 429 answers with exponential backoff and jitter.
// Re-sent batches are safe: the collector stores an event id once. When the
// queue is full, Track drops the event, counts it and returns ErrQueueFull.
//
// The package imports only the standard library and pkg/event.
//
// # Usage
//
//	c, err := sdk.New(sdk.Config{
//		Endpoint: "https://collector.example",
//		Site:     "shop",
//		WriteKey: os.Getenv("TOUCHTRAIL_WRITE_KEY"),
//	})
//	if err != nil { … }
//	defer c.Close(context.Background())
//
//	// In a handler: the browser snippet's visitor id comes from its cookie.
//	visitor := sdk.VisitorID(r)
//	c.CheckoutStep(visitor, sdk.Step{Step: 3, Name: "order placed", Value: 99.5, Currency: "EUR"})
//
// Server-rendered page views can be recorded by wrapping a handler:
//
//	http.ListenAndServe(":8000", sdk.Middleware(c, mux))
package sdk
