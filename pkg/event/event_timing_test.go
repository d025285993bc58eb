package event

import (
	"fmt"
	"strings"
	"testing"
)

// batchBody is a batch of n pageviews as the snippet sends them.
func batchBody(n int) []byte {
	var evs []string
	for i := range n {
		evs = append(evs, fmt.Sprintf(`{"id":"9f86d081884c7d65a9f86d0818%06d","type":"pageview","visitor":"0123456789abcdef0123456789abcdef","seq":%d,"ts":1764000000000,"sent":1764000000500,"url":"https://shop.example/products/%d?utm_source=news","title":"Blue shoes","referrer":"https://www.google.com/"}`, i, i, i))
	}
	return []byte(`{"site":"shop","events":[` + strings.Join(evs, ",") + `]}`)
}

func BenchmarkDecode(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			body := batchBody(n)
			var d Decoder
			var batch Batch
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := d.Decode(body, &batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			allocs := testing.AllocsPerRun(10, func() { d.Decode(body, &batch) })
			b.ReportMetric(allocs/float64(n), "allocs/event")
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	tp := typical()
	tp.Props = []Prop{{"ab", "variant-b"}}
	b.ReportAllocs()
	b.SetBytes(int64(len(AppendWire(nil, &tp))))
	for b.Loop() {
		if err := tp.Validate(Limits{}, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBinary(b *testing.B) {
	tp := typical()
	buf := AppendBinary(nil, &tp)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendBinary(buf[:0], &tp)
	}
	b.ReportMetric(float64(len(buf)), "bytes/event")
}

func BenchmarkDecodeBinary(b *testing.B) {
	tp := typical()
	buf := AppendBinary(nil, &tp)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if err := DecodeBinary(buf, &tp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	tp := typical()
	buf := AppendJSON(nil, &tp)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendJSON(buf[:0], &tp)
	}
}
