package collector

import (
	"testing"
	"time"
)

func TestLogThrottle(t *testing.T) {
	var lt logThrottle
	t0 := time.Unix(1000, 0)
	f := func(kind string, at time.Duration, wantOK bool, wantSuppressed int) {
		t.Helper()
		ok, n := lt.allow(kind, t0.Add(at))
		if ok != wantOK || n != wantSuppressed {
			t.Errorf("%s at %v: %v %d, want %v %d", kind, at, ok, n, wantOK, wantSuppressed)
		}
	}
	f("query 500", 0, true, 0)
	f("query 500", time.Second, false, 0)
	f("query 500", 2*time.Second, false, 0)
	f("events 500", 3*time.Second, true, 0) // another kind is not held back
	f("query 500", 11*time.Second, true, 2)
	f("query 500", 12*time.Second, false, 0)
}
