package collector_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// fuzzServer serves the real collector (real Badger, enrichment, writer) on
// an in-memory listener: no sockets, so the fuzzer runs fast.
func fuzzServer(f *testing.F) *fasthttputil.InmemoryListener {
	col := collectortest.Start(f, collectortest.Options{Config: func(c *collector.Config) {
		c.RatePerIP = -1
		c.HeaderTimeout = 50 * time.Millisecond
		c.BodyTimeout = 50 * time.Millisecond
		c.Sites[0].Origins = []string{"https://shop.example"}
	}})
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = col.Server.Serve(ln) }()
	f.Cleanup(func() { ln.Close() })
	return ln
}

// exchange writes raw on a fresh in-memory connection and reads the
// answers that come; a request the server cannot finish may get none.
func exchange(t *testing.T, ln *fasthttputil.InmemoryListener, raw []byte) []*http.Response {
	t.Helper()
	c, err := ln.Dial()
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	go func() { _, _ = c.Write(raw) }()
	br := bufio.NewReader(c)
	var out []*http.Response
	for len(out) < 8 {
		wait := 2 * time.Second // the first answer (an unfinished request is closed after HeaderTimeout, 50 ms)
		if len(out) > 0 {
			wait = 10 * time.Millisecond // pipelined ones come together
		}
		c.SetReadDeadline(time.Now().Add(wait))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			break
		}
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
	return out
}

// checkAnswer holds for every answer: no 500, and an error is JSON
// {"error":"…"} with a message.
func checkAnswer(t *testing.T, resp *http.Response) {
	t.Helper()
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if resp.StatusCode >= 400 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var e struct{ Error string }
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
			t.Fatalf("status %d with body %q: not {\"error\":…}", resp.StatusCode, b)
		}
	}
}

func alive(t *testing.T, ln *fasthttputil.InmemoryListener) {
	t.Helper()
	got := exchange(t, ln, []byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
	if len(got) != 1 || got[0].StatusCode != http.StatusOK {
		t.Fatalf("the server no longer answers /healthz: %v", got)
	}
}

// FuzzRawRequest feeds whole raw requests (pipelined ones too) to the
// server: it must never crash nor answer 500, its errors are JSON, and it
// keeps answering.
func FuzzRawRequest(f *testing.F) {
	for _, c := range hostileCatalogue() {
		if len(c.req) <= 16<<10 {
			f.Add([]byte(c.req))
		}
	}
	f.Add([]byte(post(batch(ev("f1", vis(1), `,"title":"x"`)))))
	f.Add([]byte(get("/v1/sites/test/funnel?steps=pageview,search&from=2026-01-01", readAs(collectortest.ReadToken))))
	ln := fuzzServer(f)
	n := 0
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, resp := range exchange(t, ln, raw) {
			checkAnswer(t, resp)
		}
		if n++; n%64 == 0 {
			alive(t, ln)
		}
	})
}

// FuzzGzipBody sends arbitrary bytes as a gzip-encoded ingest body: bad
// streams, bombs and truncations are refused, never a crash or a 500.
func FuzzGzipBody(f *testing.F) {
	f.Add([]byte(gz(batch(ev("g1", vis(1), "")))))
	f.Add([]byte(gz(batch())))
	f.Add([]byte(gz(strings.Repeat("\x00", 1<<20))))
	f.Add([]byte(gz(`{"site":"test",`) + gz(`"events":[]}`)))
	f.Add([]byte(gz(gz(batch()))))
	f.Add([]byte(gz(batch())[:12]))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	ln := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		raw := fmt.Sprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		got := exchange(t, ln, []byte(raw))
		if len(got) != 1 {
			t.Fatalf("%d answers to one complete request", len(got))
		}
		checkAnswer(t, got[0])
		switch got[0].StatusCode {
		case http.StatusAccepted, http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d", got[0].StatusCode)
		}
	})
}
