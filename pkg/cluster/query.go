package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// querySubject is where the stores owning partition p answer queries, in
// the queue group queueGroup: one of the replicas answers each request.
func querySubject(prefix string, p int) string { return prefix + ".query." + strconv.Itoa(p) }

const queueGroup = "touchtrail-stores"

// trailRequest asks for one page of a visitor's trail.
type trailRequest struct {
	Site    string    `json:"site"`
	Visitor string    `json:"visitor"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Limit   int       `json:"limit"`
	Cursor  string    `json:"cursor"`
}

// trailReply is a page: the touchpoints in their binary encoding.
type trailReply struct {
	Touchpoints [][]byte `json:"tps"`
	Next        string   `json:"next"`
	Error       string   `json:"error,omitempty"`
	Kind        string   `json:"kind,omitempty"` // not_found, bad_cursor, invalid, other
}

// QueryServer answers trail queries for a store's partitions over NATS
// request–reply, so a query node can route a visitor to whichever live
// replica owns it. Stop it with Close.
type QueryServer struct {
	subs []*nats.Subscription
	st   store.Store
	log  *slog.Logger

	mu     sync.Mutex
	closed bool
	busy   sync.WaitGroup // handlers running
}

// guard wraps a handler so that Close waits for it, and so that it does
// nothing once Close began: the store is closed after the node.
func (q *QueryServer) guard(h nats.MsgHandler) nats.MsgHandler {
	return func(m *nats.Msg) {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return
		}
		q.busy.Add(1)
		q.mu.Unlock()
		defer q.busy.Done()
		h(m)
	}
}

// ServeQueries subscribes st to the query subjects of parts.
func ServeQueries(nc *nats.Conn, sc StreamConfig, parts []int, st store.Store, log *slog.Logger) (*QueryServer, error) {
	sc = sc.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	q := &QueryServer{st: st, log: log.With("module", "cluster.query")}
	for _, p := range parts {
		sub, err := nc.QueueSubscribe(querySubject(sc.Subject, p), queueGroup, q.guard(q.handle))
		if err != nil {
			q.Close()
			return nil, fmt.Errorf("cannot serve queries of partition %d: %w", p, err)
		}
		q.subs = append(q.subs, sub)
	}
	return q, nil
}

func (q *QueryServer) handle(m *nats.Msg) {
	var req trailRequest
	reply := func(r trailReply) {
		b, err := json.Marshal(r)
		if err == nil {
			err = m.Respond(b)
		}
		if err != nil {
			q.log.Warn("cannot answer a query", "err", err)
		}
	}
	if err := json.Unmarshal(m.Data, &req); err != nil {
		reply(trailReply{Error: "bad request: " + err.Error(), Kind: "invalid"})
		return
	}
	v, err := event.ParseVisitor(req.Visitor)
	if err != nil {
		reply(trailReply{Error: err.Error(), Kind: "invalid"})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	page, err := q.st.Trail(ctx, req.Site, v, store.TrailQuery{From: req.From, To: req.To, Limit: req.Limit, Cursor: req.Cursor})
	if err != nil {
		kind := "other"
		switch {
		case errors.Is(err, store.ErrNotFound):
			kind = "not_found"
		case errors.Is(err, store.ErrBadCursor):
			kind = "bad_cursor"
		case errors.Is(err, store.ErrInvalidKey):
			kind = "invalid"
		}
		reply(trailReply{Error: err.Error(), Kind: kind})
		return
	}
	r := trailReply{Next: page.Next, Touchpoints: make([][]byte, len(page.Touchpoints))}
	for i := range page.Touchpoints {
		r.Touchpoints[i] = event.AppendBinary(nil, &page.Touchpoints[i])
	}
	reply(r)
}

// Close stops answering and waits for the answers in progress (each
// bounded by its 10 s deadline), so that the store may be closed next.
func (q *QueryServer) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	for _, s := range q.subs {
		_ = s.Unsubscribe()
	}
	q.busy.Wait()
}

// Router is the store.Store of a query node: a visitor's trail is read
// from a live store owning its partition (any replica), by NATS
// request–reply within Timeout; a user's visitors from a live store owning
// the user's partition (identity.go); an erasure goes through the stream
// to every store holding the data (erase.go); site-wide questions are
// scattered to the stores and merged (Scatter, scatter.go); the whole
// trails of a site's visitors (ScanTrails: the export, the UI's pages) are
// streamed from the stores and merged in visitor-id order (scanroute.go).
// Visitors is not routed: the collector scatters the visitors list (its
// merge is the collector's), and Visitors returns an error wrapping
// store.ErrUnavailable that says so. Safe for concurrent use.
type Router struct {
	nc     *nats.Conn
	stream StreamConfig
	m      *Metrics
	// Timeout bounds one sub-query, and the wait for the stores'
	// confirmations of an erasure. Default: 5s.
	Timeout time.Duration
	// Members is the membership bucket, where an erasure finds the live
	// owners of a partition (erase.go) and a scatter the live stores,
	// read at most once a MembersEvery (default: 1s; a store gone since
	// is skipped for a replica on its first failure). Default: the
	// default bucket.
	Members      MembershipConfig
	MembersEvery time.Duration
	// ScanChunk is the most bytes of trails one message of a scan carries
	// (ScanTrails; less when the servers' max payload is smaller). A store
	// holds at most about two chunks per scan. Default: 256 KiB. Set it
	// before the first scan.
	ScanChunk int
	log       *slog.Logger
	membersMu sync.Mutex
	members   []Member
	membersAt time.Time
}

// NewRouter routes over nc to the stores of the stream sc describes (its
// Partitions as read back from JetStream), counting in m (nil: not
// counted).
func NewRouter(nc *nats.Conn, sc StreamConfig, m *Metrics) *Router {
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Router{nc: nc, stream: sc.withDefaults(), m: m, Timeout: 5 * time.Second,
		MembersEvery: time.Second, log: slog.Default().With("module", "cluster.router")}
}

var errNotRouted = fmt.Errorf("a query node stores nothing, and its visitors list is scattered by the collector: %w", store.ErrUnavailable)

// Trail implements store.Store: routed to the visitor's partition.
func (r *Router) Trail(ctx context.Context, site string, v event.VisitorID, q store.TrailQuery) (store.TrailPage, error) {
	if err := store.CheckSite(site); err != nil {
		return store.TrailPage{}, err
	}
	p := Partition(site, v, r.stream.Partitions)
	b, err := json.Marshal(trailRequest{Site: site, Visitor: v.String(), From: q.From, To: q.To, Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		return store.TrailPage{}, fmt.Errorf("BUG: trail request: %w", err)
	}
	var rep trailReply
	if err := r.ask(ctx, querySubject(r.stream.Subject, p), p, b, &rep); err != nil {
		return store.TrailPage{}, err
	}
	switch rep.Kind {
	case "":
	case "not_found":
		return store.TrailPage{}, store.ErrNotFound
	case "bad_cursor":
		return store.TrailPage{}, store.ErrBadCursor
	case "invalid":
		return store.TrailPage{}, fmt.Errorf("%w: %s", store.ErrInvalidKey, rep.Error)
	default:
		return store.TrailPage{}, fmt.Errorf("partition %d: %s", p, rep.Error)
	}
	page := store.TrailPage{Next: rep.Next, Touchpoints: make([]event.Touchpoint, len(rep.Touchpoints))}
	for i, raw := range rep.Touchpoints {
		tp := &page.Touchpoints[i]
		if err := event.DecodeBinary(raw, tp); err != nil {
			return store.TrailPage{}, fmt.Errorf("partition %d: touchpoint %d: %w", p, i, err)
		}
		tp.Site, tp.Visitor = site, v
	}
	return page, nil
}

// Write implements store.Store: a query node stores nothing.
func (r *Router) Write(context.Context, []store.Record) (store.WriteResult, error) {
	return store.WriteResult{}, errNotRouted
}

// Visitors implements store.Store: not routed (the collector scatters the
// visitors list).
func (r *Router) Visitors(context.Context, string, store.VisitorQuery) (store.VisitorPage, error) {
	return store.VisitorPage{}, errNotRouted
}

// Close implements store.Store.
func (r *Router) Close() error { return nil }

// ask sends req to the live stores of partition p on subject (a queue
// group: one answers) under the router's timeout, times it per partition,
// and decodes the JSON reply into rep. A partition without a live store
// is store.ErrUnavailable naming it.
func (r *Router) ask(ctx context.Context, subject string, p int, req []byte, rep any) error {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	start := time.Now()
	m, err := r.nc.RequestWithContext(ctx, subject, req)
	r.m.querySeconds.WithLabelValues(partLabel(p)).Observe(time.Since(start).Seconds())
	if err != nil {
		r.m.queryMissing.WithLabelValues(partLabel(p)).Inc()
		if errors.Is(err, nats.ErrNoResponders) {
			return fmt.Errorf("partition %d has no live store (partial: [%d]): %w", p, p, store.ErrUnavailable)
		}
		return fmt.Errorf("partition %d did not answer: %w: %w", p, store.ErrUnavailable, err)
	}
	if err := json.Unmarshal(m.Data, rep); err != nil {
		return fmt.Errorf("partition %d answered %q: %w", p, m.Data, err)
	}
	return nil
}
