package enrich

import "net/netip"

// Anonymize truncates ip to its /24 (IPv4, IPv4-mapped IPv6 included) or
// /48 (IPv6) network, without zone: what may be kept of an address when
// Config.IPPrefix is on. The zero Addr gives the zero Prefix.
func Anonymize(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap().WithZone("")
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
