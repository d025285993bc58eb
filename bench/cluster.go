package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/collector/clustertest"
	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// clusterPhase loads one ingest node publishing to an embedded JetStream
// server (one replica, file storage, 32 partitions) with one store node
// consuming every partition into its own Badger, all in this process. The
// row's rate is what the ingest node acknowledged (sync: JetStream has the
// events); the store's catch-up after the load ends is in the row's name,
// and the run fails unless the store holds every acknowledged event.
func clusterPhase(cfg Config, id string) (Result, error) {
	batch, single := 1, "sync1"
	if id == "cluster100" {
		batch, single = 100, "sync100"
	}
	dir := filepath.Join(cfg.Dir, id)
	if err := os.RemoveAll(dir); err != nil {
		return Result{}, err
	}
	ns, err := natstest.Start(filepath.Join(dir, "nats"), 1)
	if err != nil {
		return Result{}, err
	}
	defer ns.Shutdown()
	stream := cluster.StreamConfig{Partitions: 32}
	in, err := clustertest.Launch(clustertest.Options{NATS: ns.URLs(), Role: cluster.RoleIngest, Node: "in", Stream: stream, Mode: store.Sync, Log: quietLog()})
	if err != nil {
		return Result{}, err
	}
	st, err := clustertest.Launch(clustertest.Options{NATS: ns.URLs(), Role: cluster.RoleStore, Node: "st", Dir: filepath.Join(dir, "store"), Log: quietLog()})
	if err != nil {
		in.Stop()
		return Result{}, err
	}
	lr, err := ingestLoad(cfg, in.Addr, batch).Run()
	if info, ierr := streamInfo(in); ierr == nil && info.State.Msgs > 0 {
		cfg.Log("  stream: %d messages, %.0f bytes a message on the JetStream server's disk", info.State.Msgs, float64(info.State.Bytes)/float64(info.State.Msgs))
	}
	in.Stop()
	loaded := time.Now()
	var caught time.Duration
	for {
		if int(st.Writer.Stats().Records) >= lr.Events {
			caught = time.Since(loaded)
			break
		}
		if time.Since(loaded) > 2*time.Minute {
			st.Stop()
			return Result{}, fmt.Errorf("the store holds %d of %d acknowledged events 2 minutes after the load", st.Writer.Stats().Records, lr.Events)
		}
		time.Sleep(10 * time.Millisecond)
	}
	st.Stop()
	name := fmt.Sprintf("cluster, 1 ingest + 1 store over JetStream, %d event%s/request, sync (store caught up %s after)", batch, plural(batch), caught.Round(10*time.Millisecond))
	r := fromLoad(id, name, lr)
	r.Ceiling = single
	if lr.Events > 0 {
		r.BytesPerEvent = float64(dbSize(filepath.Join(dir, "store"))) / float64(lr.Events)
	}
	return r, err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func streamInfo(n *clustertest.Node) (*jetstream.StreamInfo, error) {
	js, err := jetstream.New(n.Cluster.NC)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, n.Cluster.Publisher.Stream().Name)
	if err != nil {
		return nil, err
	}
	return s.Info(ctx)
}
