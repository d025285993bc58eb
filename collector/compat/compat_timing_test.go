package compat

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkSegmentBatch translates a 100-message analytics-node batch into
// a wire batch: the cost a Segment request adds before the ingest path.
func BenchmarkSegmentBatch(b *testing.B) {
	var msgs []string
	for i := range 100 {
		msgs = append(msgs, fmt.Sprintf(`{"type":"track","event":"Checkout Step Completed","messageId":"node-%d-9f0c4f5e-6c1e-4b7d-8a31-2f1d3e0c9b7a","userId":"u-%d",`+
			`"timestamp":"2026-11-30T10:00:00.000Z","properties":{"step":2,"shipping_method":"DHL","value":49.5,"currency":"EUR"},`+
			`"context":{"library":{"name":"@segment/analytics-node","version":"3.1.0"},"ip":"81.2.69.160"},"_metadata":{"jsRuntime":"node"},"integrations":{}}`, i, i%7))
	}
	body := []byte(`{"batch":[` + strings.Join(msgs, ",") + `],"sentAt":"2026-11-30T10:00:01.000Z"}`)
	var s Segment
	var batch Batch
	var wire []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := s.Parse(body, "batch", Limits{}, &batch); err != nil {
			b.Fatal(err)
		}
		wire = batch.AppendWire(wire[:0], "shop")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/message")
}
