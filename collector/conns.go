package collector

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// connLimits bounds open connections, in total and per client address (an
// IPv6 client by its /64), so that a flood of idle connections can neither
// use up the process's file descriptors nor crowd other clients out: a
// connection over a cap is closed at once, before any byte is read.
type connLimits struct {
	maxTotal, maxPerAddr int

	mu     sync.Mutex
	total  int
	byAddr map[netip.Addr]int

	refused      *prometheus.CounterVec // by cap: total, per_address
	open         prometheus.GaugeFunc
	acceptErrors prometheus.Counter
}

func newConnLimits(maxTotal, maxPerAddr int) *connLimits {
	l := &connLimits{maxTotal: maxTotal, maxPerAddr: maxPerAddr, byAddr: map[netip.Addr]int{}}
	l.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "touchtrail_connections_refused_total", Help: "Connections closed at accept because a cap was reached, by cap (total, per_address).",
	}, []string{"cap"})
	l.open = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "touchtrail_connections_open", Help: "Client connections open now.",
	}, func() float64 { l.mu.Lock(); defer l.mu.Unlock(); return float64(l.total) })
	l.acceptErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "touchtrail_accept_errors_total", Help: "Temporary accept errors (such as too many open files) survived by backing off.",
	})
	return l
}

func (l *connLimits) register(reg prometheus.Registerer) {
	reg.MustRegister(l.refused, l.open, l.acceptErrors)
}

// addrKey is the address a per-client cap counts: IPv6 by /64, as one
// subscriber usually holds a whole /64.
func addrKey(a net.Addr) netip.Addr {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	ip, _ := netip.AddrFromSlice(tcp.IP)
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// admit counts c in, or says which cap refuses it.
func (l *connLimits) admit(key netip.Addr) (ok bool, cap string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.maxTotal > 0 && l.total >= l.maxTotal:
		return false, "total"
	case l.maxPerAddr > 0 && l.byAddr[key] >= l.maxPerAddr:
		return false, "per_address"
	}
	l.total++
	l.byAddr[key]++
	return true, ""
}

func (l *connLimits) release(key netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if n := l.byAddr[key] - 1; n > 0 {
		l.byAddr[key] = n
	} else {
		delete(l.byAddr, key)
	}
}

// limitedListener applies connLimits at accept and survives temporary
// accept errors (too many open files, an aborted handshake) by backing off
// and accepting again, where fasthttp would stop serving.
type limitedListener struct {
	net.Listener
	limits *connLimits
	warn   func(err error, backoff time.Duration)
}

func (ln *limitedListener) Accept() (net.Conn, error) {
	backoff := time.Duration(0)
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			if !temporaryAcceptError(err) {
				return nil, err
			}
			ln.limits.acceptErrors.Inc()
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			ln.warn(err, backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		key := addrKey(c.RemoteAddr())
		if ok, cap := ln.limits.admit(key); !ok {
			ln.limits.refused.WithLabelValues(cap).Inc()
			if tcp, isTCP := c.(*net.TCPConn); isTCP {
				tcp.SetLinger(0) // a reset: no TIME_WAIT kept for a refused flood
			}
			c.Close()
			continue
		}
		return &limitedConn{Conn: c, limits: ln.limits, key: key}, nil
	}
}

// temporaryAcceptError reports errors after which accepting again later can
// succeed.
func temporaryAcceptError(err error) bool {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

type limitedConn struct {
	net.Conn
	limits *connLimits
	key    netip.Addr
	closed atomic.Bool
}

func (c *limitedConn) Close() error {
	if !c.closed.Swap(true) {
		c.limits.release(c.key)
	}
	return c.Conn.Close()
}
