package sdk

import (
	"net/http/httptest"
	"testing"
)

// The middleware's client address cannot be chosen by the client: only
// the hops trusted proxies appended are read, from the right.
func TestMiddlewareClientIP(t *testing.T) {
	f := func(name, peer string, xff []string, want string) {
		t.Helper()
		r := httptest.NewRequest("GET", "http://shop.example/", nil)
		r.RemoteAddr = peer
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientIP(r, "X-Forwarded-For", defaultTrustedProxies); got.String() != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	f("public peer: header ignored", "81.2.69.160:5000", []string{"1.2.3.4"}, "81.2.69.160")
	f("proxy appends the real address", "10.0.0.2:5000", []string{"1.2.3.4, 81.2.69.160"}, "81.2.69.160")
	f("two proxies", "127.0.0.1:5000", []string{"1.2.3.4, 81.2.69.160, 10.1.1.1"}, "81.2.69.160")
	f("several lines", "10.0.0.2:5000", []string{"1.2.3.4", "81.2.69.160"}, "81.2.69.160")
	f("malformed rightmost", "10.0.0.2:5000", []string{"81.2.69.160, junk"}, "10.0.0.2")
	f("no header", "10.0.0.2:5000", nil, "10.0.0.2")
	f("IPv6 peer proxy", "[fd00::1]:5000", []string{"2001:db8::7"}, "2001:db8::7")
}
