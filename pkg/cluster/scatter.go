package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Site-wide questions (funnels, paths, the visitors list, …) need every
// partition. A query node scatters one to one live owner of each
// partition, batching the partitions per store so that each store scans
// its visitors once; every store answers a partial result over the
// visitors of the partitions it was asked for, and the query node merges
// them. What a question and its partial answer are is the caller's
// business (the collector's): here they are bytes.

// scatterSubject is where store node `node` answers the site-wide
// sub-queries addressed to it (one subscriber: the query node picks the
// store, not the queue group).
func scatterSubject(prefix, node string) string { return prefix + ".scatter." + node }

// scatterRequest is one store's share of a site-wide question.
type scatterRequest struct {
	Partitions []int         `json:"parts"`   // the partitions to answer for
	Of         int           `json:"of"`      // the stream's partition count
	Timeout    time.Duration `json:"timeout"` // left to this sub-query when sent (a duration: the clocks of two machines differ)
	Body       []byte        `json:"body"`    // the question
}

// A store's answer is its partial result as raw bytes in one or more
// messages to the request's reply subject (a partial state may be larger
// than the servers' max_payload): each carries its index and the count in
// headers. An error is one message with hdrError (and hdrTimeout when it
// is the sub-query's deadline).
const (
	hdrChunk   = "Touchtrail-Chunk"
	hdrChunks  = "Touchtrail-Chunks"
	hdrError   = "Touchtrail-Error"
	hdrTimeout = "Touchtrail-Timeout"
)

// scatterReply is a store's partial answer, or why there is none.
type scatterReply struct {
	Body    []byte
	Error   string
	Timeout bool // the error is the sub-query's deadline
}

// AggregateFunc answers a site-wide sub-query on a store: body is the
// question as the query node sent it; owns reports whether a visitor is
// one of the partitions asked for (a store may own more, whose visitors
// it must leave out). It returns the partial answer the query node merges.
type AggregateFunc func(ctx context.Context, body []byte, owns func(site string, v event.VisitorID) bool) ([]byte, error)

// maxSubQuery bounds a sub-query on the store whatever deadline the
// query node sent.
const maxSubQuery = 2 * time.Minute

// ScatterServer answers a store node's site-wide sub-queries with an
// AggregateFunc. Stop it with Close.
type ScatterServer struct {
	subServer
	fn    AggregateFunc
	owned []int
}

// ServeScatter subscribes fn to the sub-queries addressed to node, a store
// owning parts of the stream sc describes. Each sub-query runs in its own
// goroutine (fn bounds how many scan at once).
func ServeScatter(nc *nats.Conn, sc StreamConfig, node string, parts []int, fn AggregateFunc, log *slog.Logger) (*ScatterServer, error) {
	sc = sc.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	s := &ScatterServer{fn: fn, owned: slices.Clone(parts)}
	if err := s.serve(nc, scatterSubject(sc.Subject, node), log.With("module", "cluster.scatter"), "answering a site-wide sub-query",
		func(m *nats.Msg) error { return s.respond(m.Reply, s.answer(m.Data)) }); err != nil {
		return nil, fmt.Errorf("cannot serve site-wide queries of %s: %w", node, err)
	}
	return s, nil
}

// respond sends rep to reply, in chunks that fit the connection's max
// payload.
func (s *ScatterServer) respond(reply string, rep scatterReply) error {
	if rep.Error != "" {
		msg := nats.NewMsg(reply)
		msg.Header.Set(hdrError, rep.Error)
		if rep.Timeout {
			msg.Header.Set(hdrTimeout, "1")
		}
		return s.nc.PublishMsg(msg)
	}
	size := max(int(s.nc.MaxPayload())-4096, 1024) // room for the headers
	n := max(1, (len(rep.Body)+size-1)/size)
	for i := range n {
		msg := nats.NewMsg(reply)
		msg.Header.Set(hdrChunk, strconv.Itoa(i))
		msg.Header.Set(hdrChunks, strconv.Itoa(n))
		msg.Data = rep.Body[i*size : min(len(rep.Body), (i+1)*size)]
		if err := s.nc.PublishMsg(msg); err != nil {
			return fmt.Errorf("chunk %d of %d: %w", i, n, err)
		}
	}
	return nil
}

func (s *ScatterServer) answer(data []byte) scatterReply {
	var req scatterRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return scatterReply{Error: "bad sub-query: " + err.Error()}
	}
	if req.Of <= 0 {
		return scatterReply{Error: "bad sub-query: no partition count"}
	}
	want := make([]bool, req.Of)
	for _, p := range req.Partitions {
		if p < 0 || p >= req.Of || !slices.Contains(s.owned, p) {
			return scatterReply{Error: fmt.Sprintf("partition %d is not this store's", p)}
		}
		want[p] = true
	}
	timeout := req.Timeout
	if timeout <= 0 || timeout > maxSubQuery {
		timeout = maxSubQuery
	}
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	out, err := s.fn(ctx, req.Body, func(site string, v event.VisitorID) bool { return want[Partition(site, v, req.Of)] })
	if err != nil {
		return scatterReply{Error: err.Error(), Timeout: ctx.Err() != nil}
	}
	return scatterReply{Body: out}
}

// ServeScatter makes a store node answer site-wide sub-queries with fn
// (the collector's aggregate handler, built after the node started). It
// is an error on a node that keeps no store, or to call it twice.
func (n *Node) ServeScatter(fn AggregateFunc) error {
	if n.Consumer == nil || n.members == nil {
		return errors.New("BUG: site-wide sub-queries are served by store nodes")
	}
	if n.scatter != nil {
		return errors.New("BUG: ServeScatter called twice")
	}
	var err error
	n.scatter, err = ServeScatter(n.NC, n.stream, n.members.me.Node, n.members.me.Partitions, fn, n.log)
	return err
}

// Missing is the list of partitions a scattered question did not reach
// (no live owner, or every owner failed or ran out of time), in order.
type Missing []int

// ErrNoPartition is returned (wrapping store.ErrUnavailable) by Scatter
// when no partition answered.
var ErrNoPartition = fmt.Errorf("no partition answered: %w", store.ErrUnavailable)

// Scatter sends a site-wide question to one live store owning each
// partition (membership from the bucket), the partitions batched per
// store, each sub-query within Timeout (and ctx), and calls merge with
// every partial answer, one at a time. A store that fails or times out, or
// whose answer merge refuses (merge must then leave its accumulator as it
// was), is replaced by another live owner of its partitions while ctx
// lasts; the partitions nobody answered for are returned. When none
// answered the error wraps ErrNoPartition.
// Safe for concurrent use.
func (r *Router) Scatter(ctx context.Context, body []byte, merge func(partial []byte) error) (Missing, error) {
	P := r.stream.Partitions
	members, err := r.liveMembers(ctx)
	if err != nil {
		r.m.scatterFailed.WithLabelValues("membership").Inc()
		r.m.partialAnswers.Inc()
		return allPartitions(P), fmt.Errorf("cannot read membership: %w: %w", ErrNoPartition, err)
	}
	owners := ownersOf(members, P)
	var (
		mu      sync.Mutex // merge, failed
		lastErr error      // of the last failed sub-query, for the error when none answered
		missing Missing
		failed  = map[string]bool{}
		pending = allPartitions(P)
	)
	for len(pending) > 0 {
		plan := assign(pending, owners, failed)
		pending = pending[:0:0]
		for _, p := range plan.orphans {
			missing = append(missing, p)
		}
		if len(plan.stores) == 0 {
			break
		}
		var wg sync.WaitGroup
		for node, parts := range plan.stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reply, reason, err := r.subQuery(ctx, node, parts, body)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					if err = merge(reply); err != nil { // a corrupt or foreign partial: as if the store failed
						reason, err = "merge", fmt.Errorf("cannot merge the answer of %s: %w", node, err)
					}
				}
				if err != nil {
					r.m.scatterFailed.WithLabelValues(reason).Inc()
					r.log.Warn("site-wide sub-query failed", "store", node, "partitions", FormatPartitions(parts), "err", err)
					failed[node] = true
					lastErr = err
					pending = append(pending, parts...)
				}
			}()
		}
		wg.Wait()
		if ctx.Err() != nil { // no time left to ask a replica
			missing = append(missing, pending...)
			break
		}
	}
	sort.Ints(missing)
	if len(missing) > 0 {
		r.m.partialAnswers.Inc()
	}
	if len(missing) == P {
		why := "no live store owns them"
		if lastErr != nil {
			why = "last failure: " + lastErr.Error()
		}
		return missing, fmt.Errorf("partitions %s (%s): %w", FormatPartitions(missing), why, ErrNoPartition)
	}
	return missing, nil
}

// ownersOf lists the live stores owning each of P partitions, by name.
func ownersOf(members []Member, P int) [][]string {
	owners := make([][]string, P)
	for _, m := range members {
		if m.Role != string(RoleStore) && m.Role != string(RoleAll) {
			continue
		}
		for _, p := range m.Partitions {
			if p >= 0 && p < P {
				owners[p] = append(owners[p], m.Node)
			}
		}
	}
	return owners
}

func allPartitions(n int) Missing {
	out := make(Missing, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// scatterPlan is one round of a scattered question.
type scatterPlan struct {
	stores  map[string][]int // store → the partitions it is asked for
	orphans []int            // partitions with no live owner left to ask
}

// assign gives every partition to one owner not yet failed, preferring
// the owner with the fewest partitions so far (then the first by name):
// each store is asked once, for all of its share, and the shares stay
// even.
func assign(parts []int, owners [][]string, failed map[string]bool) scatterPlan {
	plan := scatterPlan{stores: map[string][]int{}}
	for _, p := range parts {
		best := ""
		for _, o := range owners[p] {
			if failed[o] {
				continue
			}
			if best == "" || len(plan.stores[o]) < len(plan.stores[best]) {
				best = o
			}
		}
		if best == "" {
			plan.orphans = append(plan.orphans, p)
			continue
		}
		plan.stores[best] = append(plan.stores[best], p)
	}
	return plan
}

// subQuery asks one store for its partial answer over parts; on failure
// it says why in a metric label (no_responders, timeout, error).
func (r *Router) subQuery(ctx context.Context, node string, parts []int, body []byte) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	req, err := json.Marshal(scatterRequest{Partitions: parts, Of: r.stream.Partitions, Timeout: time.Until(deadline), Body: body})
	if err != nil {
		return nil, "error", fmt.Errorf("BUG: sub-query: %w", err)
	}
	start := time.Now()
	body, reason, err := r.request(ctx, node, req)
	took := time.Since(start).Seconds()
	for _, p := range parts {
		r.m.scatterSeconds.WithLabelValues(partLabel(p)).Observe(took)
	}
	return body, reason, err
}

// request sends one sub-query and gathers its answer's chunks.
func (r *Router) request(ctx context.Context, node string, req []byte) ([]byte, string, error) {
	inbox := r.nc.NewInbox()
	ch := make(chan *nats.Msg, 64)
	sub, err := r.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, "error", fmt.Errorf("store %s: %w", node, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := r.nc.PublishMsg(&nats.Msg{Subject: scatterSubject(r.stream.Subject, node), Reply: inbox, Data: req}); err != nil {
		return nil, "error", fmt.Errorf("store %s: %w", node, err)
	}
	var chunks [][]byte
	var have []bool
	got := 0
	for {
		var m *nats.Msg
		select {
		case <-ctx.Done():
			return nil, "timeout", fmt.Errorf("store %s did not answer within %s: %w", node, r.Timeout, ctx.Err())
		case m = <-ch:
		}
		if m.Header.Get("Status") == "503" { // the server: nobody subscribes to the store's subject
			return nil, "no_responders", fmt.Errorf("store %s is gone: %w", node, nats.ErrNoResponders)
		}
		if e := m.Header.Get(hdrError); e != "" {
			if m.Header.Get(hdrTimeout) != "" {
				return nil, "timeout", fmt.Errorf("store %s ran out of time (%s): %s", node, r.Timeout, e)
			}
			return nil, "error", fmt.Errorf("store %s: %s", node, e)
		}
		i, err1 := strconv.Atoi(m.Header.Get(hdrChunk))
		n, err2 := strconv.Atoi(m.Header.Get(hdrChunks))
		if err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n || (chunks != nil && len(chunks) != n) {
			return nil, "error", fmt.Errorf("store %s: a reply without a valid chunk header (%q of %q)", node, m.Header.Get(hdrChunk), m.Header.Get(hdrChunks))
		}
		if chunks == nil {
			chunks, have = make([][]byte, n), make([]bool, n)
		}
		if !have[i] {
			chunks[i], have[i] = m.Data, true
			got++
		}
		if got == n {
			return bytes.Join(chunks, nil), "", nil
		}
	}
}

// liveMembers reads the membership bucket, at most once a MembersEvery.
func (r *Router) liveMembers(ctx context.Context) ([]Member, error) {
	r.membersMu.Lock()
	defer r.membersMu.Unlock()
	if r.membersAt.IsZero() || time.Since(r.membersAt) >= r.MembersEvery {
		ms, err := Members(ctx, r.nc, r.Members)
		if err != nil {
			return nil, err
		}
		r.members, r.membersAt = ms, time.Now()
	}
	return r.members, nil
}
