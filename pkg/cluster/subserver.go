package cluster

import (
	"context"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"
)

// subServer is what a store node's scatter and scan servers share: one
// subscription whose requests each run in their own goroutine, under a
// context that Close cancels; Close takes no new request and waits for
// those in flight (the store is closed after the node).
type subServer struct {
	nc     *nats.Conn
	sub    *nats.Subscription
	log    *slog.Logger
	ctx    context.Context // cancelled by Close: the requests in flight stop
	cancel context.CancelFunc

	mu     sync.Mutex // closed, wg.Add
	closed bool
	wg     sync.WaitGroup
}

// serve subscribes handle to subject; a handler's error is logged as what
// failed.
func (s *subServer) serve(nc *nats.Conn, subject string, log *slog.Logger, what string, handle func(*nats.Msg) error) error {
	s.nc, s.log = nc, log
	s.ctx, s.cancel = context.WithCancel(context.Background())
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			if err := handle(m); err != nil {
				s.log.Warn(what+" failed", "err", err)
			}
		}()
	})
	if err != nil {
		s.cancel()
		return err
	}
	s.sub = sub
	return nil
}

// Close stops taking requests, cancels those in flight and waits for them.
func (s *subServer) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if s.sub != nil {
		_ = s.sub.Unsubscribe()
	}
	s.cancel()
	s.wg.Wait()
}
