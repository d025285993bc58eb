package sdk

import (
	"sync/atomic"
	"time"
)

// Stats are a client's counters, from its start. Events end in exactly one
// of Sent, Filtered, Dropped or Failed; Queued and Pending are the ones on
// their way.
type Stats struct {
	Queued   int    // waiting in the queue now
	Pending  int    // taken off the queue: batching, being sent or waiting to be retried
	Sent     uint64 // accepted by the collector
	Filtered uint64 // delivered, but not stored by the collector (bot traffic)
	Retried  uint64 // batch retries (each counts once per attempt after the first)
	Dropped  uint64 // refused by Track: queue full or event too large
	Failed   uint64 // given up after retries, refused by the collector, or abandoned by Close
}

// counters are the atomics behind Stats.
type counters struct {
	sent, filtered, retried, dropped, failed atomic.Uint64
	lastDropWarn                             atomic.Int64 // Unix ns of the last queue-full warning
}

// Stats returns the client's counters. It is safe for concurrent use.
func (c *Client) Stats() Stats {
	return Stats{
		Queued:   len(c.q),
		Pending:  int(c.pending.Load()),
		Sent:     c.n.sent.Load(),
		Filtered: c.n.filtered.Load(),
		Retried:  c.n.retried.Load(),
		Dropped:  c.n.dropped.Load(),
		Failed:   c.n.failed.Load(),
	}
}

// dropWarnEvery throttles the queue-full warning: Track is a hot path.
const dropWarnEvery = 10 * time.Second

// drop counts an event refused by Track and warns, at most every
// dropWarnEvery, when the queue is full.
func (c *Client) drop(err error) error {
	n := c.n.dropped.Add(1)
	if c.cfg.Logger != nil && err == ErrQueueFull {
		now := time.Now().UnixNano()
		last := c.n.lastDropWarn.Load()
		if now-last >= int64(dropWarnEvery) && c.n.lastDropWarn.CompareAndSwap(last, now) {
			c.cfg.Logger.Warn("touchtrail: queue full, dropping events", "dropped", n, "queue", cap(c.q))
		}
	}
	return err
}
