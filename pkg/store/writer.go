package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrOverloaded is returned by Writer.Submit when its queue is full (the
// storage is slower than the traffic): nothing was queued, and the
// collector answers 503 with Retry-After, and the client retries.
var ErrOverloaded = errors.New("writer queue full")

// Durability says when Writer.Submit returns.
type Durability uint8

const (
	// Sync returns from Submit only after the group holding the records is
	// committed (and fsynced when the store syncs writes). Default.
	Sync Durability = iota
	// Async returns from Submit as soon as the records are queued: an
	// acknowledged record can still be lost on a crash or power cut (at
	// most the queue and the commits in flight), never on a graceful
	// shutdown, because Close drains the queue. A failed commit is only
	// logged and counted (Stats().Errors): no submitter hears of it.
	Async
)

// WriterConfig tunes a Writer. Zero values mean the defaults.
type WriterConfig struct {
	// MaxBatch is the most records one group commit holds. Default: 1024.
	MaxBatch int
	// MaxDelay is how long a group may wait to fill once it has records.
	// Default: 0, commit as soon as the previous commit finishes, batching
	// whatever arrived meanwhile (Badger's own doWrites does this).
	MaxDelay time.Duration
	// QueueSize bounds the records waiting for a commit. Default: 65536.
	QueueSize int
	// Mode is Sync or Async. Default: Sync.
	Mode Durability
	// OnCommit, when set, hears of every group once it is written (or has
	// failed): its records and how long the commit took from hand-over to
	// durable. It runs on the commit's goroutine: keep it cheap (the
	// collector feeds Prometheus histograms). Default: nil.
	OnCommit func(records int, took time.Duration, err error)
}

// Validate reports a config that cannot work, naming the field.
func (c WriterConfig) Validate() error {
	switch {
	case c.MaxBatch < 0:
		return fmt.Errorf("writer: MaxBatch %d: must not be negative", c.MaxBatch)
	case c.MaxDelay < 0:
		return fmt.Errorf("writer: MaxDelay %s: must not be negative", c.MaxDelay)
	case c.QueueSize < 0:
		return fmt.Errorf("writer: QueueSize %d: must not be negative", c.QueueSize)
	case c.Mode != Sync && c.Mode != Async:
		return fmt.Errorf("writer: Mode %d: want Sync or Async", c.Mode)
	}
	return nil
}

func (c WriterConfig) withDefaults() WriterConfig {
	if c.MaxBatch <= 0 {
		c.MaxBatch = 1024
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 65536
	}
	return c
}

// WriterStats are a Writer's counters since it started (plain atomics: the
// collector exports them as Prometheus counters and gauges).
type WriterStats struct {
	Groups     uint64 // group commits that succeeded
	Records    uint64 // new touchpoints stored by them
	Duplicates uint64 // records skipped as already stored
	Erased     uint64 // records dropped: their visitor was erased after them
	Overloaded uint64 // Submits refused with ErrOverloaded
	DiskFull   uint64 // Submits refused with ErrDiskFull
	Errors     uint64 // group commits that failed
	LastGroup  int    // records in the latest group, committed or failed
	Queued     int    // records waiting for a commit now
	Waiting    int    // requests waiting in WaitRoom for room in the queue now
	QueueSize  int    // the most records that may wait (WriterConfig.QueueSize)
}

// request is one Submit: its records, in Sync mode where to answer, and
// who gets the records' memory back once the writer is done with it.
type request struct {
	recs  []Record
	done  chan error // nil in Async mode
	owner Releaser   // nil: nobody
}

// Releaser owns the memory of records handed to SubmitFor: the writer calls
// Release once, when it no longer reads them (after their group's commit,
// or at once when they were refused), from any goroutine.
type Releaser interface{ Release() }

// Writer group-commits the records of many concurrent Submits: while one
// commit is in flight, new requests queue; the next commit takes all of them
// (up to MaxBatch records, whole requests only) at once. A store that can
// commit without waiting (the Badger store) gets up to 4 groups in flight,
// so the next group is prepared while one is fsynced. A failed commit fails
// only its own group: the next groups are committed as usual. Safe for
// concurrent use.
type Writer struct {
	s   Store
	cfg WriterConfig
	log *slog.Logger

	mu      sync.Mutex
	queue   []request
	queued  int           // records in queue
	room    chan struct{} // closed when an eighth of the queue is free: wakes WaitRoom; nil when none waits
	waiting int           // WaitRoom calls waiting for room; under mu
	wake    chan struct{}
	closed  bool
	stopped chan struct{}

	disk DiskChecker // nil unless the store watches its disk

	groups, records, dups, erased, overloaded, diskFull, errs atomic.Uint64
	lastGroup                                                 atomic.Int64
	lastErrLog                                                atomic.Int64 // Unix ns of the last "group commit failed" line
}

// NewWriter starts a writer committing to s.
func NewWriter(s Store, cfg WriterConfig, log *slog.Logger) *Writer {
	if log == nil {
		log = slog.Default()
	}
	w := &Writer{
		s: s, cfg: cfg.withDefaults(), log: log.With("module", "writer"),
		wake: make(chan struct{}, 1), stopped: make(chan struct{}),
	}
	w.disk, _ = s.(DiskChecker)
	go w.loop()
	return w
}

var (
	donePool  = sync.Pool{New: func() any { return make(chan error, 1) }}
	timerPool = sync.Pool{New: func() any {
		t := time.NewTimer(time.Hour)
		t.Stop()
		return t
	}}
)

// Submit queues recs for the next group commit. In Sync mode it waits for
// that commit and returns its error; in Async mode it returns at once. It
// never blocks on a full queue: it returns ErrOverloaded at once. Invalid
// records (see CheckRecords) are refused before queueing, so they never
// fail the group of other requests. If ctx ends while Submit waits for the
// commit, it returns ctx's error, but the records stay queued and are
// committed all the same: a retry is stored once (dedupe by id). The
// Writer keeps recs until they are committed: neither the slice nor the
// records may be changed afterwards. Safe for concurrent use.
func (w *Writer) Submit(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return w.submit(recs, nil, ctx.Done(), ctx.Err, nil)
}

// SubmitFor is Submit with a timeout instead of a context (in Sync mode it
// waits at most timeout for the commit, then returns an error that
// errors.Is context.DeadlineExceeded) and with the records' owner, whose
// Release the writer calls once it no longer needs recs — whether they were
// refused, committed or failed; nil: nobody. It allocates nothing.
func (w *Writer) SubmitFor(recs []Record, timeout time.Duration, owner Releaser) error {
	var t *time.Timer
	var expired <-chan time.Time
	if w.cfg.Mode == Sync && timeout > 0 {
		t = timerPool.Get().(*time.Timer)
		t.Reset(timeout)
		expired = t.C
		defer func() {
			t.Stop()
			timerPool.Put(t)
		}()
	}
	return w.submit(recs, owner, nil, nil, expired)
}

var errTimeout = fmt.Errorf("%w (the write timeout)", context.DeadlineExceeded)

// submit queues recs and, in Sync mode, waits for their commit, for done
// to close (then returns ctxErr()) or for expired.
func (w *Writer) submit(recs []Record, owner Releaser, done <-chan struct{}, ctxErr func() error, expired <-chan time.Time) error {
	refuse := func(err error) error {
		if owner != nil {
			owner.Release()
		}
		return err
	}
	if len(recs) == 0 {
		return refuse(nil)
	}
	if err := CheckRecords(recs); err != nil {
		return refuse(err)
	}
	if w.disk != nil {
		if err := w.disk.DiskFull(); err != nil {
			w.diskFull.Add(1)
			return refuse(err) // refused before queueing: async never acknowledges what cannot be stored
		}
	}
	req := request{recs: recs, owner: owner}
	if w.cfg.Mode == Sync {
		req.done = donePool.Get().(chan error)
	}
	w.mu.Lock()
	switch {
	case w.closed:
		w.mu.Unlock()
		return refuse(ErrClosed)
	case w.queued+len(recs) > w.cfg.QueueSize && w.queued > 0:
		w.mu.Unlock()
		w.overloaded.Add(1)
		return refuse(ErrOverloaded)
	}
	w.queue = append(w.queue, req)
	w.queued += len(recs)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	if req.done == nil {
		return nil
	}
	select {
	case err := <-req.done:
		donePool.Put(req.done)
		return err
	case <-done:
		// The commit goes on; its answer lands in the buffered channel,
		// which is then dropped rather than reused.
		return fmt.Errorf("waiting for the group commit: %w", ctxErr())
	case <-expired:
		return fmt.Errorf("waiting for the group commit: %w", errTimeout)
	}
}

// WaitRoom waits until n more records fit in the queue, at most timeout,
// and reports whether they fit now. A full queue wakes its waiters once an
// eighth of it is free (8,192 records by default: not at each group, or a
// flood of waiting requests would wake thousands of times a second, and
// not at half, which a writer at its capacity takes longer than a
// refusal_delay to reach), so a caller that waits
// here before submitting a request of up to n records is taken instead of
// refused whenever the writer keeps up within timeout. Another caller may
// take the room first: Submit still refuses what does not fit. False at
// once after Close. Safe for concurrent use.
func (w *Writer) WaitRoom(n int, timeout time.Duration) bool {
	var expired <-chan time.Time
	for {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return false
		}
		if w.queued == 0 || w.queued+n <= w.cfg.QueueSize {
			w.mu.Unlock()
			return true
		}
		if timeout <= 0 {
			w.mu.Unlock()
			return false
		}
		if w.room == nil {
			w.room = make(chan struct{})
		}
		room := w.room
		w.waiting++
		w.mu.Unlock()
		if expired == nil {
			t := time.NewTimer(timeout)
			defer t.Stop()
			expired = t.C
		}
		var woken bool
		select {
		case <-room:
			woken = true
		case <-expired:
		}
		w.mu.Lock()
		w.waiting--
		w.mu.Unlock()
		if !woken {
			return false
		}
	}
}

// asyncStore hands a group to storage without waiting for it to be
// written (the Badger store does, with CommitWith); done is called once.
type asyncStore interface {
	WriteAsync(recs []Record, done func(WriteResult, error))
}

// maxInFlight bounds the groups handed to an asyncStore and not yet
// written: while one is fsynced the next is prepared.
const maxInFlight = 4

// group is one group commit's requests and records; the loop reuses a
// few of them (one per commit in flight), so a group allocates nothing.
type group struct {
	w      *Writer
	reqs   []request
	recs   []Record
	finish func(WriteResult, error) // g.answer, bound once
	free   chan *group              // where g goes back once answered
	start  time.Time                // when the group was handed to the store (for OnCommit)
}

// answer tells the group's submitters how its commit went, gives their
// records back to their owners and frees the group.
func (g *group) answer(res WriteResult, err error) {
	if g.w.cfg.OnCommit != nil {
		g.w.cfg.OnCommit(len(g.recs), time.Since(g.start), err)
	}
	err = g.w.account(len(g.recs), res, err)
	for _, r := range g.reqs {
		if r.done != nil {
			r.done <- err
		}
		if r.owner != nil {
			r.owner.Release()
		}
	}
	clear(g.reqs)
	g.reqs = g.reqs[:0]
	clear(g.recs)
	g.recs = g.recs[:0]
	g.free <- g
}

// loop commits groups until Close, then drains. It first waits for a free
// group (at most maxInFlight commits are in flight), then takes whatever
// has queued meanwhile: a group is sized by what is waiting, not by a
// delay.
func (w *Writer) loop() {
	defer close(w.stopped)
	async, _ := w.s.(asyncStore)
	n := 1
	if async != nil {
		n = maxInFlight
	}
	free := make(chan *group, n)
	for range n {
		g := &group{w: w, free: free}
		g.finish = g.answer
		free <- g
	}
	defer func() {
		for range n { // wait for the groups still being written
			<-free
		}
	}()
	for {
		w.mu.Lock()
		for len(w.queue) == 0 {
			if w.closed {
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			<-w.wake
			w.mu.Lock()
		}
		w.mu.Unlock()
		g := <-free
		if w.cfg.MaxDelay > 0 {
			w.mu.Lock()
			wait := w.queued < w.cfg.MaxBatch && !w.closed
			w.mu.Unlock()
			if wait {
				time.Sleep(w.cfg.MaxDelay)
			}
		}
		w.mu.Lock()
		// Take whole requests up to MaxBatch records (at least one).
		n, taken := 0, 0
		for taken < len(w.queue) && (taken == 0 || n+len(w.queue[taken].recs) <= w.cfg.MaxBatch) {
			n += len(w.queue[taken].recs)
			taken++
		}
		g.reqs = append(g.reqs, w.queue[:taken]...)
		rest := copy(w.queue, w.queue[taken:])
		clear(w.queue[rest:])
		w.queue = w.queue[:rest]
		w.queued -= n
		if w.room != nil && w.queued <= w.cfg.QueueSize-w.cfg.QueueSize/8 {
			close(w.room)
			w.room = nil
		}
		w.mu.Unlock()

		for _, r := range g.reqs {
			g.recs = append(g.recs, r.recs...)
		}
		g.start = time.Now()
		if async == nil {
			res, err := w.s.Write(context.Background(), g.recs)
			g.answer(res, err)
			continue
		}
		async.WriteAsync(g.recs, g.finish)
	}
}

// account counts a group's outcome.
func (w *Writer) account(n int, res WriteResult, err error) error {
	w.lastGroup.Store(int64(n))
	if err != nil {
		failed := w.errs.Add(1)
		// One line per 10 seconds at most: a failing disk fails every group.
		now := time.Now().UnixNano()
		if last := w.lastErrLog.Load(); now-last >= int64(10*time.Second) && w.lastErrLog.CompareAndSwap(last, now) {
			w.log.Error("group commit failed", "records", n, "err", err, "failed_groups_so_far", failed)
		}
		return fmt.Errorf("commit of %d records: %w", n, err)
	}
	w.groups.Add(1)
	w.records.Add(uint64(res.Stored))
	w.dups.Add(uint64(res.Duplicates))
	w.erased.Add(uint64(res.Erased))
	return nil
}

// Close stops taking records, commits everything queued and returns when
// done or when ctx ends. Submit after Close returns ErrClosed.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	if w.room != nil {
		close(w.room)
		w.room = nil
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.stopped:
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		left := w.queued
		w.mu.Unlock()
		return fmt.Errorf("writer closed with %d records not committed: %w", left, ctx.Err())
	}
}

// Stats returns the writer's counters.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	q, waiting := w.queued, w.waiting
	w.mu.Unlock()
	return WriterStats{
		Groups: w.groups.Load(), Records: w.records.Load(), Duplicates: w.dups.Load(), Erased: w.erased.Load(), DiskFull: w.diskFull.Load(),
		Overloaded: w.overloaded.Load(), Errors: w.errs.Load(), LastGroup: int(w.lastGroup.Load()), Queued: q,
		Waiting: waiting, QueueSize: w.cfg.QueueSize,
	}
}
