// Package compat translates what other analytics clients send into
// touchtrail's own wire batch (the body of POST /v1/events), so that a site
// switches by changing one URL: Segment's HTTP tracking API (also what
// RudderStack's SDKs send), PostHog's capture API, Plausible's events API
// and Umami's.
//
// It only translates. The collector mounts the routes and puts every
// translated batch through the same path as POST /v1/events: admission
// before the body is read, decoding, validation, trust rules, enrichment
// (bots, geo, channel), rate limits and the batch writer. Nothing here
// writes anywhere.
//
// The mapping of each provider's fields is tabled in the README
// ("Drop-in for Segment, RudderStack, PostHog, Plausible and Umami").
//
// Usage:
//
//	var seg compat.Segment
//	var b compat.Batch
//	if err := seg.Parse(body, "batch", compat.Limits{}, &b); err != nil {
//		// 400: not a Segment body
//	}
//	wire := b.AppendWire(nil, site) // a POST /v1/events body
//
// Translators and batches are not safe for concurrent use: pool them. The
// strings of a Batch do not refer to the body: it may be reused.
package compat
