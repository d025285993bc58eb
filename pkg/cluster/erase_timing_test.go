package cluster

import (
	"context"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// BenchmarkEraseStreamScan is what an erasure costs the stream: finding a
// visitor's 10 messages among the others of its partition (headers only)
// and deleting them, for streams of 8 partitions holding 10k and 100k
// messages of other visitors. The scan is linear in the partition's
// messages: msgs-scanned/s is its rate.
func BenchmarkEraseStreamScan(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(strconv.Itoa(n/1000)+"k", func(b *testing.B) { benchEraseScan(b, n) })
	}
}

func benchEraseScan(b *testing.B, others int) {
	ns, err := natstest.Start(b.TempDir(), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer ns.Shutdown()
	nc, err := Connect(ns.URLs(), "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	sc, err := EnsureStream(ctx, js, StreamConfig{Partitions: 8})
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 250) // about a binary touchpoint
	publish := func(v event.VisitorID, id string) uint64 {
		r := store.Record{Site: "demo", Visitor: v, ID: id}
		m := &nats.Msg{Subject: sc.subject(Partition("demo", v, sc.Partitions)), Data: value,
			Header: nats.Header{jetstream.MsgIDHeader: []string{MsgID(&r)}}}
		ack, err := js.PublishMsg(ctx, m)
		if err != nil {
			b.Fatal(err)
		}
		return ack.Sequence
	}
	for i := range others {
		var v event.VisitorID
		v[0], v[1], v[2], v[15] = byte(i), byte(i>>8), byte(i>>16), 1
		if _, err := js.PublishMsgAsync(&nats.Msg{Subject: sc.subject(Partition("demo", v, sc.Partitions)), Data: value,
			Header: nats.Header{jetstream.MsgIDHeader: []string{"demo/" + v.String() + "/e" + strconv.Itoa(i)}}}); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	r := NewRouter(nc, sc, nil)
	victim := event.VisitorID{0xee, 15: 0xee}
	p := Partition("demo", victim, sc.Partitions)
	scanned := 0.0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := range 10 {
			publish(victim, "x"+strconv.Itoa(i)+"-"+strconv.Itoa(j))
		}
		mark, err := js.PublishMsg(ctx, &nats.Msg{Subject: sc.subject(p), Data: []byte("{}"), // stands for the erase message
			Header: nats.Header{jetstream.MsgIDHeader: []string{"~erase/" + strconv.Itoa(i)}, opHeader: []string{opErase}}})
		if err != nil {
			b.Fatal(err)
		}
		seqs := map[int]uint64{p: mark.Sequence}
		info, err := js.Stream(ctx, sc.Name)
		if err != nil {
			b.Fatal(err)
		}
		scanned += float64(info.CachedInfo().State.Msgs) / float64(sc.Partitions)
		b.StartTimer()
		n, err := r.deleteFromStream(ctx, js, "demo", map[int][]event.VisitorID{p: {victim}}, seqs)
		if err != nil || n != 10 {
			b.Fatalf("deleted %d (%v), want 10", n, err)
		}
	}
	b.ReportMetric(scanned/b.Elapsed().Seconds(), "msgs-scanned/s")
}
