package sdk

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// deliver sends batch until the collector takes it, refuses it or the
// retries run out, backing off between attempts. Re-sending is safe: the
// collector stores an event id once. A batch over the collector's body
// limit (413) is split in halves, each delivered on its own.
func (c *Client) deliver(batch []Event) {
	n := len(batch)
	for attempt := 0; ; attempt++ {
		r := c.post(batch)
		switch {
		case r.err == nil && r.status == http.StatusAccepted:
			c.accepted(batch, r.ans)
			return
		case c.sendCtx.Err() != nil:
			c.lose(n, fmt.Errorf("sdk: %d events abandoned by Close: %s", n, r))
			return
		case r.status == http.StatusRequestEntityTooLarge && n > 1:
			c.deliver(batch[:n/2])
			c.deliver(batch[n/2:])
			return
		case r.err == nil && !retriable(r.status):
			c.lose(n, fmt.Errorf("sdk: collector refused %d events: %s", n, r))
			return
		case attempt >= c.cfg.MaxRetries:
			c.lose(n, fmt.Errorf("sdk: gave up on %d events after %d attempts: %s", n, attempt+1, r))
			return
		}
		c.n.retried.Add(1)
		wait := max(c.backoff(attempt), r.retryAfter)
		if c.cfg.Logger != nil {
			c.cfg.Logger.Warn("touchtrail: retrying batch", "events", n, "attempt", attempt+1, "after", r.String(), "in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.sendCtx.Done():
			t.Stop()
			c.lose(n, fmt.Errorf("sdk: %d events abandoned by Close while backing off after %s", n, r))
			return
		}
	}
}

// retriable reports whether a status is worth another attempt: overload
// and server errors are; other client errors will not change.
func retriable(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// accepted counts a batch the collector answered 202.
func (c *Client) accepted(batch []Event, ans answer) {
	n := len(batch)
	c.pending.Add(-int64(n))
	sent := min(max(ans.Accepted, 0), n)
	filtered := min(max(ans.Dropped, 0), n-sent)
	c.n.sent.Add(uint64(sent))
	c.n.filtered.Add(uint64(filtered))
	if lost := n - sent - filtered; lost > 0 {
		c.n.failed.Add(uint64(lost))
		var first string
		if len(ans.Rejected) > 0 {
			if i := ans.Rejected[0].Index; i >= 0 && i < n {
				first = fmt.Sprintf(", first: event %s (%s): %s", batch[i].ID, batch[i].Type, ans.Rejected[0].Error)
			}
		}
		c.report(fmt.Errorf("sdk: collector rejected %d of %d events%s", lost, n, first))
	}
}

// lose counts n events given up and reports why.
func (c *Client) lose(n int, err error) {
	c.pending.Add(-int64(n))
	c.n.failed.Add(uint64(n))
	c.report(err)
}

func (c *Client) report(err error) {
	if c.cfg.OnError != nil {
		c.cfg.OnError(err)
	}
	if c.cfg.Logger != nil {
		c.cfg.Logger.Warn("touchtrail: " + strings.TrimPrefix(err.Error(), "sdk: "))
	}
}

// backoff is the wait before retry attempt+1: exponential from MinBackoff,
// capped at MaxBackoff, with "equal jitter" (a random point in the upper
// half) so that clients that failed together do not retry together.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.MaxBackoff
	if attempt < 40 {
		if e := c.cfg.MinBackoff << attempt; e > 0 && e < d {
			d = e
		}
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date; 0 when
// absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
