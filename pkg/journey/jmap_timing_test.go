package journey_test

import (
	"testing"

	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

func BenchmarkMapAdd(b *testing.B) {
	m := journey.NewMap(journey.DefaultConfig())
	perVisitor(b, func(v *journeytest.Visitor) { m.Add(v.Trail) })
}
