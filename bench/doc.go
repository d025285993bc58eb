// Package bench is touchtrail's benchmark harness behind `make bench`: a
// fasthttp load generator that replays a realistic site on loopback, and
// phases that measure the collector against ceilings measured in the same
// run — a no-op fasthttp server (ceiling A) and raw Badger WriteBatch
// (ceiling B) — so every figure is a ratio, robust to a noisy shared
// machine. Results and the optimisation log live in bench/README.md.
package bench
