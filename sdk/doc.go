// Package sdk is touchtrail's Go server-side SDK: backends send the
// touchpoints that happen on the server (orders placed, server-rendered
// pages) into the same per-visitor trails as the browser's, batched,
// retried and never blocking the caller. It imports only the standard
// library and pkg/event.
package sdk
