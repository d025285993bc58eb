package compat_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// BenchmarkSegmentIngest posts 100-message Segment batches (Basic auth,
// JSON) to a real collector in sync durability and reports events/s: the
// whole path, translation, ingest and group commit. Compare with
// BenchmarkOwnIngest, the same touchpoints as a POST /v1/events batch.
func BenchmarkSegmentIngest(b *testing.B) {
	col := start(b, nil)
	bench(b, col.URL+"/v1/batch", "Basic "+basicKey(collectortest.WriteKey), func(i int) string {
		var msgs []string
		for j := range 100 {
			msgs = append(msgs, fmt.Sprintf(`{"type":"track","event":"Checkout Step Completed","messageId":"m-%d-%d","anonymousId":"a-%d",`+
				`"properties":{"step":2,"shipping_method":"DHL"},"context":{"ip":"81.2.69.160"}}`, i, j, j%10))
		}
		return `{"batch":[` + strings.Join(msgs, ",") + `]}`
	})
}

func BenchmarkOwnIngest(b *testing.B) {
	col := start(b, nil)
	bench(b, col.URL+"/v1/events", "Bearer "+collectortest.WriteKey, func(i int) string {
		var evs []string
		for j := range 100 {
			evs = append(evs, fmt.Sprintf(`{"id":"m-%d-%d","type":"checkout_step","visitor":"a-%d","step":2,"name":"Checkout Step Completed",`+
				`"props":{"shipping_method":"DHL"},"ip":"81.2.69.160"}`, i, j, j%10))
		}
		return `{"site":"test","events":[` + strings.Join(evs, ",") + `]}`
	})
}

func bench(b *testing.B, url, auth string, body func(i int) string) {
	bodies := make([]string, 0, 64)
	for i := range cap(bodies) {
		bodies = append(bodies, body(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		bd := bodies[i%len(bodies)]
		if i >= len(bodies) { // new ids: nothing is a duplicate
			bd = strings.ReplaceAll(bd, `"m-`, fmt.Sprintf(`"r%d-m-`, i))
		}
		i++
		req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte(bd)))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "events/s")
}

func basicKey(key string) string {
	return base64.StdEncoding.EncodeToString([]byte(key + ":"))
}
