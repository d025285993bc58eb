package badger

import (
	"testing"

	"github.com/touchtrail/touchtrail/pkg/event"
)

func BenchmarkKeys(b *testing.B) {
	v := event.VisitorID{1, 2, 3}
	buf := make([]byte, 0, 128)
	b.Run("trail", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = trailKey(buf[:0], "shop", v, 1764000000000000, 7, "0123456789abcdef0123456789abcdef")
		}
	})
	b.Run("id", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = idKey(buf[:0], "shop", v, "0123456789abcdef0123456789abcdef")
		}
	})
	b.Run("day", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = dayKey(buf[:0], "shop", 20416, v)
		}
	})
}
