package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Partition returns the partition of a visitor of site among n: xxhash64
// over the site id, one zero byte and the visitor's 16 bytes, modulo n. It
// is stable across versions and processes (a test pins its values): a
// visitor's whole trail lives in one partition, so one store holds it.
func Partition(site string, v event.VisitorID, n int) int {
	var buf [64 + 1 + 16]byte
	b := append(buf[:0], site...)
	b = append(b, 0)
	b = append(b, v[:]...)
	return int(xxhash.Sum64(b) % uint64(n))
}

// metaPartitions is the stream metadata key recording P: the partition
// count is fixed when the stream is created and read back by every node.
const (
	metaPartitions = "touchtrail.partitions"
	metaHash       = "touchtrail.partition_hash"
	hashName       = "xxhash64(site, 0x00, visitor[16]) mod P"
)

// StreamConfig describes the stream of touchpoints. Zero values mean the
// defaults.
type StreamConfig struct {
	// Name of the JetStream stream. Default: "TOUCHTRAIL".
	Name string
	// Subject is the prefix of the partition subjects: partition p is
	// published on Subject.p. Default: "touchtrail.events".
	Subject string
	// Partitions is P, used when the stream is created; an existing
	// stream keeps the P recorded in its metadata. Default: 32.
	Partitions int
	// Replicas of the stream (1, 3 or 5; at most the servers of the
	// cluster). Default: 1.
	Replicas int
	// MaxAge is the stream's retention: a store rebuilt from an empty
	// directory can replay this far back, no further. Default: 30 days.
	MaxAge time.Duration
	// MaxBytes caps the stream's size; the oldest messages go first.
	// Default: 0, no cap (MaxAge alone bounds it).
	MaxBytes int64
	// DuplicateWindow is how long JetStream remembers message ids to drop
	// re-sent events before they reach a store (which dedupes for ever
	// anyway). Default: 2 minutes.
	DuplicateWindow time.Duration
}

func (c StreamConfig) withDefaults() StreamConfig {
	if c.Name == "" {
		c.Name = "TOUCHTRAIL"
	}
	if c.Subject == "" {
		c.Subject = "touchtrail.events"
	}
	if c.Partitions <= 0 {
		c.Partitions = 32
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 30 * 24 * time.Hour
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
	return c
}

// MaxPartitions bounds P.
const MaxPartitions = 4096

// Validate checks c after defaults.
func (c StreamConfig) Validate() error {
	c = c.withDefaults()
	if c.Partitions > MaxPartitions {
		return fmt.Errorf("partitions %d: at most %d", c.Partitions, MaxPartitions)
	}
	if strings.ContainsAny(c.Subject, "*> \t") || strings.HasSuffix(c.Subject, ".") {
		return fmt.Errorf("subject prefix %q: no wildcards, spaces or trailing dot", c.Subject)
	}
	if c.DuplicateWindow > c.MaxAge {
		return fmt.Errorf("duplicate window %s longer than the retention %s", c.DuplicateWindow, c.MaxAge)
	}
	return nil
}

// subject returns the subject of partition p.
func (c StreamConfig) subject(p int) string { return c.Subject + "." + strconv.Itoa(p) }

// partitionOf parses the partition out of a subject of the stream; -1 if
// it is not one.
func (c StreamConfig) partitionOf(subj string) int {
	rest, ok := strings.CutPrefix(subj, c.Subject+".")
	if !ok {
		return -1
	}
	p, err := strconv.Atoi(rest)
	if err != nil || p < 0 {
		return -1
	}
	return p
}

// EnsureStream creates the stream if it does not exist, recording P in its
// metadata, and returns the stream's config as it is, with Partitions read
// back from the stream (an existing stream keeps its P whatever c says).
func EnsureStream(ctx context.Context, js jetstream.JetStream, c StreamConfig) (StreamConfig, error) {
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("invalid stream config: %w", err)
	}
	var out StreamConfig
	err := retry(ctx, func(ctx context.Context) (err error) {
		out, err = ensureStream(ctx, js, c)
		return err
	})
	return out, err
}

// retry calls f with a short deadline until it succeeds, fails for a reason
// other than JetStream not answering yet (a cluster still electing its
// leader drops API requests), or ctx ends.
func retry(ctx context.Context, f func(context.Context) error) error {
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := f(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func transient(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) && (api.ErrorCode == jsErrNoSuitablePeers || api.ErrorCode == jsErrTemporarilyUnavailable || api.Code == 503) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrConnectionReconnecting)
}

// JetStream API error codes of a cluster that is not fully up yet.
const (
	jsErrNoSuitablePeers        jetstream.ErrorCode = 10005 // "no suitable peers for placement"
	jsErrTemporarilyUnavailable jetstream.ErrorCode = 10008 // "JetStream system temporarily unavailable"
)

func ensureStream(ctx context.Context, js jetstream.JetStream, c StreamConfig) (StreamConfig, error) {
	s, err := js.Stream(ctx, c.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        c.Name,
			Description: "touchtrail touchpoints, one subject per partition",
			Subjects:    []string{c.Subject + ".*"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    c.Replicas,
			MaxAge:      c.MaxAge,
			MaxBytes:    orNoLimit(c.MaxBytes),
			Duplicates:  c.DuplicateWindow,
			Discard:     jetstream.DiscardOld,
			Metadata:    map[string]string{metaPartitions: strconv.Itoa(c.Partitions), metaHash: hashName},
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another node won the race
			s, err = js.Stream(ctx, c.Name)
		}
	}
	if err != nil {
		return c, fmt.Errorf("cannot get stream %q: %w", c.Name, err)
	}
	return fromStream(c, s.CachedInfo())
}

// OpenStream returns the config of an existing stream (P from its
// metadata); it never creates one.
func OpenStream(ctx context.Context, js jetstream.JetStream, c StreamConfig) (StreamConfig, error) {
	c = c.withDefaults()
	var s jetstream.Stream
	err := retry(ctx, func(ctx context.Context) (err error) {
		s, err = js.Stream(ctx, c.Name)
		return err
	})
	if err != nil {
		return c, fmt.Errorf("cannot get stream %q: %w", c.Name, err)
	}
	return fromStream(c, s.CachedInfo())
}

func fromStream(c StreamConfig, info *jetstream.StreamInfo) (StreamConfig, error) {
	sc := info.Config
	p, err := strconv.Atoi(sc.Metadata[metaPartitions])
	if err != nil || p <= 0 || p > MaxPartitions {
		return c, fmt.Errorf("stream %q records no partition count (metadata %s = %q): not a touchtrail stream", c.Name, metaPartitions, sc.Metadata[metaPartitions])
	}
	if len(sc.Subjects) != 1 || !strings.HasSuffix(sc.Subjects[0], ".*") {
		return c, fmt.Errorf("stream %q has subjects %q: want one <prefix>.*", c.Name, sc.Subjects)
	}
	c.Subject = strings.TrimSuffix(sc.Subjects[0], ".*")
	c.Partitions = p
	c.Replicas = sc.Replicas
	c.MaxAge = sc.MaxAge
	c.MaxBytes = sc.MaxBytes
	c.DuplicateWindow = sc.Duplicates
	return c, nil
}

func orNoLimit(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// ParsePartitions parses a partition set such as "0-31" or "0-7,16,20-23"
// into sorted, distinct partitions, each below n (n ≤ 0: no upper check).
func ParsePartitions(s string, n int) ([]int, error) {
	seen := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil || a < 0 {
			return nil, fmt.Errorf("partitions %q: bad number %q", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || b < a {
				return nil, fmt.Errorf("partitions %q: bad range %q", s, part)
			}
		}
		if n > 0 && b >= n {
			return nil, fmt.Errorf("partitions %q: %d is not below the stream's %d partitions", s, b, n)
		}
		if b-a >= MaxPartitions {
			return nil, fmt.Errorf("partitions %q: range too long", s)
		}
		for p := a; p <= b; p++ {
			seen[p] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("partitions %q: none", s)
	}
	out := make([]int, 0, len(seen))
	for p := range MaxPartitions {
		if seen[p] {
			out = append(out, p)
		}
	}
	if len(out) != len(seen) {
		return nil, fmt.Errorf("partitions %q: at most %d", s, MaxPartitions-1)
	}
	return out, nil
}

func jetstreamNew(nc *nats.Conn) (jetstream.JetStream, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("cannot use jetstream: %w", err)
	}
	return js, nil
}

// waitStream waits for the stream an ingest node makes, until ctx ends:
// stores may start first.
func waitStream(ctx context.Context, js jetstream.JetStream, c StreamConfig, log *slog.Logger) (StreamConfig, error) {
	logged := false
	for {
		sc, err := OpenStream(ctx, js, c)
		if err == nil || !errors.Is(err, jetstream.ErrStreamNotFound) {
			return sc, err
		}
		if !logged {
			log.Info("waiting for an ingest node to create the stream", "stream", sc.Name)
			logged = true
		}
		select {
		case <-ctx.Done():
			return sc, fmt.Errorf("stream %q: %w", sc.Name, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
