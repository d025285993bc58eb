package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// Identity across partitions.
//
// An identify touchpoint is stored, with its user↔visitor link, on the
// stores of the visitor's partition, as every touchpoint is. Its link alone
// also goes to the user's partition, UserPartition(site, user, P): the
// ingest node publishes a link message (header Touchtrail-Op: link, message
// id "~link/site/visitor/event id", deduplicated by JetStream like
// touchpoints) on that partition's subject, and the stores owning it write
// it into their user index (LinkUsers) in stream order. A user's visitors
// are then listed by one owner of the user's partition (Router.UserVisitors),
// whatever partitions the visitors themselves live in; their trails are
// read from their own stores.

// UserPartition returns the partition of a user id of site among n:
// xxhash64 over the site id, one zero byte, the byte 'u' and the user id,
// modulo n. Like Partition it is stable across versions and processes (a
// test pins its values): every store owning it holds the user's links.
func UserPartition(site, user string, n int) int {
	b := make([]byte, 0, len(site)+2+len(user))
	b = append(b, site...)
	b = append(b, 0, 'u')
	b = append(b, user...)
	return int(xxhash.Sum64(b) % uint64(n))
}

// opHeader marks a stream message that is not a touchpoint: "link" (an
// identity link on the user's partition) or "erase" (see erase.go).
const (
	opHeader = "Touchtrail-Op"
	opLink   = "link"
	opErase  = "erase"
)

// linkMsg is the body of a link message.
type linkMsg struct {
	Site    string `json:"site"`
	Visitor string `json:"visitor"`
	User    string `json:"user"`
	ID      string `json:"id"`      // of the identify touchpoint
	Derived int64  `json:"derived"` // its time (Unix µs): the link expires with it
}

// linkMsgID is the message id of r's link: its touchpoint's id behind a
// prefix no site id can start with (so the two never collide in the
// duplicate window).
func linkMsgID(r *store.Record) string { return "~link/" + MsgID(r) }

// linkMessage returns the link message of an identify record whose user's
// partition differs from its visitor's, else nil (the identify itself
// carries the link to the one store that needs it).
func (c StreamConfig) linkMessage(r *store.Record) *nats.Msg {
	if r.User == "" {
		return nil
	}
	up := UserPartition(r.Site, r.User, c.Partitions)
	if up == Partition(r.Site, r.Visitor, c.Partitions) {
		return nil
	}
	b, err := json.Marshal(linkMsg{Site: r.Site, Visitor: r.Visitor.String(), User: r.User, ID: r.ID, Derived: r.Derived})
	if err != nil {
		panic("BUG: link message: " + err.Error())
	}
	return &nats.Msg{Subject: c.subject(up), Data: b,
		Header: nats.Header{jetstream.MsgIDHeader: []string{linkMsgID(r)}, opHeader: []string{opLink}}}
}

// decodeLink reads a link message into a record with no value.
func decodeLink(data []byte) (store.Record, error) {
	var l linkMsg
	if err := json.Unmarshal(data, &l); err != nil {
		return store.Record{}, fmt.Errorf("link message: %w", err)
	}
	v, err := event.ParseVisitor(l.Visitor)
	if err != nil {
		return store.Record{}, fmt.Errorf("link message: %w", err)
	}
	r := store.Record{Site: l.Site, Visitor: v, User: l.User, ID: l.ID, Derived: l.Derived}
	if r.User == "" {
		return r, errors.New("link message without a user")
	}
	return r, store.CheckRecords([]store.Record{r})
}

// Applier is what a store node needs, besides its writer, to apply the
// stream's other messages in order: identity links of users whose
// partition it owns, and erasures. *badger.Store implements it.
type Applier interface {
	LinkUsers(ctx context.Context, recs []store.Record) (int, error)
	EraseVisitorsAt(ctx context.Context, site string, vs []event.VisitorID, at time.Time) error
}

// IdentityStore answers identity lookups: a user's visitors, a visitor's
// users. *badger.Store implements it.
type IdentityStore interface {
	UserVisitors(ctx context.Context, site, user string) ([]event.VisitorID, error)
	VisitorUsers(ctx context.Context, site string, v event.VisitorID) ([]string, error)
}

// identitySubject is where the stores owning partition p answer identity
// lookups, in the stores' queue group.
func identitySubject(prefix string, p int) string { return prefix + ".identity." + strconv.Itoa(p) }

type identityRequest struct {
	Op      string `json:"op"` // "user_visitors" or "visitor_users"
	Site    string `json:"site"`
	User    string `json:"user,omitempty"`
	Visitor string `json:"visitor,omitempty"`
}

type identityReply struct {
	Visitors []string `json:"visitors,omitempty"`
	Users    []string `json:"users,omitempty"`
	Error    string   `json:"error,omitempty"`
	Kind     string   `json:"kind,omitempty"` // invalid, other
}

// ServeIdentity subscribes st to the identity subjects of parts; stop it
// with Close.
func ServeIdentity(nc *nats.Conn, sc StreamConfig, parts []int, st IdentityStore, log *slog.Logger) (*QueryServer, error) {
	sc = sc.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	q := &QueryServer{log: log.With("module", "cluster.identity")}
	handle := func(m *nats.Msg) {
		rep := answerIdentity(st, m.Data)
		b, err := json.Marshal(rep)
		if err == nil {
			err = m.Respond(b)
		}
		if err != nil {
			q.log.Warn("cannot answer an identity lookup", "err", err)
		}
	}
	for _, p := range parts {
		sub, err := nc.QueueSubscribe(identitySubject(sc.Subject, p), queueGroup, handle)
		if err != nil {
			q.Close()
			return nil, fmt.Errorf("cannot serve identity lookups of partition %d: %w", p, err)
		}
		q.subs = append(q.subs, sub)
	}
	return q, nil
}

func answerIdentity(st IdentityStore, data []byte) identityReply {
	var req identityRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return identityReply{Error: "bad request: " + err.Error(), Kind: "invalid"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fail := func(err error) identityReply {
		if errors.Is(err, store.ErrInvalidKey) {
			return identityReply{Error: err.Error(), Kind: "invalid"}
		}
		return identityReply{Error: err.Error(), Kind: "other"}
	}
	switch req.Op {
	case "user_visitors":
		vs, err := st.UserVisitors(ctx, req.Site, req.User)
		if err != nil {
			return fail(err)
		}
		rep := identityReply{Visitors: make([]string, len(vs))}
		for i, v := range vs {
			rep.Visitors[i] = v.String()
		}
		return rep
	case "visitor_users":
		v, err := event.ParseVisitor(req.Visitor)
		if err != nil {
			return identityReply{Error: err.Error(), Kind: "invalid"}
		}
		us, err := st.VisitorUsers(ctx, req.Site, v)
		if err != nil {
			return fail(err)
		}
		return identityReply{Users: us}
	}
	return identityReply{Error: fmt.Sprintf("unknown op %q", req.Op), Kind: "invalid"}
}

// identity asks one live owner of partition p.
func (r *Router) identity(ctx context.Context, p int, req identityRequest) (identityReply, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return identityReply{}, fmt.Errorf("BUG: identity request: %w", err)
	}
	var rep identityReply
	if err := r.ask(ctx, identitySubject(r.stream.Subject, p), p, b, &rep); err != nil {
		return identityReply{}, err
	}
	switch rep.Kind {
	case "":
		return rep, nil
	case "invalid":
		return rep, fmt.Errorf("%w: %s", store.ErrInvalidKey, rep.Error)
	}
	return rep, fmt.Errorf("partition %d: %s", p, rep.Error)
}

// UserVisitors implements store.Store: the visitors stitched to user, as
// listed by a live store owning the user's partition, in visitor-id order
// (as one store lists them).
func (r *Router) UserVisitors(ctx context.Context, site, user string) ([]event.VisitorID, error) {
	if err := store.CheckSite(site); err != nil {
		return nil, err
	}
	rep, err := r.identity(ctx, UserPartition(site, user, r.stream.Partitions), identityRequest{Op: "user_visitors", Site: site, User: user})
	if err != nil {
		return nil, fmt.Errorf("visitors of a user: %w", err)
	}
	out := make([]event.VisitorID, len(rep.Visitors))
	for i, s := range rep.Visitors {
		if out[i], err = event.ParseVisitor(s); err != nil {
			return nil, fmt.Errorf("visitors of a user: %w", err)
		}
	}
	return out, nil
}

// visitorUsers lists the users a visitor is stitched to, as a live store
// owning the visitor's partition knows them.
func (r *Router) visitorUsers(ctx context.Context, site string, v event.VisitorID) ([]string, error) {
	rep, err := r.identity(ctx, Partition(site, v, r.stream.Partitions), identityRequest{Op: "visitor_users", Site: site, Visitor: v.String()})
	if err != nil {
		return nil, fmt.Errorf("users of visitor %s: %w", v, err)
	}
	return rep.Users, nil
}
