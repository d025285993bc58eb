package bench

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Load describes one load run against a server on loopback: Conns
// workers, each with its own connection, sending requests back to back
// (or paced to Rate) for Duration.
type Load struct {
	Addr     string        // host:port, loopback only
	Conns    int           // concurrent connections (one worker each)
	Duration time.Duration // how long to send
	// Request fills req (reset) for worker w's next request and returns
	// how many events it carries.
	Request func(w int, req *fasthttp.Request) int
	// Check returns how many of a request's events its response took, or
	// why the response is a failure. Nil: any 2xx takes them all.
	Check func(resp *fasthttp.Response, events int) (int, error)
	// Shed says whether a response is the server shedding load (503 with
	// Retry-After): counted apart, neither success nor error, and left out
	// of the latencies. The worker then waits ShedWait (default 50 ms; the
	// SDK waits the Retry-After) before its next request.
	Shed     func(resp *fasthttp.Response) bool
	ShedWait time.Duration
	// After, when set, is told after each answered request of worker w
	// whether it was shed.
	After func(w int, shed bool)
	// Window counts only the requests answered within Duration, and
	// divides by Duration: under overload the requests admitted last
	// would otherwise stretch the run by their latency.
	Window bool
	// TolerateErrors counts failed requests (connection errors, timeouts)
	// without failing the run: overload runs expect some.
	TolerateErrors bool
	// Rate, when set, paces the workers to this many requests per second
	// in all; each latency is then measured from the request's scheduled
	// time, so a stall counts against every request it delays.
	Rate float64
}

// LoadResult is what a run measured.
type LoadResult struct {
	Requests int // answered with success
	Events   int // taken by those requests
	Errors   int
	FirstErr error // the first failed request's error
	Shed     int
	Elapsed  time.Duration
	Latency  Latencies // of the successful requests, sorted
}

// ReqPerSec is the successful requests per second.
func (r LoadResult) ReqPerSec() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// EventsPerSec is the events taken per second.
func (r LoadResult) EventsPerSec() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// Run sends the requests and measures each one.
func (l Load) Run() (LoadResult, error) {
	hc := &fasthttp.HostClient{Addr: l.Addr, MaxConns: l.Conns, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		// Thousands of connections opened at once overflow the listen
		// backlog: a dropped SYN is resent after 1 s, then 3 s.
		Dial: func(addr string) (net.Conn, error) { return fasthttp.DialTimeout(addr, 10*time.Second) }}
	check := l.Check
	if check == nil {
		check = func(resp *fasthttp.Response, n int) (int, error) {
			if c := resp.StatusCode(); c < 200 || c > 299 {
				return 0, fmt.Errorf("status %d: %.200s", c, resp.Body())
			}
			return n, nil
		}
	}
	wait := l.ShedWait
	if wait <= 0 {
		wait = 50 * time.Millisecond
	}
	reqs := make([]*fasthttp.Request, l.Conns)
	resps := make([]*fasthttp.Response, l.Conns)
	for w := range reqs {
		reqs[w], resps[w] = fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	}
	defer func() {
		for w := range reqs {
			fasthttp.ReleaseRequest(reqs[w])
			fasthttp.ReleaseResponse(resps[w])
		}
	}()
	return loop(l.Conns, l.Duration, l.Rate, func(w int) (int, bool, error) {
		req, resp := reqs[w], resps[w]
		req.Reset()
		n := l.Request(w, req)
		req.SetHost(l.Addr)
		if err := hc.Do(req, resp); err != nil {
			return 0, false, err
		}
		if l.Shed != nil && l.Shed(resp) {
			if l.After != nil {
				l.After(w, true)
			}
			time.Sleep(wait)
			return 0, true, nil
		}
		if l.After != nil {
			l.After(w, false)
		}
		n, err := check(resp, n)
		return n, false, err
	}, l.TolerateErrors, l.Window)
}

// loop calls do from conns workers for d (paced to rate requests per
// second in all when rate > 0) and measures each call. do returns the
// events a call took, whether it was shed, or its error.
func loop(conns int, d time.Duration, rate float64, do func(w int) (events int, shed bool, err error), flags ...bool) (LoadResult, error) {
	tolerate := len(flags) > 0 && flags[0]
	window := len(flags) > 1 && flags[1]
	var wg sync.WaitGroup
	lats := make([]Latencies, conns)
	reqs, evs, errs, shed := make([]int, conns), make([]int, conns), make([]int, conns), make([]int, conns)
	var firstErr error
	var once sync.Once
	start := time.Now()
	deadline := start.Add(d)
	for w := range conns {
		wg.Go(func() {
			lat := make(Latencies, 0, 4096)
			var every time.Duration
			next := start
			if rate > 0 {
				every = time.Duration(float64(conns) / rate * float64(time.Second))
				next = start.Add(time.Duration(w) * every / time.Duration(conns))
			}
			for {
				t := time.Now()
				if every > 0 {
					if dt := next.Sub(t); dt > 0 {
						time.Sleep(dt)
					}
					t = next
					next = next.Add(every)
				}
				if !t.Before(deadline) {
					break
				}
				n, wasShed, err := do(w)
				took := time.Since(t)
				if window && time.Now().After(deadline) {
					break
				}
				switch {
				case err != nil:
					errs[w]++
					once.Do(func() { firstErr = err })
				case wasShed:
					shed[w]++
				default:
					reqs[w]++
					evs[w] += n
					lat = append(lat, took)
				}
			}
			lats[w] = lat
		})
	}
	wg.Wait()
	r := LoadResult{Elapsed: time.Since(start), Latency: merge(lats)}
	if window {
		r.Elapsed = d
	}
	r.FirstErr = firstErr
	for w := range conns {
		r.Requests += reqs[w]
		r.Events += evs[w]
		r.Errors += errs[w]
		r.Shed += shed[w]
	}
	if r.Errors > 0 && !tolerate {
		return r, fmt.Errorf("%d of %d requests failed, first: %w", r.Errors, r.Requests+r.Errors+r.Shed, firstErr)
	}
	if r.Requests == 0 {
		return r, fmt.Errorf("no request succeeded in %s (%d shed)", d, r.Shed)
	}
	return r, nil
}
