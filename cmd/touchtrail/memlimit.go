package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// byteSize is a size in bytes that the config file, the environment and the
// flags all write the same way: "512MiB", "1GiB", "800MB", "268435456", or
// "off" (0: no limit). It prints in the largest binary unit that divides it.
type byteSize int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
}

// String writes s as "512MiB" when a binary unit divides it, else in bytes;
// 0 is "off".
func (s byteSize) String() string {
	if s == 0 {
		return "off"
	}
	for _, u := range sizeUnits[:4] {
		if s%byteSize(u.mult) == 0 {
			return strconv.FormatInt(int64(s)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// Set parses "512MiB", "1.5GiB", "800MB", "268435456" or "off"; it makes
// *byteSize a flag.Value.
func (s *byteSize) Set(v string) error {
	v = strings.TrimSpace(v)
	if v == "off" || v == "0" {
		*s = 0
		return nil
	}
	num, mult := v, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(v, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || f*float64(mult) >= math.MaxInt64 {
		return fmt.Errorf("want a size like \"512MiB\", \"1GiB\", a number of bytes, or off: %q", v)
	}
	*s = byteSize(f * float64(mult))
	return nil
}

// MarshalJSON writes s as a string ("512MiB", "off").
func (s byteSize) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a string like "512MiB" or a bare number of bytes.
func (s *byteSize) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil || n < 0 {
			return fmt.Errorf("want a size like \"512MiB\", not %s", b)
		}
		*s = byteSize(n)
		return nil
	}
	return s.Set(str)
}

// defaultMemoryLimit is memory_limit's default: GOMEMLIMIT when the
// environment sets one (the Go runtime's own convention), else 512 MiB, or
// half of the machine's (or the container's) memory when that is smaller.
// 512 MiB leaves Badger's memtables and caches (about 100 MB) and the
// collector's caches room, while the GC works harder rather than letting
// the heap double past it; see bench/README.md for the RSS it gives.
func defaultMemoryLimit() byteSize {
	if v := os.Getenv("GOMEMLIMIT"); v != "" && v != "off" {
		var s byteSize
		if s.Set(v) == nil {
			return s
		}
	}
	limit := byteSize(512 << 20)
	if total := machineMemory(); total > 0 && byteSize(total/2) < limit {
		limit = byteSize(total / 2)
	}
	return limit
}

// machineMemory is the memory this process may use: the cgroup's limit
// when there is one, else MemTotal; 0 when neither can be read.
func machineMemory() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64); err == nil {
					total = kb << 10
				}
			}
		}
		f.Close()
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
		break
	}
	return total
}

// applyMemoryLimit sets the Go runtime's soft memory limit (the GC runs
// more often as the heap nears it) and returns what it was. 0: no limit.
func applyMemoryLimit(s byteSize) (previous int64) {
	if s == 0 {
		return debug.SetMemoryLimit(math.MaxInt64)
	}
	return debug.SetMemoryLimit(int64(s))
}
