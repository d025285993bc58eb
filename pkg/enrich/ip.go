package enrich

import "net/netip"

// Anonymize truncates ip to its /24 (IPv4) or /48 (IPv6) network: what may
// be kept of an address when Config.IPPrefix is on.
func Anonymize(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}
