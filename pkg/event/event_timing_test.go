package event

import (
	"fmt"
	"strings"
	"testing"
)

func batchBody(n int) []byte {
	var evs []string
	for i := range n {
		evs = append(evs, fmt.Sprintf(`{"id":"e%d","type":"pageview","visitor":"0123456789abcdef0123456789abcdef","seq":%d,"ts":1764000000000,"sent":1764000000500,"url":"https://shop.example/products/%d?utm_source=news","title":"Blue shoes","referrer":"https://www.google.com/"}`, i, i, i))
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
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	tp := valid(TypePageview)
	tp.URL = "https://shop.example/products/1?utm_source=news"
	b.ReportAllocs()
	for b.Loop() {
		if err := tp.Validate(Limits{}, now); err != nil {
			b.Fatal(err)
		}
	}
}

func typical() Touchpoint {
	return Touchpoint{ID: "9f86d081884c7d65", Type: TypePageview, Seq: 3, Derived: now, TS: now - 2000, Sent: now - 1000, Received: now,
		URL: "https://shop.example/products/blue-shoes", Title: "Blue shoes", Referrer: "https://www.google.com/", Results: -1,
		Browser: "Chrome", BrowserVersion: "124.0", OS: "Windows", Device: DeviceDesktop, Country: "GB", Region: "ENG", City: "London", Channel: ChannelSearch}
}

func BenchmarkAppendBinary(b *testing.B) {
	tp := typical()
	buf := AppendBinary(nil, &tp)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendBinary(buf[:0], &tp)
	}
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
	for b.Loop() {
		buf = AppendJSON(buf[:0], &tp)
	}
}
