package collector

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"path"
	"strconv"
	"strings"

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

// scripts are the files served, by their default name.
var scripts = map[string][]byte{"t.js": js.Tracker, "t-chat.js": js.Chat, "t-checkout.js": js.Checkout, "t-engage.js": js.Engage,
	"t-feedback.js": js.Feedback}

// newAssets makes the served scripts: each at its default path, and, with a
// snippet path, t.js at that path and the others beside it
// ("/assets/app.js", "/assets/t-engage.js"). With an ingest path, the
// scripts send to it instead of /v1/events.
func newAssets(snippetPath, ingestPath string) map[string]*asset {
	m := make(map[string]*asset, 2*len(scripts))
	for name, b := range scripts {
		if ingestPath != "" {
			b = bytes.ReplaceAll(b, []byte(`"/v1/events"`), []byte(strconv.Quote(ingestPath)))
		}
		a := newAsset(b)
		m["/"+name] = a
		switch {
		case snippetPath == "":
		case name == "t.js":
			m[snippetPath] = a
		default:
			m[path.Join(path.Dir(snippetPath), name)] = a
		}
	}
	return m
}

// checkPath checks a configured first-party path: absolute, plain
// characters (it is written into the scripts), and clear of the
// collector's own routes.
func checkPath(name, p string) error {
	if p == "" {
		return nil
	}
	if len(p) < 2 || len(p) > 128 || p[0] != '/' || strings.HasSuffix(p, "/") || strings.Contains(p, "//") || strings.Contains(p, "/.") {
		return fmt.Errorf("%s %q: want an absolute path like /assets/app.js (up to 128 bytes, no trailing /)", name, p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
			return fmt.Errorf("%s %q: only letters, digits and / - _ . ~", name, p)
		}
	}
	for _, own := range []string{"/v1", "/ui", "/healthz", "/readyz", "/metrics"} {
		if p == own || strings.HasPrefix(p, own+"/") {
			return fmt.Errorf("%s %q: taken by the collector's own %s", name, p, own)
		}
	}
	if _, ok := scripts[p[1:]]; ok {
		return fmt.Errorf("%s %q: taken by the collector's own scripts", name, p)
	}
	return nil
}

// snippet serves GET /t.js, /t-chat.js and the add-ons /t-checkout.js,
// /t-engage.js and /t-feedback.js (and their first-party paths): cacheable for an hour (then
// revalidated by ETag), gzipped for clients that take it.
func (s *Server) snippet(ctx *fasthttp.RequestCtx) error {
	if !ctx.IsGet() && !ctx.IsHead() {
		return errMethod
	}
	a, ok := s.assets[string(ctx.Path())]
	if !ok {
		return errNotFound
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
