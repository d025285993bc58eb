package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// The raw site-wide read (store.Store.ScanTrails: the export, the UI's
// pages) across stores. A query node opens one scan session on one live
// owner of every partition (scatter.go's assignment); each store streams
// the whole trails of the visitors of the partitions asked, in visitor-id
// order, and the query node merges the streams by visitor id (scanroute.go).
//
// The protocol is a pull: the query node sends the open request, then one
// request per chunk to the session's subject; the store's scan blocks
// while a chunk waits to be pulled, so a slow reader makes the store wait,
// never buffer (at most one chunk ready and one being filled). A chunk is
// a slice of one byte stream of visitor records, each
//
//	uvarint(len of the rest) · visitor 16B · uvarint(touchpoints) · (uvarint(len) · event.AppendBinary)…
//
// A record may span chunks. A reply without a chunk (a heartbeat, while
// the store scans visitors of other partitions) keeps the pull alive; the
// last reply carries hdrLast. The store ends a session on a stop message
// (`<session>.ctl` "stop"), on its deadline, or when neither a pull nor a
// keep-alive (`<session>.ctl` "alive": the query node's merge may hold a
// stream back while the others catch up) came for idleAfter.

// scanSubject is where store node `node` opens scan sessions.
func scanSubject(prefix, node string) string { return prefix + ".scan." + node }

const (
	hdrSession = "Touchtrail-Session" // the open's answer: the session's pull subject
	hdrLast    = "Touchtrail-Last"    // the stream ends after this chunk
)

// scanRequest opens a scan session.
type scanRequest struct {
	Site       string        `json:"site"`
	From       time.Time     `json:"from"`
	To         time.Time     `json:"to"`
	Partitions []int         `json:"parts"`
	Of         int           `json:"of"`
	After      []byte        `json:"after,omitempty"` // visitors up to this id are left out (a replica resuming a stream)
	Timeout    time.Duration `json:"timeout"`         // left to the whole scan
	Chunk      int           `json:"chunk"`           // bytes a chunk holds at most
	Heartbeat  time.Duration `json:"heartbeat"`       // an empty reply after this long without a chunk
}

// ScanFunc scans a store's trails as store.Store.ScanTrails does (the
// collector's: under one of its scan slots).
type ScanFunc func(ctx context.Context, site string, from, to time.Time, fn func(v event.VisitorID, trail []event.Touchpoint) error) error

// maxScan bounds one scan session on a store whatever deadline the query
// node sent; idleAfter ends a session nobody pulls from.
const (
	maxScan   = time.Hour
	idleAfter = 30 * time.Second
)

// ScanServer streams a store node's trails to query nodes. Stop it with
// Close.
type ScanServer struct {
	subServer
	fn    ScanFunc
	owned []int
}

// ServeScans subscribes fn to the scan sessions addressed to node, a store
// owning parts of the stream sc describes. Each session runs in its own
// goroutines (fn bounds how many scan at once).
func ServeScans(nc *nats.Conn, sc StreamConfig, node string, parts []int, fn ScanFunc, log *slog.Logger) (*ScanServer, error) {
	sc = sc.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	s := &ScanServer{fn: fn, owned: slices.Clone(parts)}
	if err := s.serve(nc, scanSubject(sc.Subject, node), log.With("module", "cluster.scan"), "scan session", s.session); err != nil {
		return nil, fmt.Errorf("cannot serve scans of %s: %w", node, err)
	}
	return s, nil
}

// ServeScans makes a store node stream its trails to query nodes with fn
// (the collector's scan, built after the node started). It is an error on
// a node that keeps no store, or to call it twice.
func (n *Node) ServeScans(fn ScanFunc) error {
	if n.Consumer == nil || n.members == nil {
		return errors.New("BUG: scans are served by store nodes")
	}
	if n.scans != nil {
		return errors.New("BUG: ServeScans called twice")
	}
	var err error
	n.scans, err = ServeScans(n.NC, n.stream, n.members.me.Node, n.members.me.Partitions, fn, n.log)
	return err
}

func (s *ScanServer) fail(reply, why string, timeout bool) error {
	msg := nats.NewMsg(reply)
	msg.Header.Set(hdrError, why)
	if timeout {
		msg.Header.Set(hdrTimeout, "1")
	}
	return s.nc.PublishMsg(msg)
}

// session runs one scan: the producer scans into chunks, the loop here
// hands one to each pull.
func (s *ScanServer) session(open *nats.Msg) error {
	var req scanRequest
	if err := json.Unmarshal(open.Data, &req); err != nil {
		return s.fail(open.Reply, "bad scan request: "+err.Error(), false)
	}
	if req.Of <= 0 || req.Chunk <= 0 || (len(req.After) != 0 && len(req.After) != len(event.VisitorID{})) {
		return s.fail(open.Reply, "bad scan request: no partition count, chunk size or a bad resume point", false)
	}
	want := make([]bool, req.Of)
	for _, p := range req.Partitions {
		if p < 0 || p >= req.Of || !slices.Contains(s.owned, p) {
			return s.fail(open.Reply, fmt.Sprintf("partition %d is not this store's", p), false)
		}
		want[p] = true
	}
	timeout := req.Timeout
	if timeout <= 0 || timeout > maxScan {
		timeout = maxScan
	}
	heartbeat := req.Heartbeat
	if heartbeat <= 0 || heartbeat > idleAfter/2 {
		heartbeat = idleAfter / 2
	}
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()

	inbox := s.nc.NewInbox()
	pulls := make(chan *nats.Msg, 4)
	psub, err := s.nc.ChanSubscribe(inbox, pulls)
	if err != nil {
		return s.fail(open.Reply, "cannot open a scan session: "+err.Error(), false)
	}
	defer func() { _ = psub.Unsubscribe() }()
	var seen atomic.Int64 // Unix ns of the last pull or keep-alive
	seen.Store(time.Now().UnixNano())
	ssub, err := s.nc.Subscribe(inbox+".ctl", func(m *nats.Msg) {
		if string(m.Data) == "stop" {
			cancel()
			return
		}
		seen.Store(time.Now().UnixNano())
	})
	if err != nil {
		return s.fail(open.Reply, "cannot open a scan session: "+err.Error(), false)
	}
	defer func() { _ = ssub.Unsubscribe() }()

	chunks := make(chan []byte, 1)
	var scanErr error
	var produced sync.WaitGroup
	produced.Add(1)
	go func() {
		defer produced.Done()
		scanErr = s.produce(ctx, &req, want, chunks)
		close(chunks)
	}()
	defer produced.Wait()
	defer cancel() // before the wait: a producer blocked on a chunk nobody pulls stops

	// answer hands the next chunk (or a heartbeat, the end, an error) to
	// one pull; it reports whether the session is over.
	answer := func(reply string) (bool, error) {
		msg := nats.NewMsg(reply)
		msg.Header.Set(hdrSession, inbox)
		t := time.NewTimer(heartbeat)
		defer t.Stop()
		select {
		case c, ok := <-chunks:
			if !ok {
				if scanErr != nil {
					return true, s.fail(reply, scanErr.Error(), ctx.Err() != nil)
				}
				msg.Header.Set(hdrLast, "1")
				return true, s.nc.PublishMsg(msg)
			}
			msg.Data = c
		case <-t.C: // a heartbeat: no chunk yet
		case <-ctx.Done():
			return true, s.fail(reply, "scan stopped: "+context.Cause(ctx).Error(), true)
		}
		return false, s.nc.PublishMsg(msg)
	}
	done, err := answer(open.Reply)
	tick := time.NewTicker(idleAfter / 4)
	defer tick.Stop()
	for !done && err == nil {
		select {
		case m := <-pulls:
			seen.Store(time.Now().UnixNano())
			done, err = answer(m.Reply)
		case <-tick.C:
			if time.Since(time.Unix(0, seen.Load())) > idleAfter {
				return fmt.Errorf("scan of %s: no pull nor keep-alive for %s: abandoned", req.Site, idleAfter)
			}
		case <-ctx.Done():
			return nil // stopped by the query node, or out of time
		}
	}
	return err
}

// produce scans the store into chunks of the visitor records of the
// partitions wanted, after req.After.
func (s *ScanServer) produce(ctx context.Context, req *scanRequest, want []bool, chunks chan<- []byte) error {
	var buf, rec []byte
	send := func(c []byte) error {
		select {
		case chunks <- c:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := s.fn(ctx, req.Site, req.From, req.To, func(v event.VisitorID, trail []event.Touchpoint) error {
		if !want[Partition(req.Site, v, req.Of)] || len(req.After) > 0 && bytes.Compare(v[:], req.After) <= 0 {
			return nil
		}
		rec = appendVisitorRecord(rec[:0], v, trail)
		buf = binary.AppendUvarint(buf, uint64(len(rec)))
		buf = append(buf, rec...)
		for len(buf) >= req.Chunk {
			c := bytes.Clone(buf[:req.Chunk])
			buf = append(buf[:0], buf[req.Chunk:]...)
			if err := send(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && len(buf) > 0 {
		err = send(buf)
	}
	return err
}

func appendVisitorRecord(b []byte, v event.VisitorID, trail []event.Touchpoint) []byte {
	b = append(b, v[:]...)
	b = binary.AppendUvarint(b, uint64(len(trail)))
	var tp []byte
	for i := range trail {
		tp = event.AppendBinary(tp[:0], &trail[i])
		b = binary.AppendUvarint(b, uint64(len(tp)))
		b = append(b, tp...)
	}
	return b
}

// recordReader cuts the byte stream of a scan back into visitor records.
type recordReader struct {
	buf  []byte
	site string
}

// next returns the next whole record in the bytes fed so far; ok is false
// when more bytes are needed.
func (rr *recordReader) next() (v event.VisitorID, trail []event.Touchpoint, ok bool, err error) {
	n, k := binary.Uvarint(rr.buf)
	if k < 0 {
		return v, nil, false, errors.New("corrupt scan stream: bad record length")
	}
	if k == 0 || n > uint64(len(rr.buf)-k) {
		return v, nil, false, nil // an incomplete length or record
	}
	rec := rr.buf[k : k+int(n)]
	rr.buf = rr.buf[k+int(n):]
	if len(rec) < len(v) {
		return v, nil, false, errors.New("corrupt scan stream: short record")
	}
	copy(v[:], rec)
	rec = rec[len(v):]
	count, k := binary.Uvarint(rec)
	if k <= 0 || count > uint64(len(rec)) {
		return v, nil, false, errors.New("corrupt scan stream: bad touchpoint count")
	}
	rec = rec[k:]
	trail = make([]event.Touchpoint, count)
	for i := range trail {
		l, k := binary.Uvarint(rec)
		if k <= 0 || l > uint64(len(rec)-k) {
			return v, nil, false, fmt.Errorf("corrupt scan stream: touchpoint %d of visitor %s", i, v)
		}
		if err := event.DecodeBinary(rec[k:k+int(l)], &trail[i]); err != nil {
			return v, nil, false, fmt.Errorf("corrupt scan stream: touchpoint %d of visitor %s: %w", i, v, err)
		}
		trail[i].Site, trail[i].Visitor = rr.site, v
		rec = rec[k+int(l):]
	}
	if len(rec) != 0 {
		return v, nil, false, fmt.Errorf("corrupt scan stream: %d bytes left in the record of visitor %s", len(rec), v)
	}
	if len(rr.buf) == 0 {
		rr.buf = nil // let the chunk go
	}
	return v, trail, true, nil
}
