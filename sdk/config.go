package sdk

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Logger receives the SDK's few log lines: retries and, at most every 10
// seconds, a dropping queue. *slog.Logger satisfies it. It must be safe for
// concurrent use.
type Logger interface {
	Warn(msg string, args ...any)
}

// Config configures a Client. Zero values mean the defaults; negative
// numbers are errors.
type Config struct {
	// Endpoint is the collector's base URL, e.g. "https://collector.example";
	// events go to Endpoint + "/v1/events". Required.
	Endpoint string
	// Site is the site id events belong to: 1 to 64 of A-Z a-z 0-9 _ . -.
	// Required.
	Site string
	// WriteKey is the site's server write key, sent as a Bearer token.
	// Required: it lets the SDK set trusted fields (the client IP and user
	// agent it speaks for) and exempts it from the per-IP rate limit.
	WriteKey string

	// BatchSize is the most events one request carries; keep it at or
	// below the collector's max_events. Default: 250.
	BatchSize int
	// BatchBytes is the most JSON bytes (before gzip) one request carries.
	// Default: 512 KiB.
	BatchBytes int
	// MaxEventBytes caps one event's JSON; Track refuses larger events with
	// ErrEventTooLarge. Default: 32 KiB.
	MaxEventBytes int
	// FlushInterval is the longest an event waits for its batch to fill.
	// Default: 1s.
	FlushInterval time.Duration
	// QueueSize bounds the events waiting to be batched; past it Track
	// drops events and returns ErrQueueFull. Default: 10000.
	QueueSize int
	// MaxInFlight bounds the batches being sent (or waiting to be retried)
	// at once. Default: 2.
	MaxInFlight int
	// MaxRetries is how many times a batch is retried before it is given up
	// (counted failed and reported to OnError). Default: 10.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// retries, jittered between half and all of min(MinBackoff·2ⁿ,
	// MaxBackoff). A 429's Retry-After wins when it is longer.
	// Defaults: 100ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one HTTP attempt, connection to answer. Default: 10s.
	Timeout time.Duration
	// HTTPClient sends the requests. Default: a client of its own with
	// http.DefaultTransport's settings.
	HTTPClient *http.Client
	// Logger receives warnings. Default: nil, quiet.
	Logger Logger
	// OnError is called from the SDK's goroutines with every error that
	// loses events sent to the collector: a batch given up after its
	// retries or refused, events rejected one by one. Events that Track
	// refuses are not reported here (Track returns the error; Stats counts
	// them). It must not block for long. Default: nil.
	OnError func(error)
}

// ConfigError is returned by New for an unusable Config. Field names the
// Config field at fault.
type ConfigError struct {
	Field, Reason string
}

// Error implements error.
func (e *ConfigError) Error() string { return "sdk: config " + e.Field + ": " + e.Reason }

// Defaults of Config, for reference.
const (
	DefaultBatchSize     = 250
	DefaultBatchBytes    = 512 << 10
	DefaultMaxEventBytes = 32 << 10
	DefaultFlushInterval = time.Second
	DefaultQueueSize     = 10000
	DefaultMaxInFlight   = 2
	DefaultMaxRetries    = 10
	DefaultMinBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	DefaultTimeout       = 10 * time.Second
)

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.BatchSize, DefaultBatchSize)
	def(&c.BatchBytes, DefaultBatchBytes)
	def(&c.MaxEventBytes, DefaultMaxEventBytes)
	def(&c.QueueSize, DefaultQueueSize)
	def(&c.MaxInFlight, DefaultMaxInFlight)
	def(&c.MaxRetries, DefaultMaxRetries)
	dur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	dur(&c.FlushInterval, DefaultFlushInterval)
	dur(&c.MinBackoff, DefaultMinBackoff)
	dur(&c.MaxBackoff, DefaultMaxBackoff)
	dur(&c.Timeout, DefaultTimeout)
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{} // the per-attempt context carries Timeout
	}
	return c
}

// validate checks a Config after withDefaults.
func (c Config) validate() error {
	if c.Endpoint == "" {
		return &ConfigError{"Endpoint", "required"}
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &ConfigError{"Endpoint", fmt.Sprintf("%q is not an http(s) URL", c.Endpoint)}
	}
	if !validSite(c.Site) {
		return &ConfigError{"Site", fmt.Sprintf("%q is not 1 to 64 of A-Z a-z 0-9 _ . -", c.Site)}
	}
	if c.WriteKey == "" {
		return &ConfigError{"WriteKey", "required"}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"BatchSize", int64(c.BatchSize)}, {"BatchBytes", int64(c.BatchBytes)}, {"MaxEventBytes", int64(c.MaxEventBytes)},
		{"QueueSize", int64(c.QueueSize)}, {"MaxInFlight", int64(c.MaxInFlight)}, {"MaxRetries", int64(c.MaxRetries)},
		{"FlushInterval", int64(c.FlushInterval)}, {"MinBackoff", int64(c.MinBackoff)},
		{"MaxBackoff", int64(c.MaxBackoff)}, {"Timeout", int64(c.Timeout)},
	} {
		if f.v < 0 {
			return &ConfigError{f.name, "negative"}
		}
	}
	if c.MaxEventBytes > c.BatchBytes {
		return &ConfigError{"MaxEventBytes", fmt.Sprintf("%d is larger than BatchBytes (%d)", c.MaxEventBytes, c.BatchBytes)}
	}
	if c.MinBackoff > c.MaxBackoff {
		return &ConfigError{"MinBackoff", fmt.Sprintf("%s is larger than MaxBackoff (%s)", c.MinBackoff, c.MaxBackoff)}
	}
	return nil
}

// Errors of Track, Flush and Close; compare them with errors.Is.
var (
	// ErrQueueFull is returned by Track when the queue is full: the event
	// is dropped and counted in Stats.Dropped.
	ErrQueueFull = errors.New("sdk: queue full, event dropped")
	// ErrClosed is returned by Track and Flush after Close.
	ErrClosed = errors.New("sdk: client closed")
	// ErrEventTooLarge is returned by Track for an event over
	// MaxEventBytes: the event is dropped and counted.
	ErrEventTooLarge = errors.New("sdk: event too large")
	// ErrUndelivered is wrapped by the errors of Flush and Close when
	// events could not be delivered: still on their way when the context
	// ended, given up after their retries, or refused by the collector.
	ErrUndelivered = errors.New("events not delivered")
)
