package collector

import (
	"sync"
	"time"
)

// logEvery is the least time between two log lines of one kind of failure.
const logEvery = 10 * time.Second

// logThrottle lets one log line of each kind through per logEvery and
// counts the others, which the next line that passes reports (VictoriaMetrics'
// logger.WithThrottler). A storage outage thus writes a line every 10
// seconds, not one per request. The zero value is ready; safe for
// concurrent use.
type logThrottle struct {
	mu    sync.Mutex
	kinds map[string]*throttled
}

type throttled struct {
	last       time.Time
	suppressed int
}

// allow reports whether a line of kind may be logged now and how many were
// suppressed since the last one.
func (t *logThrottle) allow(kind string, now time.Time) (ok bool, suppressed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.kinds == nil {
		t.kinds = map[string]*throttled{}
	}
	k := t.kinds[kind]
	if k == nil {
		if len(t.kinds) >= 1000 { // kinds are route × status: bounded, but stay safe
			clear(t.kinds)
		}
		k = &throttled{}
		t.kinds[kind] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < logEvery {
		k.suppressed++
		return false, 0
	}
	k.last, suppressed, k.suppressed = now, k.suppressed, 0
	return true, suppressed
}
