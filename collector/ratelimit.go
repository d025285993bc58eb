package collector

import (
	"math"
	"net/netip"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// ipLimiter is a token bucket per client IP (per /64 for IPv6) (golang.org/x/time/rate), kept
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

// bucketKey is the rate-limit bucket of ip: the address for IPv4, its /64
// for IPv6 (one subscriber, one LAN, gets a /64 and may use any address
// in it).
func bucketKey(ip netip.Addr) netip.Addr {
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// allow takes a token for ip's bucket; when none is left it says how long
// to wait.
func (l *ipLimiter) allow(ip netip.Addr, now time.Time) (ok bool, retryAfter int) {
	if l == nil {
		return true, 0
	}
	ip = bucketKey(ip)
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
