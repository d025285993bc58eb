package cluster

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// Connect connects to the NATS servers at urls (comma-separated) as name,
// reconnecting for ever (to any server of the cluster) and logging
// disconnections.
func Connect(urls, name string, log *slog.Logger) (*nats.Conn, error) {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("module", "cluster.nats")
	// At start-up the servers may still be starting (a whole cluster
	// started at once): try again for a while before giving up.
	deadline := time.Now().Add(connectPatience)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		nc, err := connect(urls, name, log)
		if err == nil || time.Now().Add(wait).After(deadline) {
			return nc, err
		}
		log.Warn("no nats server yet; trying again", "err", err, "in", wait)
		time.Sleep(wait)
	}
}

// connectPatience is how long Connect keeps trying at start-up.
var connectPatience = 30 * time.Second

func connect(urls, name string, log *slog.Logger) (*nats.Conn, error) {
	nc, err := nats.Connect(urls,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "server", c.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to nats %q: %w", urls, err)
	}
	return nc, nil
}
