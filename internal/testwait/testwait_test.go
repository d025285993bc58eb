package testwait_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/internal/testwait"
)

func TestUntil(t *testing.T) {
	var n atomic.Int32
	if !testwait.Until(5*time.Second, func() bool { return n.Add(1) >= 3 }) {
		t.Fatal("a condition that comes true was not seen")
	}
	if n.Load() != 3 {
		t.Errorf("polled %d times after it held, want to stop at the 3rd", n.Load())
	}
	start := time.Now()
	if testwait.Until(50*time.Millisecond, func() bool { return false }) {
		t.Fatal("a condition that never holds was reported true")
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("gave up after %s, before its 50ms", took)
	}
}
