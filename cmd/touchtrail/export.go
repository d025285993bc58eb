package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

var exportCmd = &command{
	name:    "export",
	args:    "[flags]",
	summary: "export a site's touchpoints as NDJSON or CSV from a running collector",
	help: `Export every touchpoint of a site whose time is in [-from, -to) (default: all),
visitor by visitor and in order, from a running collector's query API
(GET /v1/sites/{site}/export, streamed and gzipped on the wire). NDJSON lines
are the API's touchpoint objects, which 'touchtrail import' stores back as
they were; CSV has a header row. A progress bar is drawn when stderr is a
terminal; a summary line follows.`,
	examples: `  touchtrail export -o shop.ndjson
  touchtrail export -site shop -from 2026-11-01 -to 2026-12-01 -format csv -o november.csv
  touchtrail export -o - | gzip > shop.ndjson.gz`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		base, token, site := clientFlags(fs)
		from := fs.String("from", "", "start of the range: `YYYY-MM-DD` or RFC 3339 (default: the first touchpoint)")
		to := fs.String("to", "", "end of the range, exclusive: `YYYY-MM-DD` or RFC 3339 (default: the last)")
		format := fs.String("format", "ndjson", "`format`: ndjson or csv")
		out := fs.String("o", "", "output `file`; - for stdout")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *out == "" {
				return usagef("pass -o FILE (or -o - for stdout)")
			}
			if *format != "ndjson" && *format != "csv" {
				return usagef("-format %q: want ndjson or csv", *format)
			}
			return export(*base, *token, *site, *from, *to, *format, *out, stdout, stderr)
		}
	},
}

func export(base, token, site, from, to, format, out string, stdout, stderr io.Writer) error {
	c, err := newAPIClient(base, token)
	if err != nil {
		return err
	}
	q := url.Values{"format": {format}}
	if from != "" {
		q.Set("from", from)
	}
	if to != "" {
		q.Set("to", to)
	}
	start := time.Now()
	resp, err := c.do(http.MethodGet, fmt.Sprintf("/v1/sites/%s/export?%s", url.PathEscape(site), q.Encode()))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	w, commit, abort, err := createOutput(out, stdout)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", out, err)
	}
	bar := newProgress(stderr, -1, "exporting "+site)
	lines := &lineCounter{}
	n, err := io.Copy(io.MultiWriter(w, bar, lines), resp.Body) // the transport un-gzips
	bar.Finish()
	if err != nil {
		abort()
		return fmt.Errorf("export interrupted after %s: %w", humanBytes(n), err)
	}
	if err := commit(); err != nil {
		return fmt.Errorf("cannot write %s: %w", out, err)
	}
	tps := lines.n
	if format == "csv" && tps > 0 {
		tps-- // the header
	}
	where := out
	if out == "-" {
		where = "stdout"
	}
	fmt.Fprintf(stderr, "exported %d touchpoints of site %s (%s, %s) to %s in %s\n", tps, site, format, humanBytes(n), where,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// lineCounter counts newlines.
type lineCounter struct{ n int }

func (l *lineCounter) Write(b []byte) (int, error) {
	l.n += bytes.Count(b, []byte{'\n'})
	return len(b), nil
}
