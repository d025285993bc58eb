package event

import (
	"net/netip"
	"unsafe"
)

// ParseAddrBytes parses an IP address held in b without copying it
// (netip.ParseAddr(string(b)) allocates the string). The Addr returned
// keeps nothing of b: netip interns a zone by value.
func ParseAddrBytes(b []byte) (netip.Addr, error) {
	if len(b) == 0 {
		return netip.Addr{}, errEmptyAddr
	}
	a, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	if err != nil {
		return netip.Addr{}, errBadAddr // the parser's error would keep b
	}
	return a, nil
}

type addrError string

func (e addrError) Error() string { return string(e) }

const (
	errEmptyAddr = addrError("empty IP address")
	errBadAddr   = addrError("not an IP address")
)
