package collector

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration that the config file, the environment and
// the flags all write the same way: "30s", "10m", "9600h". It prints in
// the same short form ("30m", not "30m0s").
type Duration time.Duration

// String returns d as time.Duration does, without the zero minutes and
// seconds of round values: "9600h", "30m", "1h30m", "250ms".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Set parses s as time.ParseDuration does; it makes *Duration a flag.Value.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("want a duration like \"30s\", \"10m\" or \"720h\": %w", err)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a duration written like "30s".
func (d *Duration) UnmarshalText(b []byte) error { return d.Set(string(b)) }

// UnmarshalJSON reads a JSON string like "30s"; a bare number is refused
// with a message that says how to write it.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a string like \"30s\", not %s", b)
	}
	return d.Set(s)
}
