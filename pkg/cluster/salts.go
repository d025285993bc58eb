package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SaltConfig names the key-value bucket of cookieless mode's daily salts.
type SaltConfig struct {
	Bucket   string // Default: "touchtrail-salts"
	Replicas int    // Default: 1; give the stream's replicas
	// TTL is how long a salt is kept after it was made. Default: 25 hours,
	// so a salt made at any moment of its day outlives the day, and is then
	// forgotten, as on one node.
	TTL time.Duration
}

func (c SaltConfig) withDefaults() SaltConfig {
	if c.Bucket == "" {
		c.Bucket = "touchtrail-salts"
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.TTL <= 0 {
		c.TTL = 25 * time.Hour
	}
	return c
}

// Salts keeps cookieless mode's daily salts in a JetStream key-value bucket
// that every ingest node shares, so that a client gets one visitor id
// whichever ingest node its requests reach. The first node to need a
// day's salt stores the fresh one it made (a create, which fails if
// another node was first); every other node reads that one. The bucket is
// on disk (a salt survives a restart of the NATS servers) and its entries
// expire after TTL, so no salt outlives its day by more than an hour.
// It implements the collector's SaltKeeper.
type Salts struct {
	kv jetstream.KeyValue
}

// OpenSalts opens (or creates) the salt bucket.
func OpenSalts(ctx context.Context, nc *nats.Conn, cfg SaltConfig) (*Salts, error) {
	cfg = cfg.withDefaults()
	js, err := jetstreamNew(nc)
	if err != nil {
		return nil, err
	}
	var kv jetstream.KeyValue
	err = retry(ctx, func(ctx context.Context) (err error) {
		kv, err = js.KeyValue(ctx, cfg.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
				Bucket: cfg.Bucket, Description: "touchtrail cookieless salts: one a day, forgotten after it",
				TTL: cfg.TTL, History: 1, Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
			})
			if errors.Is(err, jetstream.ErrBucketExists) {
				kv, err = js.KeyValue(ctx, cfg.Bucket)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cannot open salt bucket %q: %w", cfg.Bucket, err)
	}
	return &Salts{kv: kv}, nil
}

// saltTimeout bounds one salt lookup: it happens once a day per node.
const saltTimeout = 5 * time.Second

// DailySalt returns the salt of day (days since the Unix epoch, UTC),
// storing fresh if no node stored one yet. Older salts expire by
// themselves.
func (s *Salts) DailySalt(day int64, fresh []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), saltTimeout)
	defer cancel()
	key := "day-" + strconv.FormatInt(day, 10)
	_, err := s.kv.Create(ctx, key, fresh)
	if err == nil {
		return fresh, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("cannot store the salt of day %d: %w", day, err)
	}
	e, err := s.kv.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("cannot read the salt of day %d: %w", day, err)
	}
	if len(e.Value()) < 16 {
		return nil, fmt.Errorf("salt of day %d: %d bytes", day, len(e.Value()))
	}
	return e.Value(), nil
}
