package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/pkg/store"
)

// PublisherConfig tunes a Publisher. Zero values mean the defaults.
type PublisherConfig struct {
	Stream StreamConfig
	// Mode is store.Sync (Submit returns once JetStream acknowledged
	// every record, replicated when the stream is) or store.Async (Submit
	// returns once the records are handed to the connection). Default:
	// store.Sync.
	Mode store.Durability
	// AckTimeout bounds the wait for JetStream's acknowledgement of one
	// message. Default: 5s.
	AckTimeout time.Duration
	// MaxPending bounds the messages published and not yet acknowledged;
	// past it Submit answers store.ErrOverloaded. Default: 16384.
	MaxPending int
	// Metrics receives the publisher's metrics. Default: none.
	Metrics *Metrics
}

func (c PublisherConfig) withDefaults() PublisherConfig {
	if c.AckTimeout <= 0 {
		c.AckTimeout = 5 * time.Second
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 16384
	}
	return c
}

// Publisher is an ingest node's submitter: it publishes each record's
// binary touchpoint to the subject of its partition, with a message id made
// of site, visitor and event id, so JetStream's duplicate window drops a
// retry before any store sees it. Safe for concurrent use.
type Publisher struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	cfg     PublisherConfig
	stream  StreamConfig
	log     *slog.Logger
	m       *Metrics
	healthy atomic.Bool // false after a publish failed for want of a stream, until a probe succeeds
	stop    chan struct{}
	stopped chan struct{}
}

// NewPublisher makes the stream if it does not exist (with cfg.Stream's P
// and replicas) and returns a publisher to it. nc stays the caller's.
func NewPublisher(ctx context.Context, nc *nats.Conn, cfg PublisherConfig, log *slog.Logger) (*Publisher, error) {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(cfg.MaxPending), jetstream.WithPublishAsyncTimeout(cfg.AckTimeout))
	if err != nil {
		return nil, fmt.Errorf("cannot use jetstream: %w", err)
	}
	sc, err := EnsureStream(ctx, js, cfg.Stream)
	if err != nil {
		return nil, err
	}
	p := &Publisher{nc: nc, js: js, cfg: cfg, stream: sc, log: log.With("module", "cluster.publisher"),
		m: cfg.Metrics, stop: make(chan struct{}), stopped: make(chan struct{})}
	if p.m == nil {
		p.m = NewMetrics(nil)
	}
	p.m.publishPendingFn.Store(&pendingFn{f: js.PublishAsyncPending})
	p.healthy.Store(true)
	go p.probe()
	p.log.Info("publishing", "stream", sc.Name, "partitions", sc.Partitions, "replicas", sc.Replicas, "mode", modeName(cfg.Mode))
	return p, nil
}

// Stream returns the stream's config as read back from JetStream.
func (p *Publisher) Stream() StreamConfig { return p.stream }

// Submit publishes recs. In Sync mode it returns when JetStream has
// acknowledged all of them; in Async mode when they are handed to the
// connection (a failed acknowledgement is then logged and counted only).
// A stream that cannot be reached gives an error wrapping
// store.ErrUnavailable at once (async, after a failure, until a probe
// succeeds) or within AckTimeout (sync); too many messages waiting for
// acknowledgement give store.ErrOverloaded. Safe for concurrent use.
func (p *Publisher) Submit(ctx context.Context, recs []store.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := store.CheckRecords(recs); err != nil {
		return err
	}
	if st := p.nc.Status(); st != nats.CONNECTED {
		p.m.publishFailed.WithLabelValues("disconnected").Add(float64(len(recs)))
		return fmt.Errorf("nats connection %s: %w", st, store.ErrUnavailable)
	}
	if p.cfg.Mode == store.Async && !p.healthy.Load() {
		p.m.publishFailed.WithLabelValues("unavailable").Add(float64(len(recs)))
		return fmt.Errorf("stream %s did not acknowledge lately: %w", p.stream.Name, store.ErrUnavailable)
	}
	start := time.Now()
	futs := make([]jetstream.PubAckFuture, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		m := &nats.Msg{
			Subject: p.stream.subject(Partition(r.Site, r.Visitor, p.stream.Partitions)),
			Data:    r.Value,
			Header:  nats.Header{jetstream.MsgIDHeader: []string{MsgID(r)}},
		}
		f, err := p.js.PublishMsgAsync(m, jetstream.WithRetryAttempts(0), jetstream.WithStallWait(100*time.Millisecond))
		if err != nil {
			// Those before were published: they may be stored, and a
			// retry is dropped by the duplicate window or the store.
			p.m.publishFailed.WithLabelValues(failReason(err)).Add(float64(len(recs) - i))
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				return fmt.Errorf("publish: %w (%w)", store.ErrOverloaded, err)
			}
			return fmt.Errorf("publish: %w: %w", store.ErrUnavailable, err)
		}
		futs = append(futs, f)
		if lm := p.stream.linkMessage(r); lm != nil { // identity across partitions (identity.go)
			f, err := p.js.PublishMsgAsync(lm, jetstream.WithRetryAttempts(0), jetstream.WithStallWait(100*time.Millisecond))
			if err != nil {
				p.m.publishFailed.WithLabelValues(failReason(err)).Add(float64(len(recs) - i))
				return fmt.Errorf("publish identity link: %w: %w", store.ErrUnavailable, err)
			}
			futs = append(futs, f)
		}
	}
	if p.cfg.Mode == store.Async {
		go p.await(context.Background(), futs, len(recs), start) //nolint:errcheck // counted and logged inside
		return nil
	}
	return p.await(ctx, futs, len(recs), start)
}

// await waits for every future's acknowledgement (of events messages, and
// of the identity links among them), counts the outcome and returns the
// first failure (wrapping store.ErrUnavailable).
func (p *Publisher) await(ctx context.Context, futs []jetstream.PubAckFuture, events int, start time.Time) error {
	var first error
	failed := 0
	for _, f := range futs {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				p.m.publishDuplicates.Inc()
			}
		case err := <-f.Err():
			failed++
			p.m.publishFailed.WithLabelValues(failReason(err)).Inc()
			if first == nil {
				first = err
			}
		case <-ctx.Done():
			p.m.publishFailed.WithLabelValues("timeout").Add(float64(len(futs) - failed))
			return fmt.Errorf("waiting for jetstream acknowledgements: %w: %w", store.ErrUnavailable, ctx.Err())
		}
	}
	p.m.publishSeconds.Observe(time.Since(start).Seconds())
	if first != nil {
		p.healthy.Store(false)
		if p.cfg.Mode == store.Async {
			p.log.Error("async publish not acknowledged: events may be lost", "failed", failed, "of", len(futs), "err", first)
		}
		return fmt.Errorf("%d of %d events not acknowledged by stream %s: %w: %w", failed, len(futs), p.stream.Name, store.ErrUnavailable, first)
	}
	p.m.published.Add(float64(events))
	return nil
}

// probe restores the healthy flag once the stream answers again.
func (p *Publisher) probe() {
	defer close(p.stopped)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if p.healthy.Load() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := p.js.Stream(ctx, p.stream.Name)
		cancel()
		if err == nil {
			p.healthy.Store(true)
			p.log.Info("stream answers again", "stream", p.stream.Name)
		}
	}
}

// Ready returns nil while the publisher can publish: connected, and the
// stream acknowledged lately.
func (p *Publisher) Ready() error {
	if st := p.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("nats connection %s", st)
	}
	if !p.healthy.Load() {
		return fmt.Errorf("stream %s does not acknowledge", p.stream.Name)
	}
	return nil
}

// Close waits until ctx ends for the acknowledgements of what was
// published (async mode), then stops. The connection stays open.
func (p *Publisher) Close(ctx context.Context) error {
	select {
	case <-p.stop:
		return nil
	default:
	}
	close(p.stop)
	<-p.stopped
	select {
	case <-p.js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publisher closed with %d messages not acknowledged: %w", p.js.PublishAsyncPending(), ctx.Err())
	}
}

// MsgID returns the JetStream message id of a record: site, visitor and
// event id, the triple a store dedupes on.
func MsgID(r *store.Record) string {
	b := make([]byte, 0, len(r.Site)+len(r.ID)+34)
	b = append(b, r.Site...)
	b = append(b, '/')
	b = r.Visitor.AppendHex(b)
	b = append(b, '/')
	b = append(b, r.ID...)
	return string(b)
}

func failReason(err error) string {
	switch {
	case errors.Is(err, jetstream.ErrTooManyStalledMsgs):
		return "stalled"
	case errors.Is(err, jetstream.ErrAsyncPublishTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return "timeout"
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse):
		return "no_stream"
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrConnectionReconnecting):
		return "disconnected"
	}
	return "error"
}

func modeName(m store.Durability) string {
	if m == store.Async {
		return "async"
	}
	return "sync"
}
