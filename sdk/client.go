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
)

// Client sends touchpoints to a collector from a background worker. It is
// safe for concurrent use. Make one per process with New and Close it on
// shutdown.
type Client struct {
	cfg      Config
	url      string
	q        chan Event
	flushReq chan struct{}
	quit     chan struct{}
	done     chan struct{} // closed when the worker has exited
	closing  sync.Once
	closed   atomic.Bool

	// inbox counts events inside Track or in q; pending those the worker
	// has taken. The worker raises pending before it lowers inbox, so
	// reading inbox then pending never misses an event (see outstanding).
	inbox, pending atomic.Int64

	sendCtx     context.Context // cancelled when Close runs out of time
	cancelSends context.CancelFunc
	sem         chan struct{} // one slot per batch in flight
	inflight    sync.WaitGroup

	seqMu sync.Mutex
	seqs  map[string]uint32

	n counters
}

// New checks cfg and starts a client and its background worker. The error
// is a *ConfigError for an unusable cfg.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := newClient(cfg)
	go c.loop()
	return c, nil
}

// newClient makes a client without starting its worker.
func newClient(cfg Config) *Client {
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{
		cfg:         cfg,
		url:         strings.TrimSuffix(cfg.Endpoint, "/") + "/v1/events",
		q:           make(chan Event, cfg.QueueSize),
		flushReq:    make(chan struct{}, 1),
		quit:        make(chan struct{}),
		done:        make(chan struct{}),
		sendCtx:     ctx,
		cancelSends: cancel,
		sem:         make(chan struct{}, cfg.MaxInFlight),
		seqs:        make(map[string]uint32),
	}
}

// Track queues e to be sent and returns at once: it never blocks. It fills
// e's ID (16 random bytes in hex), Seq (a per-visitor counter) and Time
// (now) when they are zero. When the queue is full the event is dropped,
// counted and ErrQueueFull returned; after Close it returns ErrClosed. An
// event without a valid Type or Visitor is refused with an error matching
// ErrInvalid. Track is safe for concurrent use; e is copied, so the caller
// may reuse it (but not the backing array of e.Props until the event is
// sent).
func (c *Client) Track(e Event) error {
	if err := e.check(); err != nil {
		return fmt.Errorf("sdk: %w", err)
	}
	// inbox is raised before closed is read and Close sets closed before
	// its worker reads inbox, so every event that gets past this check is
	// drained by Close (both are sequentially consistent atomics).
	c.inbox.Add(1)
	if c.closed.Load() {
		c.inbox.Add(-1)
		return ErrClosed
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.ID == "" {
		e.ID = newID()
	}
	if e.Seq == 0 {
		e.Seq = c.nextSeq(e.Visitor)
	}
	if approxSize(&e) > c.cfg.MaxEventBytes {
		c.inbox.Add(-1)
		return c.drop(ErrEventTooLarge)
	}
	select {
	case c.q <- e:
		return nil
	default:
		c.inbox.Add(-1)
		return c.drop(ErrQueueFull)
	}
}

// nextSeq returns the visitor's next sequence number. The table is bounded:
// past 65536 visitors it starts afresh (seq only breaks ties of equal
// times within one visitor's trail).
func (c *Client) nextSeq(v string) uint32 {
	c.seqMu.Lock()
	if len(c.seqs) >= 1<<16 {
		clear(c.seqs)
	}
	n := c.seqs[v] + 1
	c.seqs[v] = n
	c.seqMu.Unlock()
	return n
}

// newID returns 16 random bytes as 32 hex characters. Ids need to be
// unique, not secret: math/rand/v2's ChaCha8 source is several times
// cheaper than crypto/rand, and this string is Track's one allocation.
func newID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// approxSize bounds the wire JSON of e from above, without encoding it.
func approxSize(e *Event) int {
	n := 320 + len(e.ID) + len(e.Visitor) + len(e.Session) + len(e.URL) + len(e.Title) + len(e.Referrer) + len(e.Name) +
		len(e.Query) + len(e.Widget) + len(e.Currency) + len(e.User) + len(e.Comment) + len(e.UserAgent)
	for _, p := range e.Props {
		n += len(p.Key) + len(p.Value) + 6
	}
	return n
}

// outstanding is the number of events tracked and not yet sent or given up.
func (c *Client) outstanding() int64 {
	in := c.inbox.Load() // first: an event moves from inbox to pending
	return in + c.pending.Load()
}

// Flush asks the worker to send everything queued now and waits until no
// event is queued or in flight, or ctx ends. Under steady traffic that
// may be never: Flush is for quiet moments (the end of a batch job, a
// test); Close is the shutdown path. It returns nil when every event is
// delivered, else an error wrapping ErrUndelivered that says how many
// were given up while it waited or are still on their way (those go on).
func (c *Client) Flush(ctx context.Context) error {
	if c.closed.Load() {
		return ErrClosed
	}
	before := c.n.failed.Load()
	select {
	case c.flushReq <- struct{}{}:
	default: // a flush is already requested
	}
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		left := c.outstanding()
		if left == 0 {
			return undelivered(c.n.failed.Load()-before, nil)
		}
		select {
		case <-ctx.Done():
			return undelivered(uint64(left)+c.n.failed.Load()-before, ctx.Err())
		case <-t.C:
		}
	}
}

// Close stops taking events (Track returns ErrClosed), sends everything
// queued and waits for it until ctx ends; then it abandons what is left.
// It returns nil when every event was delivered, else an error wrapping
// ErrUndelivered that says how many events were given up or abandoned
// since it was called. It is safe to call more than once.
func (c *Client) Close(ctx context.Context) error {
	before := c.n.failed.Load()
	c.closing.Do(func() {
		c.closed.Store(true)
		close(c.quit)
	})
	idle := make(chan struct{})
	go func() {
		<-c.done // the worker has drained the queue and dispatched every batch
		c.inflight.Wait()
		close(idle)
	}()
	var cause error
	select {
	case <-idle:
	case <-ctx.Done():
		cause = ctx.Err()
		c.cancelSends() // sends in flight or backing off give up and count themselves failed
		<-idle
	}
	c.cancelSends()
	return undelivered(c.n.failed.Load()-before, cause)
}

// undelivered is the error of Flush and Close for n lost events.
func undelivered(n uint64, cause error) error {
	switch {
	case n == 0:
		return nil
	case cause == nil:
		return fmt.Errorf("sdk: %d %w (see OnError)", n, ErrUndelivered)
	default:
		return fmt.Errorf("sdk: %d %w: %v", n, ErrUndelivered, cause)
	}
}
