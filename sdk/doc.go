// Package sdk is touchtrail's Go server-side SDK. Backends send the
// touchpoints that happen on the server — an order placed, a server-rendered
// page, a support ticket answered — into the same per-visitor trails as the
// browser's snippet.
//
// Tracking never blocks the caller: Track (and the typed helpers Pageview,
// Search, ChatOpen, CheckoutStep, Feedback, Identify and Custom) fills the
// event's id, per-visitor sequence and time, puts it in a bounded queue and
// returns. When the queue is full the event is dropped, counted and
// ErrQueueFull returned. One background worker batches events by count,
// bytes and time, gzips each batch and POSTs it to Endpoint/v1/events with
// the site's write key, at most MaxInFlight batches at once. Network
// errors, 5xx and 429 answers are retried with exponential backoff and
// jitter (a 429's Retry-After is honoured); other 4xx answers are not
// retried but reported to OnError. Re-sent batches are safe: the collector
// stores an event id once. Stats counts what happened to every event.
//
// Flush and Close wait for what is queued within their context's deadline
// and say how many events could not be delivered (ErrUndelivered).
//
// The snippet keeps its visitor id in a first-party cookie; VisitorID reads
// it, so a server-side touchpoint joins the browser visitor's trail.
// Middleware records the page views of server-rendered HTML pages.
//
// The SDK is its own Go module (github.com/touchtrail/touchtrail/sdk, go 1.22)
// and imports only the standard library: adding it to a backend adds no
// other module.
//
// # Usage
//
//	client, err := sdk.New(sdk.Config{
//		Endpoint: "https://collector.example",
//		Site:     "shop",
//		WriteKey: os.Getenv("TOUCHTRAIL_WRITE_KEY"),
//	})
//	if err != nil { … } // a *sdk.ConfigError
//	defer func() {
//		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
//		defer cancel()
//		if err := client.Close(ctx); err != nil { log.Print(err) } // "sdk: 3 events not delivered: …"
//	}()
//
//	// In a handler: the browser snippet's visitor id comes from its cookie.
//	client.CheckoutStep(sdk.VisitorID(r), sdk.Step{Step: 3, Name: "order placed", Value: 99.5, Currency: "EUR"})
//
//	// Anything else: an Event of any type.
//	client.Track(sdk.Event{Type: sdk.TypeSearch, Visitor: v, Query: "returns", Results: sdk.NoResults})
//
// Server-rendered page views are recorded by wrapping a handler:
//
//	http.ListenAndServe(":8000", sdk.Middleware(client, mux))
package sdk
