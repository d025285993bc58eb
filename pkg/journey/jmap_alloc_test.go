//go:build !race

package journey_test

import (
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// The journey map does not allocate per visitor once warm, scoped or not.
func TestMapAllocations(t *testing.T) {
	opts := journeytest.Options{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 7}
	visitors, _ := journeytest.Generate(5, 200, opts)
	for _, scope := range []journey.Scope{{}, {From: opts.Start, To: opts.End(), Segment: journey.SegmentReturning}} {
		m := journey.NewMap(journey.DefaultConfig())
		m.Scope = scope
		all := func() {
			for i := range visitors {
				m.Add(visitors[i].Trail)
			}
		}
		all()
		if n := testing.AllocsPerRun(20, all); n > 0 {
			t.Errorf("scope %+v: %.0f allocations per 200 visitors", scope, n)
		}
	}
}
