package cluster_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
)

// TestSaltsAreSharedAndForgotten: the first node to ask for a day's salt
// stores its own, every other node gets that one, another day gets another
// salt, and a salt is gone once its TTL passed.
func TestSaltsAreSharedAndForgotten(t *testing.T) {
	nsrv := natstest.StartTB(t, 1)
	conn := func() *nats.Conn {
		nc, err := cluster.Connect(nsrv.URLs(), "salts-test", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	ctx := context.Background()
	cfg := cluster.SaltConfig{Bucket: "salts-test", TTL: 2 * time.Second}
	a, err := cluster.OpenSalts(ctx, conn(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cluster.OpenSalts(ctx, conn(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	freshA, freshB := bytes.Repeat([]byte{'a'}, 32), bytes.Repeat([]byte{'b'}, 32)
	got, err := a.DailySalt(20000, freshA)
	if err != nil || !bytes.Equal(got, freshA) {
		t.Fatalf("first node: %q, %v; want its own fresh salt", got, err)
	}
	if got, err := b.DailySalt(20000, freshB); err != nil || !bytes.Equal(got, freshA) {
		t.Fatalf("second node: %q, %v; want the first node's salt", got, err)
	}
	if got, err := b.DailySalt(20001, freshB); err != nil || !bytes.Equal(got, freshB) {
		t.Fatalf("next day: %q, %v; want a salt of its own", got, err)
	}
	// The entries expire: a node asking after the TTL stores a new salt.
	testwait.For(t, 10*time.Second, "the salt of day 20000 to expire", func() bool {
		got, err := a.DailySalt(20000, bytes.Repeat([]byte{'c'}, 32))
		if err != nil {
			t.Fatal(err)
		}
		return got[0] == 'c' // a new one stored: the old one is gone
	})
}

// TestSaltsSurviveANATSRestart: the bucket is on disk, so a restart of the
// NATS servers does not split a day's cookieless visitors.
func TestSaltsSurviveANATSRestart(t *testing.T) {
	nsrv := natstest.StartTB(t, 1)
	nc, err := cluster.Connect(nsrv.URLs(), "salts-restart", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	s, err := cluster.OpenSalts(ctx, nc, cluster.SaltConfig{})
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.Repeat([]byte{'a'}, 32)
	if _, err := s.DailySalt(20000, first); err != nil {
		t.Fatal(err)
	}
	nsrv.Stop(0)
	if err := nsrv.Restart(0); err != nil {
		t.Fatal(err)
	}
	if err := nsrv.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	var got []byte
	if !testwait.Until(20*time.Second, func() bool { // the client reconnects
		got, err = s.DailySalt(20000, bytes.Repeat([]byte{'b'}, 32))
		return err == nil
	}) {
		t.Fatalf("salt bucket unusable after the restart: %v", err)
	}
	if !bytes.Equal(got, first) {
		t.Fatalf("after the restart the day's salt is %q, want the one stored before", got)
	}
}
