package collector_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// The client cannot choose its address: varying the first hop of
// X-Forwarded-For neither escapes the per-IP rate limit nor changes geo,
// whether the peer is an untrusted client or a trusted proxy that appends
// the address it saw (nginx's $proxy_add_x_forwarded_for).
func TestSpoofedForwardedForIsNotBelieved(t *testing.T) {
	geo := testGeoDB(t)
	cases := []struct {
		name    string
		trusted []string
		header  func(i int) string // X-Forwarded-For of request i
		country string             // geo of what is stored
	}{
		{"untrusted peer", []string{"10.0.0.0/8"}, func(i int) string { return fmt.Sprintf("81.2.69.%d", i) }, ""},
		{"trusted proxy appending the real address", nil, func(i int) string { return fmt.Sprintf("203.0.113.%d, 81.2.69.160", i) }, "GB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			col := collectortest.Start(t, collectortest.Options{GeoDB: geo, Config: func(c *collector.Config) {
				c.ProxyHeader, c.TrustedProxies = "X-Forwarded-For", tc.trusted
				c.RatePerIP, c.RateBurst = 0.5, 3
			}})
			c := client{t, col.URL}
			accepted := 0
			for i := range 20 {
				a := c.post(fmt.Sprintf(`{"site":"test","events":[{"id":"s%d","type":"pageview","visitor":%q}]}`, i, visitorA),
					map[string]string{"X-Forwarded-For": tc.header(i + 1)})
				switch a.status {
				case http.StatusAccepted:
					accepted++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("request %d: %d %s", i, a.status, a.body)
				}
			}
			if accepted != 3 {
				t.Errorf("%d of 20 accepted with a burst of 3: the spoofed hop chose the bucket", accepted)
			}
			var tr trailAnswer
			c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
			if len(tr.Touchpoints) != 3 {
				t.Fatalf("%d touchpoints stored, want 3", len(tr.Touchpoints))
			}
			for _, tp := range tr.Touchpoints {
				if got, _ := tp["country"].(string); got != tc.country {
					t.Errorf("country %q, want %q: the spoofed hop chose geo", got, tc.country)
				}
			}
		})
	}
}

// IPv6 clients share a bucket per /64: a client cannot take a fresh bucket
// per address of its subnet.
func TestRateLimitIPv6By64(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.ProxyHeader = "X-Forwarded-For"
		c.RatePerIP, c.RateBurst = 0.5, 3
	}})
	c := client{t, col.URL}
	accepted := 0
	for i := range 10 {
		a := c.post(fmt.Sprintf(`{"site":"test","events":[{"id":"v%d","type":"pageview","visitor":%q}]}`, i, visitorA),
			map[string]string{"X-Forwarded-For": fmt.Sprintf("2001:db8:1:2::%x", i+1)})
		if a.status == http.StatusAccepted {
			accepted++
		}
	}
	if accepted != 3 {
		t.Errorf("%d of 10 accepted from one /64 with a burst of 3", accepted)
	}
	if a := c.post(`{"site":"test","events":[{"id":"w","type":"pageview","visitor":"`+visitorA+`"}]}`,
		map[string]string{"X-Forwarded-For": "2001:db8:1:3::1"}); a.status != http.StatusAccepted {
		t.Errorf("another /64: %d %s, want 202", a.status, a.body)
	}
}
