package enrich_test

import (
	"net/netip"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/enrich"
)

func TestAnonymize(t *testing.T) {
	f := func(ip, want string) {
		t.Helper()
		var addr netip.Addr
		if ip != "" {
			addr = netip.MustParseAddr(ip)
		}
		got := enrich.Anonymize(addr)
		if want == "" {
			if got.IsValid() {
				t.Errorf("Anonymize(%q) = %v, want the zero prefix", ip, got)
			}
			return
		}
		if got.String() != want {
			t.Errorf("Anonymize(%q) = %v, want %s", ip, got, want)
		}
	}
	f("203.0.113.77", "203.0.113.0/24")
	f("203.0.113.0", "203.0.113.0/24")
	f("10.255.255.255", "10.255.255.0/24")
	f("127.0.0.1", "127.0.0.0/24")
	f("::ffff:198.51.100.9", "198.51.100.0/24") // IPv4-mapped: the IPv4 /24
	f("2001:db8:1234:5678:9abc::1", "2001:db8:1234::/48")
	f("2001:db8:1234:ffff:ffff:ffff:ffff:ffff", "2001:db8:1234::/48")
	f("::1", "::/48")
	f("fe80::1%eth0", "fe80::/48") // zone dropped
	f("", "")                      // no address: nothing
}
