// Package collector is touchtrail's HTTP front door, built on fasthttp: the
// open-but-bounded ingest path (POST /v1/events, the GET /v1/p.gif pixel,
// the /t.js snippet, CORS per site, body, batch and per-IP rate limits) and
// the closed query API (Bearer tokens with scopes, optionally limited to
// sites, compared in constant time), and help-desk webhooks
// (POST /v1/sites/{site}/hooks/{name}: each hook's secret, a signature or
// a token, mapped by a preset or JSON paths into ticket touchpoints).
//
// Other analytics clients may send to it too, each API switched on in
// Config.Compat: Segment's HTTP tracking API (and RudderStack's), PostHog's
// capture API, Plausible's and Umami's events APIs. collector/compat
// translates their payloads into wire batches, which then take the same
// ingest path (compatapi.go).
//
// Ingest decodes and validates each event, enriches it (device, geo,
// channel; the client IP is dropped after geo), encodes it and hands the
// records to a store.Writer, which group-commits requests together. In sync
// durability a request is answered only when its group is durable.
//
// # Usage
//
//	srv, err := collector.New(cfg, collector.Deps{Store: st, Writer: w, Enricher: en, Log: log})
//	go srv.Serve(ln)
//	…
//	srv.Shutdown(ctx) // then w.Close(ctx), then st.Close()
package collector
