package collector

import (
	"math"
	"net/netip"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// ipLimiter is a token bucket per client IP (golang.org/x/time/rate), kept
// for the most recently seen IPs only.
type ipLimiter struct {
	mu      sync.Mutex // makes get-or-create atomic
	perSec  rate.Limit
	burst   int
	buckets *lru.Cache[netip.Addr, *rate.Limiter]
}

func newIPLimiter(perSec float64, burst, size int) *ipLimiter {
	if perSec < 0 {
		return nil
	}
	c, err := lru.New[netip.Addr, *rate.Limiter](size)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return &ipLimiter{perSec: rate.Limit(perSec), burst: burst, buckets: c}
}

// allow takes a token for ip; when none is left it says how long to wait.
func (l *ipLimiter) allow(ip netip.Addr, now time.Time) (ok bool, retryAfter int) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	lim, found := l.buckets.Get(ip)
	if !found {
		lim = rate.NewLimiter(l.perSec, l.burst)
		l.buckets.Add(ip, lim)
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return false, 1
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, int(math.Ceil(d.Seconds()))
	}
	return true, 0
}
