package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// slowStore answers Trail only once released; the rest of store.Store is
// not called here.
type slowStore struct {
	store.Store
	entered, release chan struct{}
	done             chan struct{}
}

func (s *slowStore) Trail(ctx context.Context, site string, v event.VisitorID, q store.TrailQuery) (store.TrailPage, error) {
	close(s.entered)
	<-s.release
	defer close(s.done)
	return store.TrailPage{}, store.ErrNotFound
}

// TestQueryServerCloseWaitsForAnswers: a store node closes its store right
// after the cluster node; a query answered at that moment must be done
// reading before QueryServer.Close returns, or it reads a closed store.
func TestQueryServerCloseWaitsForAnswers(t *testing.T) {
	_, nc, _ := setup(t, store.Sync)
	st := &slowStore{entered: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
	qs, err := cluster.ServeQueries(nc, cluster.StreamConfig{Partitions: 4}, []int{0, 1, 2, 3}, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	var v event.VisitorID
	v[15] = 1
	r := cluster.NewRouter(nc, cluster.StreamConfig{Partitions: 4}, nil)
	go func() { _, _ = r.Trail(context.Background(), "demo", v, store.TrailQuery{Limit: 10}) }()
	select {
	case <-st.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the query never reached the store")
	}
	closed := make(chan struct{})
	go func() { qs.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a query was reading the store")
	case <-time.After(200 * time.Millisecond): // a negative check: Close must still be waiting
	}
	close(st.release)
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return once the query was answered")
	}
	select {
	case <-st.done:
	default:
		t.Error("Close returned before the store's read ended")
	}
}
