package collector

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/js"
)

// asset is a static file served from memory, with its gzip form and ETag
// made once.
type asset struct {
	body, gz []byte
	etag     string
}

func newAsset(b []byte) *asset {
	sum := sha256.Sum256(b)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return &asset{body: b, gz: gz.Bytes(), etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

var (
	trackerJS  = newAsset(js.Tracker)
	chatJS     = newAsset(js.Chat)
	checkoutJS = newAsset(js.Checkout)
	feedbackJS = newAsset(js.Feedback)
)

// snippet serves GET /t.js, /t-chat.js and the add-ons /t-checkout.js and /t-feedback.js: cacheable for an hour (then
// revalidated by ETag), gzipped for clients that take it.
func (s *Server) snippet(ctx *fasthttp.RequestCtx) error {
	if !ctx.IsGet() && !ctx.IsHead() {
		return errMethod
	}
	a := trackerJS
	switch string(ctx.Path()) {
	case "/t-chat.js":
		a = chatJS
	case "/t-checkout.js":
		a = checkoutJS
	case "/t-feedback.js":
		a = feedbackJS
	}
	h := &ctx.Response.Header
	h.Set(fasthttp.HeaderCacheControl, "public, max-age=3600, stale-while-revalidate=86400")
	h.Set(fasthttp.HeaderETag, a.etag)
	h.Set(fasthttp.HeaderVary, "Accept-Encoding")
	h.Set("Access-Control-Allow-Origin", "*")
	ctx.SetContentType("text/javascript; charset=utf-8")
	if bytes.Equal(ctx.Request.Header.Peek(fasthttp.HeaderIfNoneMatch), []byte(a.etag)) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return nil
	}
	if ctx.Request.Header.HasAcceptEncoding("gzip") {
		h.Set(fasthttp.HeaderContentEncoding, "gzip")
		ctx.SetBody(a.gz)
		return nil
	}
	ctx.SetBody(a.body)
	return nil
}
