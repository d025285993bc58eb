package collector

import (
	"bufio"
	"io"

	"github.com/valyala/fasthttp"
)

// backupper is a store that writes a full backup of itself (the Badger
// store: a consistent snapshot, taken while it serves).
type backupper interface {
	Backup(w io.Writer) error
}

// backup answers GET /v1/backup: Badger's backup stream of the whole store
// (every site, every key with its expiry), which `touchtrail restore` loads
// into an empty directory. It needs an admin token that is not limited to
// sites, and it runs while the collector serves. A failure halfway ends the
// stream without its last chunk, which the client sees as a broken body.
func (s *Server) backup(ctx *fasthttp.RequestCtx) error {
	if !ctx.IsGet() {
		return &errAllow{[]string{"GET"}}
	}
	t, err := s.authorize(ctx, "", ScopeAdmin)
	if err != nil {
		return err
	}
	if len(t.sites) > 0 {
		return errStatus(fasthttp.StatusForbidden, "token %q is limited to sites, and a backup holds every site", t.name)
	}
	b, ok := s.store.(backupper)
	if !ok {
		return errStatus(fasthttp.StatusNotFound, "this store has no backup")
	}
	ctx.SetContentType("application/octet-stream")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="touchtrail.bak"`)
	streamBody(ctx, func(w *bufio.Writer) error {
		if err := b.Backup(w); err != nil {
			s.log.Error("backup ended early", "err", err)
			return err
		}
		s.log.Info("backup sent")
		return nil
	})
	return nil
}

// streamBody answers with what write writes, as it writes it (chunked). An
// error from write ends the stream without its last chunk, so the client
// sees a broken body rather than a short one; a client that goes away makes
// write's writes fail.
func streamBody(ctx *fasthttp.RequestCtx, write func(w *bufio.Writer) error) {
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 64<<10)
		err := write(bw)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err) // nil: io.EOF for the reader
	}()
	ctx.SetBodyStream(pr, -1)
}
