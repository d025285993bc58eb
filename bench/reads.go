package bench

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// TrailSizes are the trail lengths the read phases measure.
var TrailSizes = []int{10, 100, 1000}

// readVisitors is how many visitors of each trail length are stored.
const readVisitors = 50

// reads stores visitors with trails of each of TrailSizes and reads whole
// trails, first from the store directly (ceiling R: one prefix scan and
// the decoding, nothing else), then through the query API over HTTP.
func (h *harness) reads() error {
	cfg := h.cfg
	col, err := collectortest.Launch(collectortest.Options{Dir: filepath.Join(cfg.Dir, "reads"), Durability: store.Async, GeoDB: cfg.GeoDB})
	if err != nil {
		return err
	}
	defer col.Stop()
	pool, err := touchpoints(cfg, 4096)
	if err != nil {
		return err
	}
	readers := min(cfg.Conns, 16)
	d := max(cfg.Duration/2, 100*time.Millisecond)
	for _, n := range TrailSizes {
		visitors, err := storeTrails(col.Store, pool, n)
		if err != nil {
			return err
		}
		if err := h.measure(func() (Result, error) { return storeReads(col.Store, visitors, n, readers, d) }); err != nil {
			return err
		}
		if err := h.measure(func() (Result, error) { return httpReads(col.Addr, visitors, n, readers, d) }); err != nil {
			return err
		}
	}
	return nil
}

// storeTrails writes readVisitors trails of n touchpoints (contents from
// pool, an hour ago, a second apart) and returns their visitors.
func storeTrails(s store.Store, pool []event.Touchpoint, n int) ([]event.VisitorID, error) {
	visitors := make([]event.VisitorID, readVisitors)
	base := time.Now().Add(-time.Hour).UnixMicro()
	var recs []store.Record
	var slab []byte
	k := 0
	for vi := range visitors {
		binary.BigEndian.PutUint64(visitors[vi][:], uint64(n))
		binary.BigEndian.PutUint64(visitors[vi][8:], uint64(vi+1))
		for i := range n {
			tp := pool[k%len(pool)]
			k++
			var id [16]byte
			binary.BigEndian.PutUint64(id[:], uint64(k))
			tp.ID, tp.Visitor, tp.Seq = hex.EncodeToString(id[:]), visitors[vi], uint32(i+1)
			tp.TS = base + int64(i)*1e6
			tp.Derived, tp.Received = tp.TS, tp.TS
			recs = append(recs, store.NewRecord(&tp, &slab))
			if len(recs) == 1000 {
				if _, err := s.Write(context.Background(), recs); err != nil {
					return nil, err
				}
				recs, slab = recs[:0], nil
			}
		}
	}
	if len(recs) > 0 {
		if _, err := s.Write(context.Background(), recs); err != nil {
			return nil, err
		}
	}
	return visitors, nil
}

// storeReads reads whole trails with store.Trail from readers goroutines.
func storeReads(s store.Store, visitors []event.VisitorID, n, readers int, d time.Duration) (Result, error) {
	next := make([]int, readers)
	lr, err := loop(readers, d, 0, func(w int) (int, bool, error) {
		next[w]++
		v := visitors[(next[w]*7+w)%len(visitors)]
		page, err := s.Trail(context.Background(), collectortest.Site, v, store.TrailQuery{Limit: n})
		if err != nil {
			return 0, false, err
		}
		if len(page.Touchpoints) != n {
			return 0, false, fmt.Errorf("visitor %s: %d touchpoints, want %d", v, len(page.Touchpoints), n)
		}
		return n, false, nil
	})
	return fromLoad(fmt.Sprintf("store%d", n), fmt.Sprintf("ceiling R: store.Trail, %d touchpoints", n), lr), err
}

// httpReads reads whole trails through GET …/visitors/{v}/trail. Every
// answer is checked for status 200; the first one of each visitor is
// parsed and must hold all n touchpoints.
func httpReads(addr string, visitors []event.VisitorID, n, readers int, d time.Duration) (Result, error) {
	paths := make([]string, len(visitors))
	for i, v := range visitors {
		paths[i] = fmt.Sprintf("/v1/sites/%s/visitors/%s/trail?limit=%d", collectortest.Site, v, n)
	}
	if err := checkTrails(addr, paths, n); err != nil {
		return Result{}, err
	}
	auth := []byte("Bearer " + collectortest.ReadToken)
	next := make([]int, readers)
	lr, err := Load{Addr: addr, Conns: readers, Duration: d,
		Request: func(w int, req *fasthttp.Request) int {
			next[w]++
			req.SetRequestURI(paths[(next[w]*7+w)%len(paths)])
			req.Header.SetBytesV(fasthttp.HeaderAuthorization, auth)
			return n
		},
		Check: func(resp *fasthttp.Response, n int) (int, error) {
			if resp.StatusCode() != fasthttp.StatusOK {
				return 0, fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
			}
			return n, nil
		},
	}.Run()
	name := fmt.Sprintf("trail read over HTTP, %d touchpoints", n)
	if plain, zipped, zerr := answerSizes(addr, paths[0]); zerr == nil {
		name += fmt.Sprintf(" (answer %.0f KB, %.0f KB gzipped)", float64(plain)/1000, float64(zipped)/1000)
	} else if err == nil {
		err = zerr
	}
	r := fromLoad(fmt.Sprintf("read%d", n), name, lr)
	r.Ceiling = "R"
	return r, err
}

// checkTrails reads each path once and checks that it holds n touchpoints.
func checkTrails(addr string, paths []string, n int) error {
	c := &fasthttp.HostClient{Addr: addr}
	var p fastjson.Parser
	for _, path := range paths {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI(path)
		req.SetHost(addr)
		req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+collectortest.ReadToken)
		err := c.Do(req, resp)
		if err == nil && resp.StatusCode() != fasthttp.StatusOK {
			err = fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
		}
		if err == nil {
			var v *fastjson.Value
			if v, err = p.ParseBytes(resp.Body()); err == nil {
				if got := len(v.GetArray("touchpoints")); got != n {
					err = fmt.Errorf("%d touchpoints, want %d", got, n)
				}
			}
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
	}
	return nil
}

// answerSizes reads path plain and with Accept-Encoding: gzip and returns
// the bytes of both answers; the second must be gzipped.
func answerSizes(addr, path string) (plain, zipped int, err error) {
	c := &fasthttp.HostClient{Addr: addr}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	for _, gz := range []bool{false, true} {
		req.Reset()
		req.SetRequestURI(path)
		req.SetHost(addr)
		req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+collectortest.ReadToken)
		if gz {
			req.Header.Set(fasthttp.HeaderAcceptEncoding, "gzip")
		}
		if err := c.Do(req, resp); err != nil {
			return 0, 0, err
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			return 0, 0, fmt.Errorf("GET %s: status %d", path, resp.StatusCode())
		}
		if !gz {
			plain = len(resp.Body())
			continue
		}
		if string(resp.Header.ContentEncoding()) != "gzip" {
			return 0, 0, fmt.Errorf("GET %s accepting gzip: Content-Encoding %q", path, resp.Header.ContentEncoding())
		}
		zipped = len(resp.Body())
	}
	return plain, zipped, nil
}
