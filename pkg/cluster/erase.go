package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Erase across stores.
//
// A query node erases through the stream, so that every store holding the
// data applies it — every replica, live now or replaying later:
//
//  1. It resolves what to erase: a visitor, with the users it is stitched
//     to (asked of an owner of the visitor's partition); or a user's
//     visitors (an owner of the user's partition), with their other users.
//  2. It publishes one erase message (header Touchtrail-Op: erase, message
//     id "~erase/<op>/<partition>") on each partition concerned: the
//     visitors' own partitions, and the users' partitions, whose stores
//     hold the links. A store consumes it in stream order, after every
//     touchpoint before it, and erases the visitors listed with the erase
//     time of the message (EraseVisitorsAt): their trails, indexes and
//     links are deleted, and a tombstone drops their touchpoints dated
//     before the erase, also when a store rebuilt from an empty directory
//     replays the stream.
//  3. It deletes from the stream itself, with SecureDeleteMsg, every
//     touchpoint and link message of those visitors published before the
//     erase message: erased means gone, from the log of record too.
//  4. It waits (up to Router.Timeout) until every live owner of each
//     partition (membership) said it applied the erasure; an owner that did
//     not, or a partition without a live owner, is named in the report
//     (Partial): it applies the erasure when it comes back and replays.

// eraseMsg is the body of an erase message.
type eraseMsg struct {
	Op       string    `json:"op"` // names the erasure: stores confirm on its applied subject
	Site     string    `json:"site"`
	Visitors []string  `json:"visitors"`
	At       time.Time `json:"at"` // the tombstones' time
}

// appliedSubject is where stores confirm an erasure they applied.
func appliedSubject(prefix, op string) string { return prefix + ".applied." + op }

type appliedMsg struct {
	Node      string `json:"node"`
	Partition int    `json:"partition"`
}

// isControl reports whether m is a link or an erasure, not a touchpoint.
func isControl(m jetstream.Msg) bool { return m.Headers().Get(opHeader) != "" }

// control applies a link or an erasure to the store and acknowledges it;
// one that fails is redelivered (and applies then: tombstones and links
// are idempotent, and a tombstone drops whatever was stored meanwhile
// that it covers).
func (c *Consumer) control(m jetstream.Msg) {
	op := m.Headers().Get(opHeader)
	if c.cfg.Applier == nil {
		c.warn("a "+op+" message reached a store that cannot apply it", errors.New("no applier"))
		_ = m.Ack()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	switch op {
	case opLink:
		var r store.Record
		if r, err = decodeLink(m.Data()); err != nil {
			c.poison(m, err)
			return
		}
		_, err = c.cfg.Applier.LinkUsers(ctx, []store.Record{r})
	case opErase:
		var e eraseMsg
		var vs []event.VisitorID
		if e, vs, err = decodeErase(m.Data()); err != nil {
			c.poison(m, err)
			return
		}
		if err = c.cfg.Applier.EraseVisitorsAt(ctx, e.Site, vs, e.At); err == nil {
			c.confirm(m, e.Op)
		}
	default:
		c.poison(m, fmt.Errorf("unknown %s %q", opHeader, op))
		return
	}
	if err != nil {
		c.warn(op+" failed: redelivering", err)
		c.m.consumed.WithLabelValues("retried").Inc()
		_ = m.NakWithDelay(time.Second)
		return
	}
	_ = m.Ack()
	c.m.consumed.WithLabelValues("committed").Inc()
	c.committed(m)
}

func (c *Consumer) poison(m jetstream.Msg, err error) {
	c.warn("poison message terminated", err)
	c.m.consumed.WithLabelValues("poison").Inc()
	_ = m.Term()
}

// confirm tells the query node waiting for an erasure that this store
// applied it (nobody listens during a replay).
func (c *Consumer) confirm(m jetstream.Msg, op string) {
	p := c.stream.partitionOf(m.Subject())
	b, _ := json.Marshal(appliedMsg{Node: c.cfg.Node, Partition: p})
	if err := c.nc.Publish(appliedSubject(c.stream.Subject, op), b); err != nil {
		c.warn("cannot confirm an erasure", err)
	}
}

func decodeErase(data []byte) (eraseMsg, []event.VisitorID, error) {
	var e eraseMsg
	if err := json.Unmarshal(data, &e); err != nil {
		return e, nil, fmt.Errorf("erase message: %w", err)
	}
	if err := store.CheckSite(e.Site); err != nil {
		return e, nil, fmt.Errorf("erase message: %w", err)
	}
	if e.At.IsZero() || len(e.Visitors) == 0 {
		return e, nil, errors.New("erase message without a time or visitors")
	}
	vs := make([]event.VisitorID, len(e.Visitors))
	for i, s := range e.Visitors {
		v, err := event.ParseVisitor(s)
		if err != nil {
			return e, nil, fmt.Errorf("erase message: %w", err)
		}
		vs[i] = v
	}
	return e, vs, nil
}

// EraseReport says where an erasure through a query node was applied.
type EraseReport struct {
	// Visitors erased (a user's: those stitched to the user).
	Visitors []event.VisitorID
	// Partitions the erasure went to, in order, with the stores that
	// applied it.
	Partitions []PartitionErase
	// Partial is true when a live owner did not confirm in time or a
	// partition has no live owner: the erasure is in the stream, and those
	// stores apply it when they come back.
	Partial bool
	// StreamDeleted counts the messages deleted from the stream.
	StreamDeleted int
}

// PartitionErase is one partition of an EraseReport.
type PartitionErase struct {
	Partition int      `json:"partition"`
	Applied   []string `json:"applied"`           // stores that confirmed
	Pending   []string `json:"pending,omitempty"` // live owners that did not confirm in time
}

// EraseVisitor implements store.Store: EraseVisitorReport without the report.
func (r *Router) EraseVisitor(ctx context.Context, site string, v event.VisitorID) error {
	_, err := r.EraseVisitorReport(ctx, site, v)
	return err
}

// EraseUser implements store.Store: EraseUserReport without the report.
func (r *Router) EraseUser(ctx context.Context, site, user string) ([]event.VisitorID, error) {
	rep, err := r.EraseUserReport(ctx, site, user)
	return rep.Visitors, err
}

// EraseVisitorReport erases a visitor on every store holding its data
// (see "Erase across stores" above). It needs a live owner of the
// visitor's partition to find the visitor's identity links; without one it
// erases nothing and returns an error wrapping store.ErrUnavailable.
func (r *Router) EraseVisitorReport(ctx context.Context, site string, v event.VisitorID) (EraseReport, error) {
	if err := store.CheckSite(site); err != nil {
		return EraseReport{}, err
	}
	plan := map[int][]event.VisitorID{}
	if err := r.planVisitor(ctx, site, v, plan); err != nil {
		r.m.erase.count(EraseReport{}, err)
		return EraseReport{}, fmt.Errorf("erase: %w", err)
	}
	rep, err := r.erase(ctx, site, []event.VisitorID{v}, plan)
	r.m.erase.count(rep, err)
	return rep, err
}

// EraseUserReport erases every visitor stitched to user, and the user's
// links, on every store holding them. A user without visitors erases
// nothing (an empty report).
func (r *Router) EraseUserReport(ctx context.Context, site, user string) (EraseReport, error) {
	if err := store.CheckSite(site); err != nil {
		return EraseReport{}, err
	}
	if user == "" {
		return EraseReport{}, fmt.Errorf("%w: empty user id", store.ErrInvalidKey)
	}
	vs, err := r.UserVisitors(ctx, site, user)
	if err != nil || len(vs) == 0 {
		if err != nil {
			r.m.erase.count(EraseReport{}, err)
		}
		return EraseReport{}, err
	}
	plan := map[int][]event.VisitorID{}
	up := UserPartition(site, user, r.stream.Partitions)
	plan[up] = slices.Clone(vs)
	for _, v := range vs {
		if err := r.planVisitor(ctx, site, v, plan); err != nil {
			r.m.erase.count(EraseReport{}, err)
			return EraseReport{}, fmt.Errorf("erase: %w", err)
		}
	}
	rep, err := r.erase(ctx, site, vs, plan)
	r.m.erase.count(rep, err)
	return rep, err
}

// planVisitor adds v to its partition and to the partitions of its users.
func (r *Router) planVisitor(ctx context.Context, site string, v event.VisitorID, plan map[int][]event.VisitorID) error {
	users, err := r.visitorUsers(ctx, site, v)
	if err != nil {
		return err
	}
	add := func(p int) {
		if !slices.Contains(plan[p], v) {
			plan[p] = append(plan[p], v)
		}
	}
	add(Partition(site, v, r.stream.Partitions))
	for _, u := range users {
		add(UserPartition(site, u, r.stream.Partitions))
	}
	return nil
}

func (r *Router) erase(ctx context.Context, site string, vs []event.VisitorID, plan map[int][]event.VisitorID) (EraseReport, error) {
	rep := EraseReport{Visitors: vs}
	js, err := jetstream.New(r.nc)
	if err != nil {
		return rep, fmt.Errorf("erase: %w", err)
	}
	owners, err := r.owners(ctx)
	if err != nil {
		return rep, fmt.Errorf("erase: %w", err)
	}
	parts := slices.Sorted(func(yield func(int) bool) {
		for p := range plan {
			if !yield(p) {
				return
			}
		}
	})
	expect := 16 // room for stores that joined since
	for _, p := range parts {
		expect += len(owners[p])
	}
	op := newOp()
	confirms := make(chan *nats.Msg, expect) // a full channel would drop confirmations
	sub, err := r.nc.ChanSubscribe(appliedSubject(r.stream.Subject, op), confirms)
	if err != nil {
		return rep, fmt.Errorf("erase: %w: %w", store.ErrUnavailable, err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // nothing to do about it
	at := time.Now().UTC()
	seqs := map[int]uint64{}
	for _, p := range parts {
		hexes := make([]string, len(plan[p]))
		for i, v := range plan[p] {
			hexes[i] = v.String()
		}
		b, err := json.Marshal(eraseMsg{Op: op, Site: site, Visitors: hexes, At: at})
		if err != nil {
			return rep, fmt.Errorf("BUG: erase message: %w", err)
		}
		m := &nats.Msg{Subject: r.stream.subject(p), Data: b, Header: nats.Header{
			jetstream.MsgIDHeader: []string{"~erase/" + op + "/" + strconv.Itoa(p)}, opHeader: []string{opErase}}}
		var ack *jetstream.PubAck
		err = retry(ctx, func(ctx context.Context) (err error) {
			ack, err = js.PublishMsg(ctx, m)
			return err
		})
		if err != nil {
			return rep, fmt.Errorf("erase: publish on partition %d: %w: %w", p, store.ErrUnavailable, err)
		}
		seqs[p] = ack.Sequence
	}
	// The erasure is in the stream: every store applies it, now or when it
	// replays. Meanwhile, delete what it erases from the stream itself.
	if rep.StreamDeleted, err = r.deleteFromStream(ctx, js, site, plan, seqs); err != nil {
		return rep, fmt.Errorf("erase: applied by the stores, but the stream keeps some of the messages: %w", err)
	}
	applied := map[int][]string{}
	missing := func() bool {
		for _, p := range parts {
			for _, n := range owners[p] {
				if !slices.Contains(applied[p], n) {
					return true
				}
			}
		}
		return false
	}
	wait := time.NewTimer(r.Timeout)
	defer wait.Stop()
collect:
	for missing() {
		select {
		case m := <-confirms:
			var a appliedMsg
			if json.Unmarshal(m.Data, &a) == nil && !slices.Contains(applied[a.Partition], a.Node) {
				applied[a.Partition] = append(applied[a.Partition], a.Node)
			}
		case <-wait.C:
			break collect
		case <-ctx.Done():
			break collect
		}
	}
	for _, p := range parts {
		pe := PartitionErase{Partition: p, Applied: slices.Sorted(slices.Values(applied[p]))}
		for _, n := range owners[p] {
			if !slices.Contains(applied[p], n) {
				pe.Pending = append(pe.Pending, n)
			}
		}
		if pe.Applied == nil {
			pe.Applied = []string{}
		}
		if len(pe.Pending) > 0 || len(pe.Applied) == 0 {
			rep.Partial = true
		}
		rep.Partitions = append(rep.Partitions, pe)
	}
	return rep, nil
}

// owners returns the live store nodes of each partition, by name.
func (r *Router) owners(ctx context.Context) (map[int][]string, error) {
	ms, err := Members(ctx, r.nc, r.Members)
	if err != nil {
		return nil, fmt.Errorf("membership: %w: %w", store.ErrUnavailable, err)
	}
	out := map[int][]string{}
	for _, m := range ms {
		if !Role(m.Role).Stores() {
			continue
		}
		for _, p := range m.Partitions {
			out[p] = append(out[p], m.Node)
		}
	}
	return out, nil
}

// deleteFromStream deletes the touchpoint and link messages of the
// visitors of plan from their partitions, up to the erase message of each
// (seqs), reading the messages' headers only. It costs one pass over those
// partitions' messages in the stream.
func (r *Router) deleteFromStream(ctx context.Context, js jetstream.JetStream, site string, plan map[int][]event.VisitorID, seqs map[int]uint64) (int, error) {
	str, err := js.Stream(ctx, r.stream.Name)
	if err != nil {
		return 0, err
	}
	prefixes := map[string][]string{} // subject → message id prefixes to delete
	var subjects []string
	var last uint64
	for p, vs := range plan {
		subj := r.stream.subject(p)
		subjects = append(subjects, subj)
		for _, v := range vs {
			id := site + "/" + v.String() + "/"
			prefixes[subj] = append(prefixes[subj], id, "~link/"+id)
		}
		last = max(last, seqs[p])
	}
	oc, err := str.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: subjects, HeadersOnly: true})
	if err != nil {
		return 0, err
	}
	it, err := oc.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	var doomed []uint64
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return 0, fmt.Errorf("reading the stream: %w", err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return 0, err
		}
		seq := meta.Sequence.Stream
		if p := r.stream.partitionOf(m.Subject()); seq < seqs[p] {
			id := m.Headers().Get(jetstream.MsgIDHeader)
			for _, pre := range prefixes[m.Subject()] {
				if strings.HasPrefix(id, pre) {
					doomed = append(doomed, seq)
					break
				}
			}
		}
		if seq >= last {
			break
		}
	}
	// SecureDeleteMsg overwrites the message on the servers' disks: about
	// 8 ms each here, and the stream applies them one at a time (sending
	// 16 at once took as long).
	for i, seq := range doomed {
		if err := str.SecureDeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return i, fmt.Errorf("delete message %d: %w", seq, err)
		}
	}
	return len(doomed), nil
}

func newOp() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// eraseMetrics count the erasures a node made through the stream.
type eraseMetrics struct {
	erasures      *prometheus.CounterVec
	streamDeleted prometheus.Counter
}

func newEraseMetrics(reg prometheus.Registerer) eraseMetrics {
	m := eraseMetrics{
		erasures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchtrail_cluster_erasures_total", Help: "Erasures of a visitor or user through this node, by outcome: complete (every live owner confirmed), partial (a store did not confirm in time, or a partition has no live store: it applies the erasure when it comes back), failed (nothing erased, or the stream kept messages).",
		}, []string{"outcome"}),
		streamDeleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "touchtrail_cluster_erase_stream_deleted_total", Help: "Touchpoint and link messages erasures deleted from the stream.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.erasures, m.streamDeleted)
	}
	return m
}

func (m eraseMetrics) count(rep EraseReport, err error) {
	m.streamDeleted.Add(float64(rep.StreamDeleted))
	switch {
	case err != nil:
		m.erasures.WithLabelValues("failed").Inc()
	case rep.Partial:
		m.erasures.WithLabelValues("partial").Inc()
	default:
		m.erasures.WithLabelValues("complete").Inc()
	}
}
