//go:build !race

package event

import "testing"

// The wire decoder allocates per batch (the one string of all its fields),
// not per event or per field.
func TestDecodeAllocations(t *testing.T) {
	body := batchBody(100)
	var d Decoder
	var b Batch
	decode := func() {
		if err := d.Decode(body, &b); err != nil || len(b.Events) != 100 {
			t.Fatal(err)
		}
	}
	decode() // warm: the decoder and the batch grow their buffers once
	if n := testing.AllocsPerRun(100, decode); n > 2 {
		t.Errorf("decoding a 100-event batch: %.1f allocs, want at most 2 per batch", n)
	}
}

// The storage encoder does not allocate into a reused buffer.
func TestAppendBinaryAllocations(t *testing.T) {
	for _, tp := range []Touchpoint{typical(), full(TypeFeedback)} {
		buf := AppendBinary(nil, &tp)
		if n := testing.AllocsPerRun(100, func() { buf = AppendBinary(buf[:0], &tp) }); n != 0 {
			t.Errorf("AppendBinary: %.1f allocs, want 0", n)
		}
	}
}
