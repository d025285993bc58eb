package main

import (
	"io"
	"math"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/internal/testwait"
)

func TestByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want byteSize
		out  string
	}{
		{"512MiB", 512 << 20, "512MiB"},
		{"1GiB", 1 << 30, "1GiB"},
		{"1.5GiB", 3 << 29, "1536MiB"},
		{"800MB", 800e6, "781250KiB"},
		{"268435456", 256 << 20, "256MiB"},
		{"1000", 1000, "1000"},
		{" 64 MiB ", 64 << 20, "64MiB"},
		{"off", 0, "off"},
	} {
		var s byteSize
		if err := s.Set(c.in); err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if s != c.want || s.String() != c.out {
			t.Errorf("%q: got %d (%s), want %d (%s)", c.in, s, s, c.want, c.out)
		}
	}
	for _, bad := range []string{"", "lots", "-5MiB", "12XB", "1e30GiB"} {
		var s byteSize
		if err := s.Set(bad); err == nil {
			t.Errorf("%q: accepted as %d", bad, s)
		}
	}
}

func TestMemoryLimitDefaultAndValidation(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOMEMLIMIT")
	d := defaultMemoryLimit()
	if d <= 0 || d > 512<<20 {
		t.Errorf("default %s: want (0, 512MiB]", d)
	}
	if m := machineMemory(); m > 1<<30 && d != 512<<20 {
		t.Errorf("default %s on a machine with %d bytes: want 512MiB", d, m)
	}
	t.Setenv("GOMEMLIMIT", "700MiB")
	if d := defaultMemoryLimit(); d != 700<<20 {
		t.Errorf("default with GOMEMLIMIT=700MiB: %s", d)
	}
	if _, _, err := loadServeConfig([]string{"-demo", "-data", t.TempDir(), "-memory-limit", "10MiB"}); err == nil || !strings.Contains(err.Error(), "memory_limit") {
		t.Errorf("10MiB: %v, want a memory_limit error", err)
	}
	cfg, _, err := loadServeConfig([]string{"-demo", "-data", t.TempDir(), "-memory-limit", "off"})
	if err != nil || cfg.MemoryLimit != 0 {
		t.Errorf("off: %v, %s", err, cfg.MemoryLimit)
	}
}

// serve sets the runtime's memory limit from the config, and the printed
// effective configuration says which.
func TestServeSetsMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	cfg, _, err := loadServeConfig([]string{"-demo", "-data", t.TempDir(), "-durability", "async", "-memory-limit", "384MiB"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = ln.Addr().String()
	sig := make(chan os.Signal, 1)
	done := make(chan error, 1)
	pr, pw := io.Pipe()
	go func() { done <- serve(cfg, ln, sig, io.Discard, pw); pw.Close() }()
	printed := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		printed <- string(b)
	}()
	if !testwait.Until(10*time.Second, func() bool { return debug.SetMemoryLimit(-1) == 384<<20 }) {
		t.Fatalf("memory limit %d, want %d", debug.SetMemoryLimit(-1), 384<<20)
	}
	sig <- syscall.SIGTERM
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if out := <-printed; !strings.Contains(out, `"memory_limit": "384MiB"`) {
		t.Errorf("effective configuration does not show the limit:\n%s", out)
	}
	debug.SetMemoryLimit(math.MaxInt64)
}
