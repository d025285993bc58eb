package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// heldSubmitter holds every commit until open is closed, says when the
// first one arrived, and counts what it committed.
type heldSubmitter struct {
	open, entered chan struct{}
	once          sync.Once
	mu            sync.Mutex
	n             int
}

func (h *heldSubmitter) Submit(_ context.Context, recs []store.Record) error {
	h.once.Do(func() { close(h.entered) })
	<-h.open
	h.mu.Lock()
	h.n += len(recs)
	h.mu.Unlock()
	return nil
}

func (h *heldSubmitter) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// applier records the links and erasures a consumer applies, and how many
// records were committed when each was.
type applier struct {
	h   *heldSubmitter
	mu  sync.Mutex
	log []string
}

func (a *applier) LinkUsers(_ context.Context, recs []store.Record) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range recs {
		a.log = append(a.log, fmt.Sprintf("link %s %s %s after %d", r.User, r.Visitor, r.ID, a.h.count()))
	}
	return len(recs), nil
}

func (a *applier) EraseVisitorsAt(_ context.Context, site string, vs []event.VisitorID, at time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = append(a.log, fmt.Sprintf("erase %s %v at %s after %d", site, vs, at.UTC().Format(time.RFC3339), a.h.count()))
	return nil
}

func (a *applier) entries() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.log...)
}

// TestControlMessagesApplyInOrder: an identify publishes its link on the
// user's partition; a store applies links and erasures only after every
// touchpoint before them in the stream is committed, confirms an erasure
// on its applied subject, and terminates malformed control messages
// without stopping.
func TestControlMessagesApplyInOrder(t *testing.T) {
	_, nc, pub := setup(t, store.Sync)
	ctx := context.Background()
	js, _ := jetstream.New(nc)
	recs := records("demo", 1, 10) // visitor 0…01, 10 touchpoints
	v := recs[0].Visitor
	pv := cluster.Partition("demo", v, 4)
	user := ""
	for i := 0; user == ""; i++ {
		if u := "u" + strconv.Itoa(i); cluster.UserPartition("demo", u, 4) != pv {
			user = u
		}
	}
	var slab []byte
	id := event.Touchpoint{ID: "ident", Type: event.TypeIdentify, Site: "demo", Visitor: v, User: user, Seq: 10,
		TS: recs[9].Derived + 1, Derived: recs[9].Derived + 1}
	recs = append(recs, store.NewRecord(&id, &slab))
	if err := pub.Submit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	control := func(subject, op, msgID string, body []byte) {
		t.Helper()
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: body,
			Header: nats.Header{jetstream.MsgIDHeader: []string{msgID}, "Touchtrail-Op": []string{op}}}); err != nil {
			t.Fatal(err)
		}
	}
	subj := "touchtrail.events." + strconv.Itoa(pv)
	control(subj, "link", "~link/bad", []byte("{not json"))
	control(subj, "rewind", "~rewind/1", []byte("{}"))
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	body, _ := json.Marshal(map[string]any{"op": "op1", "site": "demo", "visitors": []string{v.String()}, "at": at})
	applied, err := nc.SubscribeSync("touchtrail.events.applied.op1")
	if err != nil {
		t.Fatal(err)
	}
	control(subj, "erase", "~erase/op1/"+strconv.Itoa(pv), body)

	h := &heldSubmitter{open: make(chan struct{}), entered: make(chan struct{})}
	a := &applier{h: h}
	c, err := cluster.NewConsumer(ctx, nc, h, cluster.ConsumerConfig{Node: "s", Partitions: []int{0, 1, 2, 3}, Applier: a, PollEvery: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	select {
	case <-h.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("no commit began")
	}
	// A negative check: the erasure behind the held commit must not apply
	// meanwhile (it would at once, unordered).
	time.Sleep(100 * time.Millisecond)
	if got := a.entries(); len(got) > 1 || (len(got) == 1 && got[0][:5] != "link ") {
		t.Errorf("applied while the touchpoints before were not committed: %v", got)
	}
	close(h.open)
	testwait.For(t, 5*time.Second, "everything consumed", func() bool { return len(a.entries()) == 2 && c.Lag() == 0 })
	got := a.entries()
	if want := fmt.Sprintf("erase demo [%s] at 2026-11-30T12:00:00Z after 11", v); got[1] != want {
		t.Errorf("erasure applied as %q, want %q (after all 11 touchpoints before it)", got[1], want)
	}
	if want := fmt.Sprintf("link %s %s ident after ", user, v); len(got[0]) < len(want) || got[0][:len(want)] != want {
		t.Errorf("link applied as %q, want %q…", got[0], want)
	}
	m, err := applied.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no confirmation of the erasure: %v", err)
	}
	var conf struct {
		Node      string `json:"node"`
		Partition int    `json:"partition"`
	}
	if err := json.Unmarshal(m.Data, &conf); err != nil || conf.Node != "s" || conf.Partition != pv {
		t.Errorf("confirmation %s, want node s, partition %d", m.Data, pv)
	}
}
