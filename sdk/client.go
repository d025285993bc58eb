package sdk

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Event is a touchpoint as the SDK sends it: set Type, Visitor and the
// fields of its type; Track fills ID, Seq and TS when they are empty.
type Event = event.Touchpoint

// Client sends touchpoints to a collector. It is safe for concurrent use.
type Client struct {
	cfg      Config
	url      string
	q        chan Event
	flushReq chan struct{}
	quit     chan struct{}
	done     chan struct{} // closed when the worker has exited
	closing  sync.Once
	closed   atomic.Bool

	sendCtx     context.Context
	cancelSends context.CancelFunc
	sem         chan struct{}
	inflight    sync.WaitGroup
	pending     atomic.Int64 // events taken off the queue (batching or sending), not yet sent or failed

	seqMu sync.Mutex
	seqs  map[event.VisitorID]uint32

	sent, retried, dropped, failed, abandoned atomic.Uint64
}

// New starts a client and its background worker. Close it when done.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:         cfg,
		url:         strings.TrimSuffix(cfg.Endpoint, "/") + "/v1/events",
		q:           make(chan Event, cfg.QueueSize),
		flushReq:    make(chan struct{}, 1),
		quit:        make(chan struct{}),
		done:        make(chan struct{}),
		sendCtx:     ctx,
		cancelSends: cancel,
		sem:         make(chan struct{}, cfg.MaxInFlight),
		seqs:        make(map[event.VisitorID]uint32),
	}
	go c.loop()
	return c, nil
}

// newIdle is New without the worker, for measuring Track alone.
func newIdle(cfg Config) *Client {
	cfg = cfg.withDefaults()
	return &Client{cfg: cfg, q: make(chan Event, cfg.QueueSize), seqs: make(map[event.VisitorID]uint32)}
}

// Track queues e and returns at once: it never blocks. It fills e's ID, Seq
// (a per-visitor counter) and TS (now) when they are zero. When the queue
// is full the event is dropped, counted and ErrQueueFull returned.
func (c *Client) Track(e Event) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if e.Site == "" {
		e.Site = c.cfg.Site
	}
	if e.TS == 0 {
		e.TS = time.Now().UnixMicro()
	}
	if e.ID == "" {
		e.ID = newID()
	}
	if e.Seq == 0 {
		e.Seq = c.nextSeq(e.Visitor)
	}
	if approxSize(&e) > c.cfg.MaxEventBytes {
		c.dropped.Add(1)
		return ErrEventTooLarge
	}
	select {
	case c.q <- e:
		return nil
	default:
		c.dropped.Add(1)
		return ErrQueueFull
	}
}

// nextSeq returns the visitor's next sequence number. The table is bounded:
// past 65536 visitors it starts afresh (seq only breaks ties of equal times).
func (c *Client) nextSeq(v event.VisitorID) uint32 {
	c.seqMu.Lock()
	defer c.seqMu.Unlock()
	if len(c.seqs) >= 1<<16 {
		clear(c.seqs)
	}
	c.seqs[v]++
	return c.seqs[v]
}

// newID returns 32 random hex characters. Ids need to be unique, not
// secret: math/rand/v2's per-thread ChaCha8 is several times cheaper than
// crypto/rand here, and Track's one allocation is this string.
func newID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

func approxSize(e *Event) int {
	n := 256 + len(e.ID) + len(e.Session) + len(e.URL) + len(e.Title) + len(e.Referrer) + len(e.Name) + len(e.Query) +
		len(e.Widget) + len(e.Currency) + len(e.User) + len(e.Comment) + len(e.UserAgent)
	for _, p := range e.Props {
		n += len(p.Key) + len(p.Value) + 6
	}
	return n
}

// Stats are a client's counters.
type Stats struct {
	Queued  int    // waiting in the queue now
	Pending int    // taken off the queue, being sent
	Sent    uint64 // accepted by the collector
	Retried uint64 // batch retries
	Dropped uint64 // refused by Track (queue full, too large)
	Failed  uint64 // given up after retries, or refused by the collector
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Queued: len(c.q), Pending: int(c.pending.Load()),
		Sent: c.sent.Load(), Retried: c.retried.Load(), Dropped: c.dropped.Load(), Failed: c.failed.Load() + c.abandoned.Load(),
	}
}

// Flush sends everything queued and waits until it is delivered (or given
// up) or ctx ends; then it returns an error wrapping ErrUndelivered that
// says how many events are still on their way.
func (c *Client) Flush(ctx context.Context) error {
	if c.closed.Load() {
		return ErrClosed
	}
	select {
	case c.flushReq <- struct{}{}:
	default: // a flush is already requested
	}
	return c.wait(ctx)
}

// wait polls until nothing is queued or pending.
func (c *Client) wait(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		left := len(c.q) + int(c.pending.Load())
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sdk: %d events not delivered: %w (%v)", left, ErrUndelivered, ctx.Err())
		case <-t.C:
		}
	}
}

// Close stops taking events, sends what is queued and waits for it until ctx
// ends. Events still undelivered then are abandoned, and the returned error
// (wrapping ErrUndelivered) says how many.
func (c *Client) Close(ctx context.Context) error {
	c.closing.Do(func() {
		c.closed.Store(true)
		close(c.quit)
	})
	err := c.wait(ctx)
	if err == nil {
		<-c.done
		c.inflight.Wait()
		c.cancelSends()
		return nil
	}
	// Out of time: abort the sends and count what they carried.
	before := c.abandoned.Load()
	c.cancelSends()
	<-c.done
	c.inflight.Wait()
	n := c.abandoned.Load() - before
	return fmt.Errorf("sdk: %d events not delivered: %w (%v)", n, ErrUndelivered, ctx.Err())
}
