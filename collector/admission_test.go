package collector_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// rawConn is a client connection that writes exactly what it is given.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) write(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// answer reads one response within d.
func (r *rawConn) answer(d time.Duration) (*http.Response, string, error) {
	r.c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), err
}

func (r *rawConn) mustAnswer(d time.Duration, want int) (*http.Response, string) {
	r.t.Helper()
	resp, body, err := r.answer(d)
	if err != nil {
		r.t.Fatalf("no answer within %s: %v", d, err)
	}
	if resp.StatusCode != want {
		r.t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, body)
	}
	return resp, body
}

func eventsHead(n int, extra string) string {
	return fmt.Sprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n", n, extra)
}

func oneEvent(id string) string {
	return fmt.Sprintf(`{"site":"test","events":[{"id":%q,"type":"pageview","visitor":%q}]}`, id, visitorA)
}

// A body announced over the limit is refused on its headers: the answer
// comes without the body ever being sent.
func TestAdmissionTooLargeBeforeBody(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	r := dial(t, col.Addr)
	r.write(eventsHead(100<<20, "") + "{")
	_, body := r.mustAnswer(2*time.Second, http.StatusRequestEntityTooLarge)
	if !strings.Contains(body, "larger than") {
		t.Errorf("answer %s, want a clear error", body)
	}
}

// The rate limit is decided on the headers: a client over it is refused
// without sending its body.
func TestAdmissionRateLimitBeforeBody(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) { c.RatePerIP, c.RateBurst = 0.1, 1 }})
	r := dial(t, col.Addr)
	b := oneEvent("r1")
	r.write(eventsHead(len(b), "") + b)
	r.mustAnswer(2*time.Second, http.StatusAccepted)
	r.write(eventsHead(50_000, "") + "{")
	resp, _ := r.mustAnswer(2*time.Second, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// Ingest bytes in flight are bounded: while one admitted body is being
// sent, another that would pass MaxIngestBytes is refused at once with
// 503 and Retry-After; once the first is answered, the next goes through.
func TestAdmissionBytesInFlight(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.MaxBodyBytes, c.MaxIngestBytes, c.RatePerIP = 4096, 4096, -1
	}})
	slow := dial(t, col.Addr)
	body := oneEvent("slow")
	body += strings.Repeat(" ", 3000-len(body)) // JSON allows trailing white space
	slow.write(eventsHead(len(body), "") + body[:100])
	time.Sleep(100 * time.Millisecond) // the slow request is admitted and reading

	other := dial(t, col.Addr)
	b := oneEvent("other")
	b += strings.Repeat(" ", 1500-len(b))
	other.write(eventsHead(len(b), "") + "{") // the answer must not need the rest of the body
	resp, msg := other.mustAnswer(2*time.Second, http.StatusServiceUnavailable)
	if resp.Header.Get("Retry-After") == "" || !strings.Contains(msg, "overloaded") {
		t.Errorf("503 %q, Retry-After %q: want a clear error and Retry-After", msg, resp.Header.Get("Retry-After"))
	}

	slow.write(body[100:])
	slow.mustAnswer(5*time.Second, http.StatusAccepted)
	again := dial(t, col.Addr)
	again.write(eventsHead(len(b), "") + b)
	again.mustAnswer(5*time.Second, http.StatusAccepted)
}

// Only JSON or text bodies are ingested.
func TestAdmissionContentType(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	for ct, want := range map[string]int{
		"text/plain;charset=UTF-8":          http.StatusAccepted,
		"application/json":                  http.StatusAccepted,
		"Application/JSON; charset=utf-8":   http.StatusAccepted,
		"application/x-www-form-urlencoded": http.StatusUnsupportedMediaType,
		"multipart/form-data; boundary=x":   http.StatusUnsupportedMediaType,
		"image/gif":                         http.StatusUnsupportedMediaType,
	} {
		if a := c.post(oneEvent("ct"), map[string]string{"Content-Type": ct}); a.status != want {
			t.Errorf("Content-Type %q: %d %s, want %d", ct, a.status, a.body, want)
		}
	}
}

// The header timeout runs from a request's first byte: a client that
// connects and sends only later is served, one whose headers never end is
// closed within a second.
func TestHeaderTimeoutFromFirstByte(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	late := dial(t, col.Addr)
	time.Sleep(1500 * time.Millisecond) // past the 800ms header timeout, before the first byte
	late.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	late.mustAnswer(2*time.Second, http.StatusOK)

	slow := dial(t, col.Addr)
	start := time.Now()
	slow.write("GET /healthz HTTP/1.1\r\nHost: x\r\n") // the blank line never comes
	if resp, body, err := slow.answer(3 * time.Second); err == nil && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unfinished headers answered %d %s, want 400 or a closed connection", resp.StatusCode, body)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("unfinished headers held %s, want under 1s", took)
	}
}
