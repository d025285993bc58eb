package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// BenchmarkTrailRead reads one whole trail of n touchpoints by one client,
// alternately from the store (store.Trail: ceiling R) and through the
// query API over a real loopback connection, in the same loop, so that
// the ratio "http/R" holds on a shared machine where each figure alone
// swings. The gzip sub-benchmarks ask for a gzipped answer, as a browser
// does.
func BenchmarkTrailRead(b *testing.B) {
	col, err := collectortest.Launch(collectortest.Options{Dir: filepath.Join(b.TempDir(), "reads"), Durability: store.Async})
	if err != nil {
		b.Fatal(err)
	}
	defer col.Stop()
	pool, err := touchpoints(Config{Seed: 1}, 4096)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range TrailSizes {
		visitors, err := storeTrails(col.Store, pool, n)
		if err != nil {
			b.Fatal(err)
		}
		for _, gz := range []bool{false, true} {
			b.Run(fmt.Sprintf("touchpoints=%d/gzip=%v", n, gz), func(b *testing.B) {
				c := &fasthttp.HostClient{Addr: col.Addr, MaxResponseBodySize: 64 << 20}
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI(fmt.Sprintf("http://%s/v1/sites/%s/visitors/%s/trail?limit=%d", col.Addr, collectortest.Site, visitors[0], n))
				req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+collectortest.ReadToken)
				if gz {
					req.Header.Set(fasthttp.HeaderAcceptEncoding, "gzip")
				}
				var inStore, overHTTP time.Duration
				b.ReportAllocs()
				for b.Loop() {
					t0 := time.Now()
					page, err := col.Store.Trail(context.Background(), collectortest.Site, visitors[0], store.TrailQuery{Limit: n})
					if err != nil || len(page.Touchpoints) != n {
						b.Fatalf("store: %d touchpoints, %v", len(page.Touchpoints), err)
					}
					t1 := time.Now()
					if err := c.Do(req, resp); err != nil || resp.StatusCode() != fasthttp.StatusOK {
						b.Fatalf("http: %v, status %d", err, resp.StatusCode())
					}
					overHTTP += time.Since(t1)
					inStore += t1.Sub(t0)
				}
				b.ReportMetric(float64(inStore.Microseconds())/float64(b.N), "µs-store/op")
				b.ReportMetric(float64(overHTTP.Microseconds())/float64(b.N), "µs-http/op")
				b.ReportMetric(100*float64(inStore)/float64(overHTTP), "%-of-R")
				b.ReportMetric(float64(len(resp.Body())), "bytes/answer")
			})
		}
	}
}
