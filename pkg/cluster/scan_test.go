package cluster_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// scanVisitor is the i-th visitor of the synthetic scans: ids in i's order.
func scanVisitor(i int) event.VisitorID {
	var v event.VisitorID
	binary.BigEndian.PutUint64(v[:], uint64(i)+1)
	v[15] = 7
	return v
}

// scanStore is a store of the scan tests: it joins the membership bucket
// owning parts and scans n synthetic visitors of every partition (as a
// store owning more than it is asked for would), counting the visitors it
// produced; ended receives how each scan ended.
type scanStore struct {
	produced atomic.Int64
	ended    chan error
}

func startScanStore(t *testing.T, nc *nats.Conn, sc cluster.StreamConfig, node string, parts []int, n int) *scanStore {
	t.Helper()
	m, err := cluster.Join(context.Background(), nc, cluster.MembershipConfig{}, cluster.Member{Node: node, Role: "store", Partitions: parts}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Leave(context.Background()) })
	s := &scanStore{ended: make(chan error, 16)}
	srv, err := cluster.ServeScans(nc, sc, node, parts, func(ctx context.Context, site string, _, _ time.Time, fn func(event.VisitorID, []event.Touchpoint) error) error {
		err := func() error {
			for i := range n {
				if err := ctx.Err(); err != nil {
					return err
				}
				tp := event.Touchpoint{ID: "e" + strconv.Itoa(i), Type: event.TypePageview, Seq: 1, Derived: int64(i) + 1,
					URL: "https://shop.example/p/" + strconv.Itoa(i)}
				s.produced.Add(1)
				if err := fn(scanVisitor(i), []event.Touchpoint{tp}); err != nil {
					return err
				}
			}
			return nil
		}()
		s.ended <- err
		return err
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return s
}

// A scan over two stores (one partition each, each scanning both) gives
// every visitor once, in id order, with its trail; a reader that stops
// pulling holds the stores' scans back (each produced a few chunks' worth,
// not its thousands); cancelling the reader's context stops the stores'
// scans.
func TestScanMergesFlowControlsAndStops(t *testing.T) {
	nc := scatterConn(t)
	sc := cluster.StreamConfig{Partitions: 2}
	const n = 3000
	a := startScanStore(t, nc, sc, "a", []int{0}, n)
	b := startScanStore(t, nc, sc, "b", []int{1}, n)
	r := cluster.NewRouter(nc, sc, nil)
	r.ScanChunk = 1024

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	next := 0
	err := r.ScanTrails(ctx, "demo", time.Time{}, time.Time{}, func(v event.VisitorID, trail []event.Touchpoint) error {
		if v != scanVisitor(next) || len(trail) != 1 || trail[0].ID != "e"+strconv.Itoa(next) || trail[0].Visitor != v || trail[0].Site != "demo" {
			t.Fatalf("visitor %d: got %s with %v, want %s", next, v, trail, scanVisitor(next))
		}
		next++
		return nil
	})
	if err != nil || next != n {
		t.Fatalf("scan: %d of %d visitors, err %v", next, n, err)
	}
	for _, s := range []*scanStore{a, b} {
		if err := <-s.ended; err != nil {
			t.Fatalf("a store's scan ended with %v", err)
		}
	}

	// A reader stuck on its first visitor.
	a.produced.Store(0)
	b.produced.Store(0)
	sctx, stop := context.WithCancel(ctx)
	stuck := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- r.ScanTrails(sctx, "demo", time.Time{}, time.Time{}, func(event.VisitorID, []event.Touchpoint) error {
			<-stuck
			return sctx.Err()
		})
	}()
	testwait.For(t, 10*time.Second, "both stores started", func() bool { return a.produced.Load() > 0 && b.produced.Load() > 0 })
	time.Sleep(300 * time.Millisecond) // what must not happen: the stores running on without a reader
	for name, s := range map[string]*scanStore{"a": a, "b": b} {
		if got := s.produced.Load(); got > 400 {
			t.Errorf("store %s produced %d of %d visitors for a reader stuck on its first", name, got, n)
		}
	}
	stop()
	close(stuck)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled scan returned %v", err)
	}
	for name, s := range map[string]*scanStore{"a": a, "b": b} {
		select {
		case err := <-s.ended:
			if err == nil {
				t.Errorf("store %s scanned to its end for a cancelled reader", name)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("store %s still scanning 5s after the reader cancelled", name)
		}
	}
}
