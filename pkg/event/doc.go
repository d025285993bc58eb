// Package event is the touchpoint model shared by the collector, the SDK and
// the journey analytics: the event types, their validation, the JSON wire
// format sent by browsers and backends, and the compact binary encoding kept
// in storage.
//
// It depends on nothing heavy (only github.com/valyala/fastjson for decoding)
// so that importing the SDK pulls in nothing big.
//
// # Usage
//
// Decoding a batch as the collector does:
//
//	var d event.Decoder // reuse it: it keeps its buffers
//	var b event.Batch
//	if err := d.Decode(body, &b); err != nil {
//		// the body is not a batch at all: 400
//	}
//	for i := range b.Events {
//		if b.Errs[i] != nil { continue } // rejected by index
//		tp := &b.Events[i]
//		// enrich, Validate, store
//	}
//
// Storing and loading:
//
//	buf = event.AppendBinary(buf[:0], tp)
//	var back event.Touchpoint
//	err := event.DecodeBinary(buf, &back) // Site and Visitor come from the store key
package event
