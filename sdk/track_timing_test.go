package sdk

import (
	"testing"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// BenchmarkTrack measures what the caller pays for Track: id, seq, time and
// the queue, with no worker competing for the CPU (the queue is emptied
// outside the timer).
func BenchmarkTrack(b *testing.B) {
	c := newIdle(Config{Endpoint: "http://127.0.0.1:1", Site: "s", WriteKey: "k", QueueSize: 1 << 16})
	v, _ := event.ParseVisitor("0123456789abcdef0123456789abcdef")
	e := Event{Type: event.TypePageview, Visitor: v, URL: "https://shop.example/", Results: -1}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Track(e); err != nil {
			b.StopTimer()
			for len(c.q) > 0 {
				<-c.q
			}
			b.StartTimer()
		}
	}
}
