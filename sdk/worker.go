package sdk

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// loop is the worker: it batches the queue by count, bytes and time, and
// hands full batches to senders (at most MaxInFlight at once).
func (c *Client) loop() {
	defer close(c.done)
	tick := time.NewTicker(c.cfg.FlushInterval)
	defer tick.Stop()
	var batch []Event
	size := 0
	dispatch := func() {
		if len(batch) == 0 {
			return
		}
		c.sem <- struct{}{}
		c.inflight.Add(1)
		go c.send(batch)
		batch, size = nil, 0
	}
	add := func(e Event) {
		c.pending.Add(1) // off the queue: pending until sent or given up
		s := approxSize(&e)
		if len(batch) > 0 && size+s > c.cfg.BatchBytes {
			dispatch()
		}
		batch = append(batch, e)
		size += s
		if len(batch) >= c.cfg.BatchSize {
			dispatch()
		}
	}
	// drain moves everything queued into batches.
	drain := func() {
		for {
			select {
			case e := <-c.q:
				add(e)
			default:
				dispatch()
				return
			}
		}
	}
	for {
		select {
		case e := <-c.q:
			add(e)
		case <-tick.C:
			dispatch()
		case <-c.flushReq:
			drain()
		case <-c.quit:
			drain()
			return
		}
	}
}

// answer is the collector's 202 body.
type answer struct {
	Accepted int `json:"accepted"`
	Rejected []struct {
		Index int    `json:"index"`
		Error string `json:"error"`
	} `json:"rejected"`
	Dropped int `json:"dropped"` // bot traffic
}

// send delivers one batch, retrying network errors, 5xx and 429.
func (c *Client) send(batch []Event) {
	n := len(batch)
	defer func() {
		c.pending.Add(-int64(n))
		<-c.sem
		c.inflight.Done()
	}()
	for attempt := 0; ; attempt++ {
		status, retryAfter, ans, err := c.post(batch)
		if c.sendCtx.Err() != nil {
			c.abandoned.Add(uint64(n))
			return
		}
		switch {
		case err == nil && status == http.StatusAccepted:
			c.sent.Add(uint64(ans.Accepted))
			if ans.Dropped > 0 {
				c.failed.Add(uint64(ans.Dropped))
				c.report(fmt.Errorf("sdk: collector dropped %d of %d events as bot traffic", ans.Dropped, n))
			}
			if len(ans.Rejected) > 0 {
				c.failed.Add(uint64(len(ans.Rejected)))
				c.report(fmt.Errorf("sdk: collector rejected %d of %d events, first: #%d %s",
					len(ans.Rejected), n, ans.Rejected[0].Index, ans.Rejected[0].Error))
			}
			return
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			c.failed.Add(uint64(n))
			c.report(fmt.Errorf("sdk: collector refused a batch of %d events: %d", n, status))
			return
		case attempt >= c.cfg.MaxRetries:
			c.failed.Add(uint64(n))
			c.report(fmt.Errorf("sdk: gave up on %d events after %d attempts: status %d: %v", n, attempt+1, status, err))
			return
		}
		c.retried.Add(1)
		wait := c.backoff(attempt)
		if retryAfter > wait {
			wait = retryAfter
		}
		if c.cfg.Logger != nil {
			c.cfg.Logger.Warn("touchtrail: retrying batch", "events", n, "status", status, "err", err, "in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.sendCtx.Done():
			t.Stop()
			c.abandoned.Add(uint64(n))
			return
		}
	}
}

// backoff is exponential with full jitter between MinBackoff and MaxBackoff.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.MinBackoff << min(attempt, 30)
	if d <= 0 || d > c.cfg.MaxBackoff {
		d = c.cfg.MaxBackoff
	}
	return c.cfg.MinBackoff/2 + rand.N(d)
}

func (c *Client) report(err error) {
	if c.cfg.OnError != nil {
		c.cfg.OnError(err)
	}
	if c.cfg.Logger != nil {
		c.cfg.Logger.Warn(err.Error())
	}
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
var gzPool = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// post sends batch once, with "sent" set to now, gzipped.
func (c *Client) post(batch []Event) (status int, retryAfter time.Duration, ans answer, err error) {
	now := time.Now().UnixMicro()
	js := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(js)
	js.Reset()
	b := append(js.AvailableBuffer(), `{"site":`...)
	b = event.AppendJSONString(b, c.cfg.Site)
	b = append(b, `,"events":[`...)
	for i := range batch {
		if i > 0 {
			b = append(b, ',')
		}
		batch[i].Sent = now
		b = event.AppendWire(b, &batch[i])
	}
	b = append(b, ']', '}')
	gzBody := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(gzBody)
	gzBody.Reset()
	zw := gzPool.Get().(*gzip.Writer)
	zw.Reset(gzBody)
	_, _ = zw.Write(b)
	_ = zw.Close()
	gzPool.Put(zw)

	req, err := http.NewRequestWithContext(c.sendCtx, http.MethodPost, c.url, bytes.NewReader(gzBody.Bytes()))
	if err != nil {
		return 0, 0, ans, fmt.Errorf("sdk: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+c.cfg.WriteKey)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, 0, ans, fmt.Errorf("sdk: post: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs > 0 {
			retryAfter = time.Duration(secs) * time.Second
		}
	}
	if resp.StatusCode == http.StatusAccepted {
		if err := json.Unmarshal(body, &ans); err != nil {
			return resp.StatusCode, 0, ans, errors.New("sdk: unreadable collector answer")
		}
	}
	return resp.StatusCode, retryAfter, ans, nil
}
