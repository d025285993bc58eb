package clustertest_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/clustertest"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
)

// BenchmarkExportAcrossStores: the NDJSON export of the journeytest shop
// (400 visitors) from a query node over 1, 2 and 4 stores (8 partitions
// split between them: the trails streamed and merged by visitor id), and
// from a single node holding the same data, one after the other in the
// same loop. ns/op covers both; query-ms and single-ms are each one's
// mean, x-single the query node's time as a multiple of the single
// node's; B/op-style throughput is the export's size (SetBytes).
func BenchmarkExportAcrossStores(b *testing.B) {
	visitors, total := generate(400)
	bs := batches(collectortest.Site, visitors, 50)
	path := "/v1/sites/" + collectortest.Site + "/export?format=ndjson"
	for _, stores := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("stores=%d", stores), func(b *testing.B) {
			nc := natstest.StartTB(b, 1)
			in := clustertest.Start(b, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleIngest, Node: "in", Stream: testStream})
			var ss []*clustertest.Node
			per := parts / stores
			for i := range stores {
				ss = append(ss, clustertest.Start(b, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleStore, Node: fmt.Sprint("s", i),
					Partitions: fmt.Sprintf("%d-%d", i*per, (i+1)*per-1), Dir: b.TempDir()}))
			}
			q := clustertest.Start(b, clustertest.Options{NATS: nc.URLs(), Role: cluster.RoleQuery, Node: "q"})
			one := collectortest.Start(b, collectortest.Options{KeepBots: true})
			for _, u := range []string{in.URL, one.URL} {
				for _, bt := range bs {
					if st := benchPost(b, u, bt.body); st != http.StatusAccepted {
						b.Fatalf("ingest at %s: %d", u, st)
					}
				}
			}
			if !testwait.Until(30*time.Second, func() bool { return storedRecords(ss...) >= total }) {
				b.Fatalf("stores hold %d of %d touchpoints", storedRecords(ss...), total)
			}
			size := exportSize(b, one.URL+path)
			if got := exportSize(b, q.URL+path); got < size*9/10 || got > size*11/10 {
				b.Fatalf("the query node exported %d bytes, the single node %d", got, size)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs() // of the whole process: the nodes run in it
			var tq, t1 time.Duration
			n := 0
			for b.Loop() {
				start := time.Now()
				exportSize(b, q.URL+path)
				mid := time.Now()
				exportSize(b, one.URL+path)
				tq, t1 = tq+mid.Sub(start), t1+time.Since(mid)
				n++
			}
			b.ReportMetric(tq.Seconds()*1000/float64(n), "query-ms")
			b.ReportMetric(t1.Seconds()*1000/float64(n), "single-ms")
			b.ReportMetric(float64(tq)/float64(t1), "x-single")
		})
	}
}

// exportSize reads a whole export and returns its size.
func exportSize(b *testing.B, u string) int {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+collectortest.ReadToken)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := httpc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d after %d bytes: %v", u, resp.StatusCode, n, err)
	}
	return int(n)
}
