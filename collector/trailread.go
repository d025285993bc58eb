package collector

import (
	"context"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// trailChunk is how many touchpoints one store read of a pipelined trail
// answer takes. A page of more than twice this is read in chunks by a
// second goroutine while the handler encodes the chunks already read, so
// that a large trail's store read and its JSON encoding (each about a
// microsecond a touchpoint) overlap on two cores instead of adding up.
const trailChunk = 256

// trailChunkResult is one chunk of a pipelined read.
type trailChunkResult struct {
	tps  []event.Touchpoint
	next string
	err  error
}

// readTrail reads the page q of a visitor's trail and hands its
// touchpoints to emit in order, in one or more chunks, and returns the
// page's cursor for the next page. Small pages are read in one call; a
// large one is read chunk by chunk through cursors by a reader goroutine
// that runs one chunk ahead of emit. The chunks are consecutive pages of
// the store's own paging, so the answer holds exactly the touchpoints and
// the cursor that one read of q.Limit would give, unless a write lands in
// the visitor's trail between two chunks (then the answer is what a client
// paging by trailChunk would see).
func readTrail(ctx context.Context, st store.Store, site string, v event.VisitorID, q store.TrailQuery, emit func([]event.Touchpoint)) (next string, n int, err error) {
	limit := store.ClampLimit(q.Limit)
	if limit <= 2*trailChunk {
		page, err := st.Trail(ctx, site, v, q)
		if err != nil {
			return "", 0, err
		}
		emit(page.Touchpoints)
		return page.Next, len(page.Touchpoints), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan trailChunkResult, 1) // the reader runs one chunk ahead
	go func() {
		defer close(chunks)
		cq := q
		size := trailChunk / 4 // a small first chunk: the encoding starts sooner
		for left := limit; left > 0; size = trailChunk {
			cq.Limit = min(size, left)
			page, err := st.Trail(ctx, site, v, cq)
			select {
			case chunks <- trailChunkResult{tps: page.Touchpoints, next: page.Next, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || page.Next == "" {
				return
			}
			left -= len(page.Touchpoints)
			cq.Cursor = page.Next
		}
	}()
	for c := range chunks {
		if c.err != nil {
			return "", n, c.err
		}
		emit(c.tps)
		n += len(c.tps)
		next = c.next
	}
	if err := ctx.Err(); err != nil { // the reader stopped without a word
		return "", n, err
	}
	return next, n, nil
}
