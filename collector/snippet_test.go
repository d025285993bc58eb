package collector_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/js"
)

// /t.js is the embedded snippet, cacheable, revalidated by ETag, gzipped
// for clients that take it.
func TestSnippetServing(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	tr := &http.Transport{DisableCompression: true}
	get := func(path string, h map[string]string) *http.Response {
		req, _ := http.NewRequest("GET", col.URL+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get("/t.js", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(body, js.Tracker) || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("/t.js: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	etag, cc := resp.Header.Get("ETag"), resp.Header.Get("Cache-Control")
	if etag == "" || cc == "" {
		t.Fatalf("ETag %q Cache-Control %q", etag, cc)
	}
	if r := get("/t.js", map[string]string{"If-None-Match": etag}); r.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", r.StatusCode)
	}
	r := get("/t.js", map[string]string{"Accept-Encoding": "gzip"})
	zr, err := gzip.NewReader(r.Body)
	if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %v %q", err, r.Header.Get("Content-Encoding"))
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, js.Tracker) {
		t.Error("gzipped snippet differs")
	}
	chat := get("/t-chat.js", nil)
	cb, _ := io.ReadAll(chat.Body)
	if chat.StatusCode != 200 || !bytes.Equal(cb, js.Chat) || chat.Header.Get("ETag") == etag {
		t.Errorf("/t-chat.js: %d, %d bytes", chat.StatusCode, len(cb))
	}
	checkout := get("/t-checkout.js", nil)
	kb, _ := io.ReadAll(checkout.Body)
	if checkout.StatusCode != 200 || !bytes.Equal(kb, js.Checkout) || checkout.Header.Get("ETag") == etag {
		t.Errorf("/t-checkout.js: %d, %d bytes", checkout.StatusCode, len(kb))
	}
	feedback := get("/t-feedback.js", nil)
	fb, _ := io.ReadAll(feedback.Body)
	if feedback.StatusCode != 200 || !bytes.Equal(fb, js.Feedback) || feedback.Header.Get("ETag") == etag {
		t.Errorf("/t-feedback.js: %d, %d bytes", feedback.StatusCode, len(fb))
	}
	if p := get("/v1/p.gif?site=test&type=pageview&visitor=0123456789abcdef0123456789abcdef&id=px1&url=https%3A%2F%2Fshop.example%2F", nil); p.StatusCode != 200 || p.Header.Get("Content-Type") != "image/gif" {
		t.Errorf("pixel: %d %q", p.StatusCode, p.Header.Get("Content-Type"))
	}
}
