// Package js holds the browser snippet: src/ (readable), test/ (node --test),
// dist/ (built by `make js`, committed). The collector serves Tracker as /t.js,
// Chat as /t-chat.js, Checkout as /t-checkout.js, Engage as /t-engage.js and Feedback as /t-feedback.js. It imports nothing but
// embed.
package js

import _ "embed"

// Tracker is dist/t.js, the minified snippet: page views (SPA routes and the
// back/forward cache too), searches (URL and forms) and the touchtrail(…)
// API, batched and sent as text/plain with retries. Read-only: never modify
// it.
//
//go:embed dist/t.js
var Tracker []byte

// Chat is dist/t-chat.js: Tracker plus clicks on [data-touchtrail-chat] and
// hooks into the open events of the common chat widgets (Intercom, Crisp,
// Tawk.to, Zendesk messaging, LiveChat), for sites that run a chat.
// Read-only: never modify it.
//
//go:embed dist/t-chat.js
var Chat []byte

// Checkout is dist/t-checkout.js, the add-on that records checkout steps
// marked on the page (data-touchtrail-checkout-step), loaded beside Tracker
// or Chat on the pages that carry the markup. Read-only: never modify it.
//
//go:embed dist/t-checkout.js
var Checkout []byte

// Engage is dist/t-engage.js, the add-on that sends one engagement
// touchpoint per page view (engaged milliseconds, deepest scroll) when the
// page is hidden or left, loaded beside Tracker or Chat where the site asks.
// Read-only: never modify it.
//
//go:embed dist/t-engage.js
var Engage []byte

// Feedback is dist/t-feedback.js, the add-on that shows an in-page feedback
// prompt (CSAT 1–5 or helpful yes/no) at moments the page marks with
// data-touchtrail-feedback, loaded only where a site asks for feedback.
// Read-only: never modify it.
//
//go:embed dist/t-feedback.js
var Feedback []byte
