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
// The query API's routes are one table (queryRoutes); openapi.json, served
// at /v1/openapi.json, documents every route, status and error shape, and
// the end-to-end tests validate every answer against it. Site-wide
// questions (sitewide.go) are read once into a siteQuery and answered by
// the accumulator newSiteAcc builds from it: over the node's own store, or,
// on a cluster's query and all nodes (Deps.Scatter), by every store over
// its share of the partitions (Server.Aggregate) and merged. The export
// and the UI's pages read whole trails there through the cluster's router
// too, every store streaming its share (Server.ScanShare, clusterscan.go).
//
// # Usage
//
// Assemble builds the whole stack, store → enricher → writer → server, as
// `touchtrail serve` and the test launcher (collectortest) both do:
//
//	stack, err := collector.Assemble(collector.Assembly{Store: badger.Config{Dir: dir}, Collector: cfg, Log: log})
//	go stack.Serve(ln)
//	…
//	stack.Close(ctx) // HTTP, then the writer's last group, then the enricher and the store
//
// New builds only the server, on components made elsewhere.
package collector
