package collector

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// A stream that fails halfway reaches the client as a broken body, never
// as a complete short one; a stream that ends well, whole.
func TestStreamBodyCutOnFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		fail := string(ctx.Path()) == "/fail"
		streamBody(ctx, func(w *bufio.Writer) error {
			for i := 0; i < 1000; i++ {
				w.WriteString(strings.Repeat("x", 999) + "\n")
				if fail && i == 500 {
					return errors.New("disk gone")
				}
			}
			return nil
		})
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	get := func(path string) (int, error) {
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return len(b), err
	}
	if n, err := get("/ok"); err != nil || n != 1000*1000 {
		t.Errorf("whole stream: %d bytes, %v", n, err)
	}
	if n, err := get("/fail"); err == nil {
		t.Errorf("a failed stream read as complete (%d bytes)", n)
	}
}
