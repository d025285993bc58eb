package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Submitter takes records for durable storage: a store.Writer in Sync
// mode, so that Submit returns after the group commit.
type Submitter interface {
	Submit(ctx context.Context, recs []store.Record) error
}

// ConsumerConfig tunes a Consumer. Zero values mean the defaults.
type ConsumerConfig struct {
	Stream StreamConfig
	// Node names this store; its durable consumer is "store-<Node>", so a
	// restarted store resumes where it acknowledged. Required: 1 to 64 of
	// A-Z a-z 0-9 _ -.
	Node string
	// Partitions this store owns. Required.
	Partitions []int
	// Fresh says the store's directory was empty: its consumer is made
	// anew and replays the partitions from the start of the stream.
	Fresh bool
	// Batch is the most messages committed in one Submit. Default: 1024.
	Batch int
	// InFlight is how many batches may wait for their commits at once.
	// Default: 4.
	InFlight int
	// AckWait is how long JetStream waits for an acknowledgement before
	// it redelivers: messages lost on the way to a store (its NATS server
	// died) or to a store that crashed come again after it. Default: 10s.
	AckWait time.Duration
	// ReadyLag is the most messages the consumer may lag behind while
	// Ready answers nil. Default: 10000.
	ReadyLag uint64
	// PollEvery is how often the lag is read from JetStream. Default: 2s.
	PollEvery time.Duration
	Metrics   *Metrics
	// Applier applies the stream's identity links and erasures to the
	// store, in stream order between the writer's batches. Nil: they are
	// acknowledged and not applied (logged).
	Applier Applier
}

func (c ConsumerConfig) withDefaults() ConsumerConfig {
	if c.Batch <= 0 {
		c.Batch = 1024
	}
	if c.InFlight <= 0 {
		c.InFlight = 4
	}
	if c.AckWait <= 0 {
		c.AckWait = 10 * time.Second
	}
	if c.ReadyLag == 0 {
		c.ReadyLag = 10000
	}
	if c.PollEvery <= 0 {
		c.PollEvery = 2 * time.Second
	}
	return c
}

var nodeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidNode reports whether s may name a node.
func ValidNode(s string) bool { return nodeRE.MatchString(s) }

// Consumer is a store node's reader of the stream: a durable pull consumer
// filtered to the node's partitions. It hands each batch of messages to the
// writer and acknowledges them only after Submit returned nil (the commit
// is durable); a failed commit is negatively acknowledged and redelivered.
// Redelivered messages are harmless: the store dedupes by id.
type Consumer struct {
	cfg    ConsumerConfig
	stream StreamConfig
	nc     *nats.Conn
	js     jetstream.JetStream
	str    jetstream.Stream
	cons   jetstream.Consumer
	w      Submitter
	log    *slog.Logger
	m      *Metrics

	msgs    chan jetstream.Msg
	cc      jetstream.ConsumeContext
	sem     chan struct{}
	wg      sync.WaitGroup
	stop    chan struct{}
	stopped chan struct{}

	mu     sync.Mutex
	acked  map[int]uint64 // partition → highest stream sequence committed here
	lag    atomic.Int64   // pending + ack pending at the last poll; -1 unknown
	polled atomic.Int64   // Unix ns of the last successful poll
	warned time.Time
}

// NewConsumer makes (or resumes) the node's durable consumer and starts
// committing its messages through w.
func NewConsumer(ctx context.Context, nc *nats.Conn, w Submitter, cfg ConsumerConfig, log *slog.Logger) (*Consumer, error) {
	cfg = cfg.withDefaults()
	if !ValidNode(cfg.Node) {
		return nil, fmt.Errorf("node name %q: want 1 to 64 of A-Z a-z 0-9 _ -", cfg.Node)
	}
	if len(cfg.Partitions) == 0 {
		return nil, errors.New("a store needs partitions")
	}
	if log == nil {
		log = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("cannot use jetstream: %w", err)
	}
	sc, err := OpenStream(ctx, js, cfg.Stream)
	if err != nil {
		return nil, err
	}
	for _, p := range cfg.Partitions {
		if p < 0 || p >= sc.Partitions {
			return nil, fmt.Errorf("partition %d: the stream has %d partitions", p, sc.Partitions)
		}
	}
	c := &Consumer{
		cfg: cfg, stream: sc, nc: nc, js: js, w: w, log: log.With("module", "cluster.consumer", "node", cfg.Node), m: cfg.Metrics,
		msgs: make(chan jetstream.Msg, cfg.Batch), sem: make(chan struct{}, cfg.InFlight),
		stop: make(chan struct{}), stopped: make(chan struct{}), acked: map[int]uint64{},
	}
	if c.m == nil {
		c.m = NewMetrics(nil)
	}
	c.lag.Store(-1)
	if err := retry(ctx, func(ctx context.Context) (err error) {
		c.str, err = js.Stream(ctx, sc.Name)
		return err
	}); err != nil {
		return nil, fmt.Errorf("cannot get stream %q: %w", sc.Name, err)
	}
	if err := retry(ctx, c.makeConsumer); err != nil {
		return nil, err
	}
	c.cc, err = c.cons.Consume(func(m jetstream.Msg) {
		select {
		case c.msgs <- m:
		case <-c.stop: // not acknowledged: redelivered to the next run
		}
	}, jetstream.PullMaxMessages(cfg.Batch*cfg.InFlight), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		c.warn("consume", err)
	}))
	if err != nil {
		return nil, fmt.Errorf("cannot consume: %w", err)
	}
	go c.loop()
	go c.poll()
	return c, nil
}

// Durable returns the name of the node's consumer.
func (c *Consumer) Durable() string { return "store-" + c.cfg.Node }

// makeConsumer creates or updates the durable consumer. A fresh store, or
// one that gained partitions, gets a new consumer replaying from the start
// of the stream (the messages it has stored already are dropped as
// duplicates).
func (c *Consumer) makeConsumer(ctx context.Context) error {
	subjects := make([]string, len(c.cfg.Partitions))
	for i, p := range c.cfg.Partitions {
		subjects[i] = c.stream.subject(p)
	}
	name := c.Durable()
	replay := c.cfg.Fresh
	if old, err := c.str.Consumer(ctx, name); err == nil {
		have := old.CachedInfo().Config.FilterSubjects
		if f := old.CachedInfo().Config.FilterSubject; f != "" {
			have = append(have, f)
		}
		for _, s := range subjects {
			if !slices.Contains(have, s) {
				replay = true
				c.log.Info("partitions added: replaying them from the stream's start", "consumer", name)
				break
			}
		}
		if replay {
			if err := c.str.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
				return fmt.Errorf("cannot reset consumer %q: %w", name, err)
			}
		}
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("cannot look up consumer %q: %w", name, err)
	}
	cc := jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "touchtrail store " + c.cfg.Node + ", partitions " + FormatPartitions(c.cfg.Partitions),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 2 * c.cfg.Batch * c.cfg.InFlight,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	}
	if len(subjects) == 1 {
		cc.FilterSubject = subjects[0]
	} else {
		cc.FilterSubjects = subjects
	}
	cons, err := c.str.CreateOrUpdateConsumer(ctx, cc)
	if err != nil {
		return fmt.Errorf("cannot create consumer %q: %w", name, err)
	}
	c.cons = cons
	c.log.Info("consuming", "consumer", name, "partitions", FormatPartitions(c.cfg.Partitions), "replay", replay,
		"pending", cons.CachedInfo().NumPending)
	return nil
}

// loop takes what arrived (up to Batch messages) and commits it while the
// next batch gathers, at most InFlight batches at once.
func (c *Consumer) loop() {
	defer close(c.stopped)
	var held jetstream.Msg // a control message that ended the last batch
	for {
		var first jetstream.Msg
		if held != nil {
			first, held = held, nil
		} else {
			select {
			case first = <-c.msgs:
			case <-c.stop:
				c.wg.Wait()
				for { // hand back what waits here: redelivered at once, not after AckWait
					select {
					case m := <-c.msgs:
						_ = m.Nak()
					default:
						return
					}
				}
			}
		}
		if isControl(first) {
			// Links and erasures apply in stream order: after every batch
			// before them is committed, before any after them.
			c.wg.Wait()
			c.control(first)
			continue
		}
		batch := make([]jetstream.Msg, 1, c.cfg.Batch)
		batch[0] = first
	fill:
		for len(batch) < c.cfg.Batch {
			select {
			case m := <-c.msgs:
				if isControl(m) {
					held = m
					break fill
				}
				batch = append(batch, m)
			default:
				break fill
			}
		}
		c.sem <- struct{}{}
		c.wg.Add(1)
		go func() {
			defer func() { <-c.sem; c.wg.Done() }()
			c.commit(batch)
		}()
	}
}

// commit stores a batch and acknowledges it once durable.
func (c *Consumer) commit(batch []jetstream.Msg) {
	start := time.Now()
	recs := make([]store.Record, 0, len(batch))
	keep := batch[:0]
	var tp event.Touchpoint
	for _, m := range batch {
		if meta, err := m.Metadata(); err == nil && meta.NumDelivered > 1 {
			c.m.redelivered.Inc()
		}
		r, err := decodeRecord(m, &tp)
		if err != nil {
			c.warn("poison message terminated", err)
			c.m.consumed.WithLabelValues("poison").Inc()
			_ = m.Term()
			continue
		}
		recs = append(recs, r)
		keep = append(keep, m)
	}
	if len(recs) == 0 {
		return
	}
	if err := c.w.Submit(context.Background(), recs); err != nil {
		c.warn("commit failed: redelivering", err)
		c.m.consumed.WithLabelValues("retried").Add(float64(len(keep)))
		for _, m := range keep {
			_ = m.NakWithDelay(time.Second)
		}
		return
	}
	for _, m := range keep {
		_ = m.Ack()
	}
	c.m.consumed.WithLabelValues("committed").Add(float64(len(keep)))
	c.m.commitWait.Observe(time.Since(start).Seconds())
	c.committed(keep...)
}

// committed records the highest stream sequence committed per partition.
func (c *Consumer) committed(ms ...jetstream.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range ms {
		meta, err := m.Metadata()
		if err != nil {
			continue
		}
		if p := c.stream.partitionOf(m.Subject()); p >= 0 && meta.Sequence.Stream > c.acked[p] {
			c.acked[p] = meta.Sequence.Stream
		}
	}
}

// decodeRecord rebuilds a store.Record from a message: site, visitor and
// id from its message id, the rest from the binary touchpoint, which
// becomes the record's value as it is.
func decodeRecord(m jetstream.Msg, tp *event.Touchpoint) (store.Record, error) {
	id := m.Headers().Get(jetstream.MsgIDHeader)
	site, rest, ok := strings.Cut(id, "/")
	if !ok || len(rest) < 34 || rest[32] != '/' {
		return store.Record{}, fmt.Errorf("message id %q: want site/visitor/id", id)
	}
	v, err := event.ParseVisitor(rest[:32])
	if err != nil {
		return store.Record{}, fmt.Errorf("message id %q: %w", id, err)
	}
	if err := event.DecodeBinary(m.Data(), tp); err != nil {
		return store.Record{}, fmt.Errorf("message %q: %w", id, err)
	}
	r := store.Record{Site: site, Visitor: v, ID: tp.ID, Derived: tp.Derived, Seq: tp.Seq, Value: m.Data()}
	if tp.ID != rest[33:] {
		return store.Record{}, fmt.Errorf("message id %q: the touchpoint's id is %q", id, tp.ID)
	}
	if tp.Type == event.TypeIdentify {
		r.User = tp.User
	}
	if err := store.CheckRecords([]store.Record{r}); err != nil {
		return store.Record{}, err
	}
	return r, nil
}

// poll reads the consumer's lag and the age of the oldest uncommitted
// message of each partition every PollEvery.
func (c *Consumer) poll() {
	t := time.NewTicker(c.cfg.PollEvery)
	defer t.Stop()
	for {
		c.pollOnce()
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

func (c *Consumer) pollOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.PollEvery)
	defer cancel()
	info, err := c.cons.Info(ctx)
	if err != nil {
		c.warn("cannot read consumer lag", err)
		return
	}
	c.m.pending.Set(float64(info.NumPending))
	c.m.ackPending.Set(float64(info.NumAckPending))
	c.lag.Store(int64(info.NumPending) + int64(info.NumAckPending))
	c.polled.Store(time.Now().UnixNano())
	floor := info.AckFloor.Stream
	now := time.Now()
	for _, p := range c.cfg.Partitions {
		c.mu.Lock()
		from := max(c.acked[p], floor)
		c.mu.Unlock()
		age := 0.0
		msg, err := c.str.GetMsg(ctx, from+1, jetstream.WithGetMsgSubject(c.stream.subject(p)))
		switch {
		case err == nil:
			age = max(0, now.Sub(msg.Time).Seconds())
		case errors.Is(err, jetstream.ErrMsgNotFound):
		default:
			c.warn("cannot read partition lag", err)
			return
		}
		c.m.partitionLag.WithLabelValues(partLabel(p)).Set(age)
	}
}

// Lag returns the messages of the node's partitions not yet committed here
// at the last poll (-1 before the first).
func (c *Consumer) Lag() int64 { return c.lag.Load() }

// Ready returns nil while the consumer is within ReadyLag messages of the
// stream and its last poll is recent (the stream answers).
func (c *Consumer) Ready() error {
	lag := c.lag.Load()
	if lag < 0 {
		return errors.New("consumer lag not known yet")
	}
	if age := time.Since(time.Unix(0, c.polled.Load())); age > 3*c.cfg.PollEvery+time.Second {
		return fmt.Errorf("stream not answering for %s", age.Round(time.Second))
	}
	if uint64(lag) > c.cfg.ReadyLag {
		return fmt.Errorf("consumer %d messages behind (ready at %d)", lag, c.cfg.ReadyLag)
	}
	return nil
}

// Close stops taking messages and waits until the batches in flight are
// committed and acknowledged, or ctx ends. Messages not yet committed are
// redelivered to the next run.
func (c *Consumer) Close(ctx context.Context) error {
	select {
	case <-c.stop:
		return nil
	default:
	}
	c.cc.Stop()
	close(c.stop)
	select {
	case <-c.stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("consumer closed with batches in flight: %w", ctx.Err())
	}
}

// warn logs at most one line per kind of trouble every 10 seconds.
func (c *Consumer) warn(msg string, err error) {
	c.mu.Lock()
	quiet := time.Since(c.warned) < 10*time.Second
	if !quiet {
		c.warned = time.Now()
	}
	c.mu.Unlock()
	if !quiet {
		c.log.Warn(msg, "err", err)
	}
}

// FormatPartitions writes a sorted partition set as ranges: "0-7,16".
func FormatPartitions(ps []int) string {
	var b strings.Builder
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", ps[i])
		if j > i {
			fmt.Fprintf(&b, "-%d", ps[j])
		}
		i = j + 1
	}
	return b.String()
}
