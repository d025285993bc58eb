// Package testwait waits, in tests, for a condition to hold: the one poll
// loop that the tests of every package share, instead of sleeping a fixed
// time and hoping the system got there.
package testwait

import (
	"testing"
	"time"
)

// Every is how often a condition is polled.
const Every = 10 * time.Millisecond

// Until polls cond until it holds (true) or d has passed (false, after a
// last try).
func Until(d time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	tick := time.NewTicker(Every)
	defer tick.Stop()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case <-tick.C:
			if cond() {
				return true
			}
		case <-deadline.C:
			return cond()
		}
	}
}

// For polls cond until it holds, and fails tb naming what it waited for
// when it does not within d.
func For(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Until(d, cond) {
		tb.Fatalf("timed out after %s waiting for %s", d, what)
	}
}
