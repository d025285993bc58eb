// Package js holds the browser snippet: src/ (readable), test/ (node --test),
// dist/ (built by `make js`, committed). The collector serves Tracker as /t.js
// and Chat as /t-chat.js. It imports nothing but embed.
package js

import _ "embed"

// Tracker is dist/t.js, the minified snippet: page views (SPA routes too),
// searches, chat clicks, checkout steps and the touchtrail(…) API, batched
// and sent as text/plain with retries. Read-only: never modify it.
//
//go:embed dist/t.js
var Tracker []byte

// Chat is dist/t-chat.js: Tracker plus hooks into the open events of the
// common chat widgets (Intercom, Crisp, Tawk.to, Zendesk messaging,
// LiveChat), for sites that run one of them. Read-only: never modify it.
//
//go:embed dist/t-chat.js
var Chat []byte
