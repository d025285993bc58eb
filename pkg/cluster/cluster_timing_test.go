package cluster_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// counter is a Submitter that only counts: the hop without the store.
type counter struct{ n atomic.Int64 }

func (c *counter) Submit(_ context.Context, recs []store.Record) error {
	c.n.Add(int64(len(recs)))
	return nil
}

func benchConn(b *testing.B) *nats.Conn {
	b.Helper()
	ns, err := natstest.Start(b.TempDir(), 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ns.Shutdown)
	nc, err := cluster.Connect(ns.URLs(), "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return nc
}

// BenchmarkHop is the cluster's extra hop for one event: published in
// requests of 100 and acknowledged by JetStream (sync), consumed by a store
// node's consumer and acknowledged after its (here: no-op) commit.
func BenchmarkHop(b *testing.B) {
	nc := benchConn(b)
	ctx := context.Background()
	pub, err := cluster.NewPublisher(ctx, nc, cluster.PublisherConfig{Stream: cluster.StreamConfig{Partitions: 32}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close(ctx)
	var sink counter
	cons, err := cluster.NewConsumer(ctx, nc, &sink, cluster.ConsumerConfig{Node: "bench", Partitions: seq(32)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close(ctx)
	batches := make([][]store.Record, 0, b.N/100+1)
	for i := 0; i*100 < b.N; i++ { // new ids each request: nothing is a duplicate
		batches = append(batches, tagged("demo", min(100, b.N-i*100), 1, "e"+itoa(i)))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(batches[0][0].Value)))
	b.ResetTimer()
	for _, batch := range batches {
		if err := pub.Submit(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	testwait.For(b, time.Minute, "every event consumed", func() bool { return sink.n.Load() >= int64(b.N) })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStoreReplay is a store node's rate: b.N events already in the
// stream, consumed into a real Badger with synced group commits (as a
// store rebuilding from empty, or catching up after a backlog, does).
func BenchmarkStoreReplay(b *testing.B) {
	nc := benchConn(b)
	ctx := context.Background()
	pub, err := cluster.NewPublisher(ctx, nc, cluster.PublisherConfig{Stream: cluster.StreamConfig{Partitions: 32}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close(ctx)
	for i := 0; i*1000 < b.N; i++ {
		if err := pub.Submit(ctx, tagged("demo", min(1000, b.N-i*1000), 1, "e"+itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	st, err := badger.Open(badger.Config{Dir: b.TempDir(), SyncWrites: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w := store.NewWriter(st, store.WriterConfig{}, nil)
	defer w.Close(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	cons, err := cluster.NewConsumer(ctx, nc, w, cluster.ConsumerConfig{Node: "replay", Partitions: seq(32)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close(ctx)
	testwait.For(b, time.Minute, "the backlog replayed", func() bool { return w.Stats().Records >= uint64(b.N) })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkJetStreamPublish is JetStream's own rate for messages of a
// touchpoint's size (280 bytes with id and subject), published
// asynchronously to one stream, R1, file storage: the ceiling of one
// stream on this machine.
func BenchmarkJetStreamPublish(b *testing.B) {
	nc := benchConn(b)
	ctx := context.Background()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.*"}}); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 200)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := range b.N {
		if _, err := js.PublishAsync("raw."+itoa(i%32), data, jetstream.WithMsgID(itoa(i)+"-0123456789abcdef0123456789abcdef")); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func itoa(i int) string {
	var b [20]byte
	p := len(b)
	for {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[p:])
		}
	}
}
