package sdk

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// idleClient is a client whose worker is not started: the benchmarks of
// Track measure what the caller pays (id, seq, time, queue), with no worker
// competing for the CPU. The queue is emptied outside the timer.
func idleClient(b *testing.B) *Client {
	cfg := Config{Endpoint: "http://127.0.0.1:1", Site: "s", WriteKey: "k", QueueSize: 1 << 16}.withDefaults()
	if err := cfg.validate(); err != nil {
		b.Fatal(err)
	}
	return newClient(cfg)
}

func BenchmarkTrack(b *testing.B) {
	c := idleClient(b)
	e := Event{Type: TypePageview, Visitor: "0123456789abcdef0123456789abcdef", URL: "https://shop.example/"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := c.Track(e); err != nil {
			b.StopTimer()
			for len(c.q) > 0 {
				<-c.q
				c.inbox.Add(-1)
			}
			b.StartTimer()
		}
	}
}

// BenchmarkTrackParallel is Track from every P, one visitor each, into a
// queue a draining goroutine keeps from filling.
func BenchmarkTrackParallel(b *testing.B) {
	c := idleClient(b)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-c.q:
			case <-stop:
				return
			}
		}
	}()
	b.ReportAllocs()
	var drops, calls int64
	b.RunParallel(func(pb *testing.PB) {
		e := Event{Type: TypePageview, Visitor: fmt.Sprintf("%032x", rand.Uint64()), URL: "https://shop.example/"}
		var d, n int64
		for pb.Next() {
			n++
			if c.Track(e) != nil {
				d++
			}
		}
		c.seqMu.Lock()
		drops, calls = drops+d, calls+n
		c.seqMu.Unlock()
	})
	b.ReportMetric(100*float64(drops)/float64(max(calls, 1)), "drop%")
}

// BenchmarkEncode is the cost of one event's wire JSON in a batch.
func BenchmarkEncode(b *testing.B) {
	batch := make([]Event, 100)
	for i := range batch {
		batch[i] = Event{Type: TypeSearch, Visitor: "0123456789abcdef0123456789abcdef", ID: newID(), Seq: uint32(i + 1),
			Time: time.Now(), URL: "https://shop.example/search?q=returns", Query: "returns", Results: NoResults}
	}
	b.ReportAllocs()
	now := time.Now()
	for i := 0; i < b.N; i++ {
		encode("shop", batch, now)
	}
}
