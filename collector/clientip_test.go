package collector

import (
	"net"
	"net/netip"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestClientIP(t *testing.T) {
	trusted := []string{"10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.7"}
	f := func(name, header, peer string, lines []string, want string, malformed bool) {
		t.Helper()
		p, err := newProxies(header, trusted)
		if err != nil {
			t.Fatal(err)
		}
		var count counter
		p.malformed = &count
		s := &Server{proxies: p}
		var req fasthttp.Request
		for _, l := range lines {
			req.Header.Add(header, l)
		}
		var ctx fasthttp.RequestCtx
		pa := netip.MustParseAddrPort(peer)
		ctx.Init(&req, net.TCPAddrFromAddrPort(pa), nil)
		got := s.clientIP(&ctx)
		if got.String() != want {
			t.Errorf("%s: client %s, want %s", name, got, want)
		}
		if n := int(count); (n == 1) != malformed {
			t.Errorf("%s: malformed counted %v times, want counted: %v", name, n, malformed)
		}
	}
	xff := "X-Forwarded-For"
	one := func(s string) []string { return []string{s} }
	// Untrusted peers are never believed, whatever they send.
	f("untrusted peer, header ignored", xff, "198.51.100.9:5000", one("81.2.69.160"), "198.51.100.9", false)
	f("untrusted peer, garbage ignored", xff, "198.51.100.9:5000", one("nonsense"), "198.51.100.9", false)
	f("untrusted IPv6 peer", xff, "[2001:db8::1]:5000", one("10.0.0.1"), "2001:db8::1", false)
	// Trusted peer: the rightmost untrusted hop.
	f("one proxy", xff, "10.1.2.3:5000", one("81.2.69.160"), "81.2.69.160", false)
	f("client-sent hop before the real one", xff, "10.1.2.3:5000", one("1.2.3.4, 81.2.69.160"), "81.2.69.160", false)
	f("two trusted proxies", xff, "10.1.2.3:5000", one("1.2.3.4, 81.2.69.160, 10.9.9.9"), "81.2.69.160", false)
	f("single trusted address", xff, "192.0.2.7:80", one("81.2.69.160"), "81.2.69.160", false)
	f("next address not trusted", xff, "192.0.2.8:80", one("81.2.69.160"), "192.0.2.8", false)
	f("several header lines", xff, "10.1.2.3:5000", []string{"1.2.3.4", "81.2.69.160, 10.0.0.2"}, "81.2.69.160", false)
	f("several lines, last trusted", xff, "10.1.2.3:5000", []string{"81.2.69.160", "10.0.0.2"}, "81.2.69.160", false)
	f("all trusted: leftmost", xff, "10.1.2.3:5000", one("10.0.0.5, 10.0.0.6"), "10.0.0.5", false)
	f("no header: the peer", xff, "10.1.2.3:5000", nil, "10.1.2.3", false)
	f("port on a hop", xff, "10.1.2.3:5000", one("81.2.69.160:4711"), "81.2.69.160", false)
	f("IPv6 hop", xff, "10.1.2.3:5000", one("2001:db8::5"), "2001:db8::5", false)
	f("bracketed IPv6 with port", xff, "10.1.2.3:5000", one("[2001:db8::5]:443"), "2001:db8::5", false)
	f("bracketed IPv6", xff, "10.1.2.3:5000", one("[2001:db8::5]"), "2001:db8::5", false)
	f("mapped IPv4", xff, "10.1.2.3:5000", one("::ffff:81.2.69.160"), "81.2.69.160", false)
	f("trusted IPv6 proxy", xff, "[2001:db8:ffff::1]:80", one("81.2.69.160, 2001:db8:ffff::2"), "81.2.69.160", false)
	f("spaces and empty ends", xff, "10.1.2.3:5000", one("  81.2.69.160  "), "81.2.69.160", false)
	// Malformed: the walk stops at the nearest hop a trusted proxy vouched for.
	f("garbage rightmost", xff, "10.1.2.3:5000", one("81.2.69.160, bogus"), "10.1.2.3", true)
	f("garbage left of the client", xff, "10.1.2.3:5000", one("bogus, 81.2.69.160"), "81.2.69.160", false)
	f("garbage behind a trusted hop", xff, "10.1.2.3:5000", one("bogus, 10.0.0.9"), "10.0.0.9", true)
	f("empty element", xff, "10.1.2.3:5000", one("81.2.69.160,,"), "10.1.2.3", true)
	f("zone", xff, "10.1.2.3:5000", one("fe80::1%eth0"), "10.1.2.3", true)
	f("hostname", xff, "10.1.2.3:5000", one("example.com"), "10.1.2.3", true)
	f("overlong", xff, "10.1.2.3:5000", one("1111111111111111111111111111111111111111111111111111111111111111111"), "10.1.2.3", true)
	// RFC 7239.
	fwd := "Forwarded"
	f("forwarded", fwd, "10.1.2.3:5000", one("for=81.2.69.160;proto=https"), "81.2.69.160", false)
	f("forwarded, spoofed first", fwd, "10.1.2.3:5000", one(`for=1.2.3.4, for=81.2.69.160;by=10.1.2.3`), "81.2.69.160", false)
	f("forwarded quoted IPv6", fwd, "10.1.2.3:5000", one(`for="[2001:db8:cafe::17]:4711"`), "2001:db8:cafe::17", false)
	f("forwarded case", fwd, "10.1.2.3:5000", one(`For=81.2.69.160`), "81.2.69.160", false)
	f("forwarded comma in quotes", fwd, "10.1.2.3:5000", one(`for=81.2.69.160;x="a,b"`), "81.2.69.160", false)
	f("forwarded unknown", fwd, "10.1.2.3:5000", one(`for=unknown`), "10.1.2.3", true)
	f("forwarded obfuscated", fwd, "10.1.2.3:5000", one(`for=_hidden, for=10.0.0.4`), "10.0.0.4", true)
	f("forwarded without for", fwd, "10.1.2.3:5000", one(`proto=https`), "10.1.2.3", true)
	f("forwarded untrusted peer", fwd, "198.51.100.1:5000", one(`for=81.2.69.160`), "198.51.100.1", false)
}

func TestProxyConfig(t *testing.T) {
	if _, err := newProxies("", []string{"10.0.0.0/8"}); err == nil {
		t.Error("trusted proxies without a header: no error")
	}
	if _, err := newProxies("X-Forwarded-For", []string{"10.0.0.0/33"}); err == nil {
		t.Error("bad CIDR: no error")
	}
	if _, err := newProxies("X-Forwarded-For", []string{"proxy.local"}); err == nil {
		t.Error("host name: no error")
	}
	p, err := newProxies("X-Forwarded-For", nil)
	if err != nil || !p.trusts(netip.MustParseAddr("127.0.0.1")) || !p.trusts(netip.MustParseAddr("::1")) ||
		p.trusts(netip.MustParseAddr("10.0.0.1")) {
		t.Errorf("default trusted proxies: %v %v, want loopback only", p, err)
	}
	if p, _ := newProxies("", nil); p != nil {
		t.Error("no header: want no proxies")
	}
}

func TestRateBucketIPv6By64(t *testing.T) {
	f := func(a, b string, same bool) {
		t.Helper()
		if got := bucketKey(netip.MustParseAddr(a)) == bucketKey(netip.MustParseAddr(b)); got != same {
			t.Errorf("%s and %s share a bucket: %v, want %v", a, b, got, same)
		}
	}
	f("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true)
	f("2001:db8:1:2::1", "2001:db8:1:3::1", false)
	f("81.2.69.160", "81.2.69.161", false)
	f("81.2.69.160", "81.2.69.160", true)
}

type counter int

func (c *counter) Inc() { *c++ }
