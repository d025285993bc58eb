package bench

import (
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Load describes one load run against a server on loopback.
type Load struct {
	Addr     string        // host:port, loopback only
	Conns    int           // concurrent connections (one worker each)
	Duration time.Duration // how long to send
	// Request fills req for worker w's next request and returns how many
	// events it carries.
	Request func(w int, req *fasthttp.Request) int
	// Check says whether a response is a success.
	Check func(resp *fasthttp.Response) bool
	// Rate, when set, paces the workers to this many requests per second
	// in all; each latency is then measured from the request's scheduled
	// time, so a stall counts against every request it delays.
	Rate float64
	// Shed says whether a response is the server shedding load (503 with
	// Retry-After): counted apart, neither success nor error.
	Shed func(resp *fasthttp.Response) bool
}

// LoadResult is what a run measured.
type LoadResult struct {
	Requests, Events, Errors, Shed int
	Elapsed                        time.Duration
	Latency                        Latencies // sorted
}

// ReqPerSec and EventsPerSec are the run's throughput.
func (r LoadResult) ReqPerSec() float64    { return float64(r.Requests) / r.Elapsed.Seconds() }
func (r LoadResult) EventsPerSec() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// Run sends requests from Conns workers for Duration and measures each.
func (l Load) Run() (LoadResult, error) {
	hc := &fasthttp.HostClient{Addr: l.Addr, MaxConns: l.Conns, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	var wg sync.WaitGroup
	lats := make([]Latencies, l.Conns)
	reqs, evs, errs, shed := make([]int, l.Conns), make([]int, l.Conns), make([]int, l.Conns), make([]int, l.Conns)
	var firstErr error
	var once sync.Once
	start := time.Now()
	deadline := start.Add(l.Duration)
	for w := range l.Conns {
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			lat := make(Latencies, 0, 4096)
			var every time.Duration
			next := start
			if l.Rate > 0 {
				every = time.Duration(float64(l.Conns) / l.Rate * float64(time.Second))
				next = start.Add(time.Duration(w) * every / time.Duration(l.Conns))
			}
			for time.Now().Before(deadline) {
				req.Reset()
				n := l.Request(w, req)
				req.SetHost(l.Addr)
				t := time.Now()
				if every > 0 {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
					t = next
					next = next.Add(every)
				}
				err := hc.Do(req, resp)
				lat = append(lat, time.Since(t))
				reqs[w]++
				if err == nil && l.Shed != nil && l.Shed(resp) {
					shed[w]++
					continue
				}
				if err != nil || (l.Check != nil && !l.Check(resp)) {
					errs[w]++
					once.Do(func() {
						if err == nil {
							err = fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
						}
						firstErr = err
					})
					continue
				}
				evs[w] += n
			}
			lats[w] = lat
		})
	}
	wg.Wait()
	r := LoadResult{Elapsed: time.Since(start), Latency: merge(lats)}
	for w := range l.Conns {
		r.Requests += reqs[w]
		r.Events += evs[w]
		r.Errors += errs[w]
		r.Shed += shed[w]
	}
	if r.Errors > 0 {
		return r, fmt.Errorf("%d of %d requests failed, first: %w", r.Errors, r.Requests, firstErr)
	}
	return r, nil
}
