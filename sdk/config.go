package sdk

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Logger receives the SDK's few log lines. *slog.Logger satisfies it.
type Logger interface {
	Warn(msg string, args ...any)
}

// Config configures a Client. Zero values mean the defaults.
type Config struct {
	// Endpoint is the collector's base URL, e.g. "https://collector.example".
	// Required.
	Endpoint string
	// Site is the site id events belong to. Required.
	Site string
	// WriteKey is the site's server write key. Required: it lets the SDK set
	// trusted fields (the client IP and user agent it speaks for) and
	// exempts it from the collector's per-IP rate limit.
	WriteKey string

	// BatchSize is the most events one request carries. Default: 250.
	BatchSize int
	// BatchBytes is the most JSON bytes (before gzip) one request carries.
	// Default: 512 KiB.
	BatchBytes int
	// MaxEventBytes caps one event's JSON; larger events are refused by
	// Track with ErrEventTooLarge. Default: 32 KiB.
	MaxEventBytes int
	// FlushInterval is how long an event may wait for its batch to fill.
	// Default: 1s.
	FlushInterval time.Duration
	// QueueSize bounds the events waiting to be sent; past it Track drops.
	// Default: 10000.
	QueueSize int
	// MaxInFlight bounds the batches being sent at once. Default: 2.
	MaxInFlight int
	// MaxRetries is how often a batch is retried before it is given up
	// (counted failed, reported to OnError). Default: 10.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// retries (with full jitter). Defaults: 100ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one HTTP request. Default: 10s.
	Timeout time.Duration
	// HTTPClient sends the requests. Default: a client with Timeout.
	HTTPClient *http.Client
	// Logger receives warnings. Default: nil, quiet.
	Logger Logger
	// OnError is called, from the worker, with every error that loses
	// events: dropped on a full queue is not reported here (see Stats),
	// a batch given up after its retries or refused by the collector is.
	OnError func(error)
}

// ConfigError is returned by New for an unusable Config.
type ConfigError struct {
	Field, Reason string
}

func (e *ConfigError) Error() string { return "sdk: config " + e.Field + ": " + e.Reason }

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.BatchSize, 250)
	def(&c.BatchBytes, 512<<10)
	def(&c.MaxEventBytes, 32<<10)
	def(&c.QueueSize, 10000)
	def(&c.MaxInFlight, 2)
	def(&c.MaxRetries, 10)
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	dur(&c.FlushInterval, time.Second)
	dur(&c.MinBackoff, 100*time.Millisecond)
	dur(&c.MaxBackoff, 30*time.Second)
	dur(&c.Timeout, 10*time.Second)
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.Timeout}
	}
	return c
}

func (c Config) validate() error {
	u, err := url.Parse(c.Endpoint)
	switch {
	case c.Endpoint == "":
		return &ConfigError{"Endpoint", "required"}
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return &ConfigError{"Endpoint", fmt.Sprintf("%q is not an http(s) URL", c.Endpoint)}
	case c.Site == "":
		return &ConfigError{"Site", "required"}
	case c.WriteKey == "":
		return &ConfigError{"WriteKey", "required"}
	case c.MinBackoff > c.MaxBackoff:
		return &ConfigError{"MinBackoff", "larger than MaxBackoff"}
	}
	return nil
}

// Errors of Track, Flush and Close.
var (
	// ErrQueueFull is returned by Track when the queue is full: the event is
	// dropped and counted.
	ErrQueueFull = errors.New("sdk: queue full, event dropped")
	// ErrClosed is returned by Track after Close.
	ErrClosed = errors.New("sdk: client closed")
	// ErrEventTooLarge is returned by Track for an event over MaxEventBytes.
	ErrEventTooLarge = errors.New("sdk: event too large")
	// ErrUndelivered is wrapped by Flush and Close when events could not be
	// delivered in time.
	ErrUndelivered = errors.New("events not delivered")
)
