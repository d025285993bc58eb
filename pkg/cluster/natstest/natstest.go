// Package natstest runs real NATS servers with JetStream inside the
// process, on loopback, for tests and benchmarks: one server, or a cluster
// of several routed to each other. Nothing in it is a mock: it is
// nats-server/v2 itself.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a set of running NATS servers.
type Cluster struct {
	Servers []*server.Server
	opts    []*server.Options
}

// URLs returns the client URLs of the servers, comma-separated (what
// nats.Connect takes), the stopped ones included.
func (c *Cluster) URLs() string {
	u := make([]string, len(c.opts))
	for i, o := range c.opts {
		u[i] = fmt.Sprintf("nats://%s:%d", o.Host, o.Port)
	}
	return strings.Join(u, ",")
}

// Start runs n JetStream servers (n > 1: one cluster) with their stores in
// directories under dir, and waits until they are ready (a cluster: until
// it has a JetStream leader). Stop them with Shutdown.
func Start(dir string, n int) (*Cluster, error) {
	c := &Cluster{}
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var routes []*url.URL
	for i := range n {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[n+i])})
	}
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   fmt.Sprintf("%s/n%d", dir, i+1),
			NoSigs:     true,
			// Small limits: tests keep little; a real deployment sizes them.
			JetStreamMaxMemory: 256 << 20,
			JetStreamMaxStore:  4 << 30,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "touchtrail", Host: "127.0.0.1", Port: ports[n+i]}
			o.Routes = routes
		}
		c.opts = append(c.opts, o)
	}
	for i := range n {
		if err := c.start(i); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	return c, c.WaitReady(30 * time.Second)
}

// StartTB starts a cluster of n in tb's temporary directory and stops it
// when the test ends.
func StartTB(tb testing.TB, n int) *Cluster {
	tb.Helper()
	c, err := Start(tb.TempDir(), n)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Shutdown)
	return c
}

func (c *Cluster) start(i int) error {
	if err := os.MkdirAll(c.opts[i].StoreDir, 0o755); err != nil {
		return fmt.Errorf("natstest: %w", err)
	}
	s, err := server.NewServer(c.opts[i])
	if err != nil {
		return fmt.Errorf("natstest: server %d: %w", i+1, err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("natstest: server %d not ready", i+1)
	}
	if i < len(c.Servers) {
		c.Servers[i] = s
	} else {
		c.Servers = append(c.Servers, s)
	}
	return nil
}

// WaitReady waits until every running server sees a JetStream meta leader
// (and, alone, until JetStream is enabled).
func (c *Cluster) WaitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ok := len(c.Servers) == 1 || c.peersOnline()
		for _, s := range c.Servers {
			if s != nil && s.Running() && !s.JetStreamEnabled() {
				ok = false
			}
		}
		if ok {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("natstest: no JetStream leader within %s", d)
}

// peersOnline reports whether the meta leader sees every running server
// online with JetStream: only then can a stream be placed on three.
func (c *Cluster) peersOnline() bool {
	running := 0
	for _, s := range c.Servers {
		if s != nil && s.Running() {
			running++
		}
	}
	for _, s := range c.Servers {
		if s != nil && s.Running() && s.JetStreamIsLeader() {
			return len(s.JetStreamClusterPeers()) >= running
		}
	}
	return false
}

// Stop shuts server i down (0-based); Restart brings it back on the same
// port and store directory.
func (c *Cluster) Stop(i int) {
	c.Servers[i].Shutdown()
	c.Servers[i].WaitForShutdown()
}

// Restart starts server i again after Stop.
func (c *Cluster) Restart(i int) error { return c.start(i) }

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for _, s := range c.Servers {
		if s != nil {
			s.Shutdown()
		}
	}
	for _, s := range c.Servers {
		if s != nil {
			s.WaitForShutdown()
		}
	}
}

// freePorts reserves n loopback ports and releases them for the servers.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("natstest: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
