// Package js holds the browser snippet: src/ (readable), test/ (node --test),
// dist/ (built by `make js`, committed). The collector serves Tracker as
// /t.js and Chat as /t-chat.js.
package js

import _ "embed"

// Tracker is the minified snippet, dist/t.js.
//
//go:embed dist/t.js
var Tracker []byte

// Chat is dist/t-chat.js, the chat-widget hooks that Tracker loads only when
// a known widget is on the page.
//
//go:embed dist/t-chat.js
var Chat []byte
