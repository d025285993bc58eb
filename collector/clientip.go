package collector

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"
)

// The client address. Behind reverse proxies the connection's peer is the
// nearest proxy, and each proxy appends the address it saw to a header
// (X-Forwarded-For, or RFC 7239 Forwarded). Whatever the client itself put
// in that header comes first, so only the right end can be believed: the
// client is the rightmost address that is not a trusted proxy. A request
// whose peer is not a trusted proxy never has its header read at all.

// defaultTrustedProxies are trusted when ProxyHeader is set and
// TrustedProxies is empty: a proxy on the same host.
var defaultTrustedProxies = []string{"127.0.0.0/8", "::1/128"}

// maxHops bounds the proxy hops read from one header line: a longer chain
// is read from its right end only.
const maxHops = 32

// proxies resolves client addresses from a trusted proxy header. A nil
// *proxies means no proxy header: the peer is the client.
type proxies struct {
	header    string
	forwarded bool // RFC 7239 syntax
	trusted   []netip.Prefix
	malformed interface{ Inc() }
}

// newProxies checks the config's proxy settings; nil when no header is set.
func newProxies(header string, cidrs []string) (*proxies, error) {
	if header == "" {
		if len(cidrs) > 0 {
			return nil, fmt.Errorf("trusted_proxies without proxy_header: name the header the proxies set")
		}
		return nil, nil
	}
	if len(cidrs) == 0 {
		cidrs = defaultTrustedProxies
	}
	p := &proxies{header: header, forwarded: strings.EqualFold(header, "Forwarded")}
	for _, c := range cidrs {
		pr, err := parsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", c, err)
		}
		p.trusted = append(p.trusted, pr)
	}
	return p, nil
}

// parsePrefix reads a CIDR or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("want a network like 10.0.0.0/8 or an address: %w", err)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("want a network like 10.0.0.0/8 or an address")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (p *proxies) trusts(a netip.Addr) bool {
	for _, pr := range p.trusted {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the connection's remote address.
func peerAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if tcp, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(tcp.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// clientIP is the address the request came from: the peer, or, when the
// peer is a trusted proxy, the rightmost untrusted hop of the proxy header.
// A malformed hop (or an RFC 7239 "unknown" or obfuscated one) ends the
// walk: the nearest hop already vouched for by a trusted proxy is used, and
// the malformed value counted.
func (s *Server) clientIP(ctx *fasthttp.RequestCtx) netip.Addr {
	peer := peerAddr(ctx)
	p := s.proxies
	if p == nil || !p.trusts(peer) {
		return peer
	}
	client := peer
	lines := ctx.Request.Header.PeekAll(p.header)
	var hops [maxHops]netip.Addr
	for i := len(lines) - 1; i >= 0; i-- {
		n, ok := p.parseLine(lines[i], &hops)
		for j := n - 1; j >= 0; j-- {
			client = hops[j]
			if !p.trusts(client) {
				return client
			}
		}
		if !ok {
			p.malformed.Inc()
			return client
		}
	}
	return client
}

// parseLine reads the hops of one header line into hops, keeping the
// rightmost maxHops. It returns how many it read and false when the line
// holds something that is not an address (then hops holds the ones to the
// right of it).
func (p *proxies) parseLine(line []byte, hops *[maxHops]netip.Addr) (int, bool) {
	n := 0
	ok := true
	// Walk elements from the right, so a bad one stops the walk where it is.
	var rev [maxHops]netip.Addr
	for len(line) > 0 && n < maxHops {
		var elem []byte
		if i := lastComma(line, p.forwarded); i >= 0 {
			elem, line = line[i+1:], line[:i]
		} else {
			elem, line = line, nil
		}
		var a netip.Addr
		var good bool
		if p.forwarded {
			a, good = forwardedFor(elem)
		} else {
			a, good = parseHop(bytes.TrimSpace(elem))
		}
		if !good {
			ok = false
			break
		}
		rev[n] = a
		n++
	}
	if len(line) > 0 {
		ok = false // a chain longer than maxHops: no further
	}
	for i := range n {
		hops[i] = rev[n-1-i]
	}
	return n, ok
}

// lastComma finds the last element separator; in Forwarded syntax commas
// inside quoted strings do not count.
func lastComma(b []byte, quoted bool) int {
	if !quoted {
		return bytes.LastIndexByte(b, ',')
	}
	inQuote, last := false, -1
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				last = i
			}
		}
	}
	return last
}

// parseHop reads one address: "192.0.2.1", "2001:db8::1", with or
// without a port ("192.0.2.1:4711", "[2001:db8::1]:4711"). Zones are refused.
func parseHop(b []byte) (netip.Addr, bool) {
	if len(b) == 0 || len(b) > 64 {
		return netip.Addr{}, false
	}
	s := string(b)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		if err2 != nil {
			if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
				a, err = netip.ParseAddr(s[1 : len(s)-1])
			}
			if err != nil {
				return netip.Addr{}, false
			}
		} else {
			a = ap.Addr()
		}
	}
	if a.Zone() != "" || !a.IsValid() {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// forwardedFor reads the for= parameter of one RFC 7239 element, e.g.
// `for=192.0.2.60;proto=http;by=203.0.113.43` or `for="[2001:db8::17]:4711"`.
func forwardedFor(elem []byte) (netip.Addr, bool) {
	for len(elem) > 0 {
		var pair []byte
		if i := bytes.IndexByte(elem, ';'); i >= 0 {
			pair, elem = elem[:i], elem[i+1:]
		} else {
			pair, elem = elem, nil
		}
		pair = bytes.TrimSpace(pair)
		k, v, found := bytes.Cut(pair, []byte("="))
		if !found || !bytes.EqualFold(bytes.TrimSpace(k), []byte("for")) {
			continue
		}
		v = bytes.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return parseHop(v) // "unknown" and "_hidden" are not addresses
	}
	return netip.Addr{}, false
}
