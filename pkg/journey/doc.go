// Package journey turns trails into answers: sessions, lifecycle stages,
// funnels, paths, friction signals, attribution and segments. It is pure —
// functions and accumulators over []event.Touchpoint in trail order
// (event.Less: derived time, then seq), no I/O — so the query API can
// stream visitors from storage through it without holding all trails.
//
// The model (DESIGN.md, "Journey model"), each rule documented where it is
// implemented:
//
//   - Session (session.go): split by SessionGap of inactivity (exactly the
//     gap splits), a new UTM campaign, or a page view through a new
//     external channel.
//   - Stage (stage.go): discover → explore → buy → use → ask → engage, from
//     the touchpoint type and Config.StageRules (URL globs, tried again
//     without a locale prefix such as "/ar/" or "/ro-RO/"; a site's own
//     rules before the defaults with StageRulesFor; Config.Validate at
//     start-up).
//   - Step (step.go): "type", "pageview:/glob*", "checkout_step:N",
//     "custom:name", "search:text", "chat_open:widget"; funnels are
//     comma-separated steps.
//   - Funnel (funnel.go): steps in order within a window from step 1; per
//     visitor the earliest of the runs that reach furthest.
//   - Paths (paths.go): the sequence of up to depth labels from a start
//     step to the end of its session, and the transitions between depths.
//   - Friction (friction.go): ten signals (three of them about tickets:
//     search_then_ticket, ticket_after_purchase, repeat_ticket) and the
//     abandon pages, counted per visitor; quick_exit_help reads engagement
//     reports.
//   - SelfService (selfservice.go): of the visitors with a search or an ask
//     page, those with no chat and no ticket within SelfServiceWindow;
//     overall, by help page and by search term.
//   - Satisfaction (satisfaction.go): ratings (feedback, rated tickets) by
//     the stage they were given in and the touchpoint they follow; Map's
//     feedback curve follows the same rule.
//   - Engagement (engagement.go): engaged time and scroll depth per page
//     and over the help pages, from the engagement touchpoints of
//     t-engage.js (which stages, paths and the map pass over). It keeps
//     the engaged times of a page for its median (quantile.go).
//   - Attribution (attribution.go): first and last touch of each visitor's
//     first conversion in the range.
//   - Segment, Scope (segment.go): new, returning, lapsed for a range; a
//     Scope on any accumulator filters by range and segment.
//
// Accumulators keep counts, the strings they report and a few example
// visitor ids: trails passed to Add may be reused afterwards. Their Add
// does not allocate per touchpoint (nor, once warm, per visitor). They are
// not safe for concurrent use: give each goroutine its own.
//
// # Usage
//
// One visitor's journey, or a user's from its visitors' trails:
//
//	cfg := journey.DefaultConfig() // or journey.Config{}: zero fields are defaults
//	j := journey.Build(trail, cfg)
//	u := journey.Build(journey.Merge(phoneTrail, laptopTrail), cfg)
//
// Site-wide answers in one pass over the visitors active in [from, to):
//
//	steps, err := journey.ParseSteps("pageview:/pricing,checkout_step:1,checkout_step:3")
//	f := journey.NewFunnel(steps, 24*time.Hour)
//	fr := journey.NewFriction(cfg)
//	p := journey.NewPaths(&steps[0], 5, cfg)
//	at := journey.NewAttribution(cfg)
//	scope := journey.Scope{From: from, To: to, Segment: journey.SegmentReturning} // optional
//	f.Scope, fr.Scope, p.Scope, at.Scope = scope, scope, scope, scope
//	for visitor, trail := range visitors { // whole trails: the scope windows them
//		f.Add(trail)
//		fr.Add(visitor, trail)
//		p.Add(trail)
//		at.Add(trail, time.Time{})
//	}
//	funnel, friction, paths, attribution := f.Result(), fr.Result(5), p.Result(20), at.Result()
//
// The ask stage, the same way:
//
//	ss, sa := journey.NewSelfService(cfg), journey.NewSatisfaction(cfg)
//	ss.Scope, sa.Scope = scope, scope
//	for _, trail := range visitors {
//		ss.Add(trail)
//		sa.Add(trail)
//	}
//	self, satisfaction := ss.Result(20), sa.Result(20)
//
// # Across stores
//
// Each site-wide accumulator (Funnel, Paths, Friction, Attribution, Map,
// Engagement, SelfService, Satisfaction) has Merge and a serialisable
// partial state (encoding.BinaryMarshaler and BinaryUnmarshaler, a version
// byte and a fingerprint of its parameters — steps, window, start, depth,
// Config, Scope, channel — first). A store runs the accumulator over its own visitors and sends
// MarshalBinary; the query node reads each answer into an accumulator made
// with the same parameters and Scope, merges them, and asks Result once:
//
//	f := journey.NewFunnel(steps, within) // on the query node
//	for _, b := range partials {          // one per store
//		p := journey.NewFunnel(steps, within)
//		if err := p.UnmarshalBinary(b); err != nil {
//			return err // ErrCorrupt, or ErrMismatch for other parameters
//		}
//		if err := f.Merge(p); err != nil {
//			return err
//		}
//	}
//	answer := f.Result() // what one node with every visitor answers
//
// Merge order does not matter and the merged Result equals the Result of
// one accumulator given every visitor: counts add; top-N lists keep every
// key's count in the partial state and cut only in Result; Friction's
// examples are the smallest visitor ids; feedback means come from scores
// summed exactly by scale; medians are exact up to ExactValues values and
// from a DDSketch within RelativeAccuracy (1 %) beyond (quantile.go), on
// one node as merged. A partial state grows with the distinct keys it
// counts (paths, pages, search terms, touchpoint labels), as the
// accumulator does in memory; nothing is dropped to bound it.
// UnmarshalBinary refuses (ErrCorrupt) truncated or malformed input and
// leaves the accumulator as it was.
//
// Without a Scope, Add takes the trails as given: pass journey.Window(trail,
// from, to) and filter by journey.Classify yourself.
//
// Package journeytest generates visitors with planted answers for tests and
// benchmarks.
package journey
