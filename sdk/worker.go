package sdk

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// loop is the worker: one goroutine selecting on the queue, a ticker and
// quit. It batches events by count, bytes and time and hands each batch to
// a sender goroutine, at most MaxInFlight at once (dispatch waits for a
// slot, so a slow collector backs the queue up instead of growing memory).
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
		go c.send(batch) // the sender owns batch from here
		batch, size = nil, 0
	}
	add := func(e Event) {
		c.pending.Add(1) // before inbox goes down: see Client.outstanding
		c.inbox.Add(-1)
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
	// drain batches everything queued now and dispatches the rest.
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
			// Track calls that got past the closed flag are still counted
			// in inbox: wait for their events too.
			for {
				drain()
				if c.inbox.Load() == 0 {
					return
				}
				runtime.Gosched()
			}
		}
	}
}

// send delivers one batch and frees its in-flight slot.
func (c *Client) send(batch []Event) {
	defer func() {
		<-c.sem
		c.inflight.Done()
	}()
	c.deliver(batch)
}

// answer is the collector's 202 body.
type answer struct {
	Accepted int `json:"accepted"`
	Rejected []struct {
		Index int    `json:"index"`
		Error string `json:"error"`
	} `json:"rejected"`
	Dropped int `json:"dropped"` // not stored: bot traffic
}

// result is what one POST came to.
type result struct {
	status     int           // 0: no answer (err says why)
	retryAfter time.Duration // from a Retry-After header
	ans        answer        // of a 202
	msg        string        // the collector's {"error": …} of other statuses
	err        error         // network error, or an unreadable 202
}

func (r result) String() string {
	switch {
	case r.err != nil:
		return r.err.Error()
	case r.msg != "":
		return fmt.Sprintf("%d %s: %s", r.status, http.StatusText(r.status), r.msg)
	default:
		return fmt.Sprintf("%d %s", r.status, http.StatusText(r.status))
	}
}

// encoder holds the buffers of one batch's body; they are pooled.
type encoder struct {
	js []byte
	zw *gzip.Writer
}

var encoders = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // JSON compresses well at any level; spare the CPU
	return &encoder{zw: zw}
}}

// encode returns the gzipped body of batch, sent as of now. The body is a
// new slice: the HTTP transport may read it after the request returns.
func encode(site string, batch []Event, now time.Time) []byte {
	en := encoders.Get().(*encoder)
	defer encoders.Put(en)
	b := append(en.js[:0], `{"site":`...)
	b = appendJSONString(b, site)
	b = append(b, `,"events":[`...)
	for i := range batch {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendWire(b, &batch[i], now)
	}
	b = append(b, ']', '}')
	en.js = b
	out := bytes.NewBuffer(make([]byte, 0, len(b)/4+64))
	en.zw.Reset(out)
	_, _ = en.zw.Write(b) // a bytes.Buffer does not fail
	_ = en.zw.Close()
	return out.Bytes()
}

// post sends batch once, gzipped, within Timeout.
func (c *Client) post(batch []Event) result {
	body := encode(c.cfg.Site, batch, time.Now())
	ctx, cancel := context.WithTimeout(c.sendCtx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return result{err: fmt.Errorf("sdk: request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+c.cfg.WriteKey)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return result{err: fmt.Errorf("sdk: post: %w", err)}
	}
	defer resp.Body.Close()
	r := result{status: resp.StatusCode, retryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusAccepted {
		if err == nil {
			err = json.Unmarshal(data, &r.ans)
		}
		if err != nil {
			r.err = fmt.Errorf("sdk: unreadable collector answer: %w", err)
		}
		return r
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil {
		r.msg = e.Error
	}
	return r
}
