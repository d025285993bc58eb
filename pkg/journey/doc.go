// Package journey turns stored trails into answers: sessions, lifecycle
// stages, funnels, paths, friction signals, attribution and segments. It is
// pure: functions and accumulators over []event.Touchpoint in trail order,
// no I/O, so the query API can stream visitors from storage through them.
//
// # Usage
//
//	cfg := journey.DefaultConfig()
//	j := journey.Build(trail, cfg) // one visitor's (or user's) journey
//
//	steps, _ := journey.ParseSteps("pageview:/pricing,checkout_step:1,checkout_step:3")
//	f := journey.NewFunnel(steps, 24*time.Hour)
//	fr := journey.NewFriction(cfg)
//	for each visitor { f.Add(visitor, trail); fr.Add(visitor, trail) }
//	funnel, friction := f.Result(), fr.Result(5)
//
// Accumulators keep only counts, the strings they report and a few example
// visitor ids: trails passed to Add may be reused afterwards. They are not
// safe for concurrent use.
package journey
