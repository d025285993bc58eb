package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// watchdog keeps a store's consumption going. The client library pulls
// again by itself after a leadership change or a reconnection, but not
// after a pull that met "no responders" (the consumer's leader not elected
// yet, as at the start of a cluster) or that was lost with the server
// holding it ("server shutdown"): then it waits for a missed heartbeat
// (30 s), and a deleted consumer ends the consumption for good. The
// watchdog restarts the consumption at once on those errors, and whenever
// a lag reading shows messages pending, none delivered since the reading
// before, the store idle and no pull waiting at the leader (whatever lost
// the pull) — or, a pull waiting, for stallReadings readings in a row
// while nothing awaits acknowledgement. A consumer that is gone is made
// again, replaying the stream (the store dedupes). While it is stalled,
// Ready says so.
type watchdog struct {
	ccMu sync.Mutex
	cons jetstream.Consumer
	cc   jetstream.ConsumeContext

	kick      chan string  // a reason to restart now (from the error handler)
	delivered atomic.Int64 // messages handed to the loop
	seen      int64        // delivered at the previous reading (poll goroutine only)
	idle      int          // readings in a row with pending messages and no delivery
	stall     atomic.Pointer[string]
	backoff   time.Duration
	next      time.Time // no restart before (poll goroutine only)
}

// stallReadings is how many lag readings in a row may show messages
// pending and nothing delivered, while a pull waits at the leader, before
// the consumption is restarted anyway (a pull the server keeps but never
// serves).
const stallReadings = 10

func (c *Consumer) consumer() jetstream.Consumer {
	c.ccMu.Lock()
	defer c.ccMu.Unlock()
	return c.cons
}

// consume starts (or starts again) the consumption of c.cons.
func (c *Consumer) consume() error {
	c.ccMu.Lock()
	defer c.ccMu.Unlock()
	select {
	case <-c.stop:
		return nil
	default:
	}
	if c.cc != nil {
		c.cc.Stop()
	}
	cc, err := c.cons.Consume(func(m jetstream.Msg) {
		c.delivered.Add(1)
		select {
		case c.msgs <- m:
		case <-c.stop: // not acknowledged: redelivered to the next run
		}
	}, jetstream.PullMaxMessages(c.cfg.Batch*c.cfg.InFlight), jetstream.ConsumeErrHandler(c.consumeError))
	if err != nil {
		return fmt.Errorf("cannot consume: %w", err)
	}
	c.cc = cc
	return nil
}

// consumeError is the consumption's error handler: errors after which the
// library would not pull again soon ask the poll goroutine for a restart.
func (c *Consumer) consumeError(_ jetstream.ConsumeContext, err error) {
	c.warn("consume", err)
	switch {
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrServerShutdown),
		errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound),
		errors.Is(err, jetstream.ErrBadRequest):
		select {
		case c.kick <- err.Error():
		default: // a restart is asked for already
		}
	}
}

// check is called with each lag reading: it restarts a stalled
// consumption and clears the stall once messages flow (or none wait).
func (c *Consumer) check(info *jetstream.ConsumerInfo) {
	d := c.delivered.Load()
	moved := d != c.seen
	c.seen = d
	// Messages waiting for the loop, or batches committing: the store is
	// busy, not stalled (the client pulls again as it drains them).
	busy := len(c.msgs) > 0 || len(c.sem) > 0
	if info.NumPending == 0 || moved || busy {
		c.idle = 0
		c.backoff = 0
		if c.stall.Load() != nil {
			c.log.Info("consuming again")
			c.stall.Store(nil)
		}
		return
	}
	c.idle++
	switch {
	case info.NumWaiting == 0 && c.idle >= 2:
		c.restart("messages pending and no pull waiting")
	case c.idle >= stallReadings && info.NumAckPending == 0:
		c.restart("messages pending and none delivered")
	}
}

// stalled returns why the consumption is stalled, or "".
func (c *Consumer) stalled() string {
	if p := c.stall.Load(); p != nil {
		return *p
	}
	return ""
}

// restart starts the consumption again, making the consumer anew if it is
// gone; failures back off (250 ms doubling to 5 s) and are retried at the
// next reading. Called on the poll goroutine only.
func (c *Consumer) restart(why string) {
	c.stall.Store(&why)
	select {
	case <-c.stop:
		return
	default:
	}
	if time.Now().Before(c.next) {
		return
	}
	c.backoff = min(max(2*c.backoff, 250*time.Millisecond), 5*time.Second)
	c.next = time.Now().Add(c.backoff)
	c.idle = 0
	c.m.restarts.Inc()
	c.log.Warn("consumer stalled: consuming again", "why", why)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := c.str.Consumer(ctx, c.Durable()); errors.Is(err, jetstream.ErrConsumerNotFound) {
		c.log.Warn("consumer gone: making it again, replaying the stream", "consumer", c.Durable())
		if err := c.makeConsumer(ctx); err != nil {
			c.warn("cannot make the consumer again", err)
			return
		}
	} else if err != nil {
		c.warn("cannot look up the consumer", err)
		return
	}
	if err := c.consume(); err != nil {
		c.warn("cannot consume again", err)
	}
}
