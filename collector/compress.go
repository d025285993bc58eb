package collector

import (
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fasthttp"
)

// minGzip is the smallest JSON answer worth compressing: below it the
// gzip header and trailer (18 bytes) and the work outweigh what is saved.
const minGzip = 512

var gzipPool = sync.Pool{New: func() any {
	w, err := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return w
}}

// writeJSONBytes answers b (JSON) with the status already set, gzipped
// when the client accepts gzip and b is at least minGzip bytes. It does
// not keep b.
func writeJSONBytes(ctx *fasthttp.RequestCtx, b []byte) {
	ctx.SetContentType("application/json")
	ctx.Response.Header.Add(fasthttp.HeaderVary, "Accept-Encoding")
	if len(b) < minGzip || !ctx.Request.Header.HasAcceptEncoding("gzip") {
		ctx.SetBody(b)
		return
	}
	ctx.Response.ResetBody()
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(ctx.Response.BodyWriter())
	_, err := zw.Write(b)
	if err == nil {
		err = zw.Close()
	}
	gzipPool.Put(zw)
	if err != nil { // writing to memory does not fail; answer plain if it did
		ctx.SetBody(b)
		return
	}
	ctx.Response.Header.Set(fasthttp.HeaderContentEncoding, "gzip")
}

// jsonBufs are the buffers answers are built in: a 1,000-touchpoint trail
// is about half a megabyte, grown once and then reused.
var jsonBufs = sync.Pool{New: func() any { return new([]byte) }}

// getJSONBuf returns an empty pooled buffer of at least size bytes.
func getJSONBuf(size int) *[]byte {
	p := jsonBufs.Get().(*[]byte)
	if cap(*p) < size {
		*p = make([]byte, 0, size)
	}
	*p = (*p)[:0]
	return p
}

// putJSONBuf gives a buffer back; one grown past 8 MB is dropped.
func putJSONBuf(p *[]byte) {
	if cap(*p) > 8<<20 {
		return
	}
	jsonBufs.Put(p)
}
