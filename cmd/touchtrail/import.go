package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

var importCmd = &command{
	name:    "import",
	args:    "-i FILE [flags]",
	summary: "import touchpoints from NDJSON (an export) into a data directory",
	help: `Store the touchpoints of an NDJSON file made by 'touchtrail export' (gzipped or
not) in the store of -data, exactly as they were exported: times, device,
place and channel included. It is idempotent: a touchpoint whose id the
visitor already has is skipped, so an import can be re-run after a failure.
It opens the store itself: stop 'touchtrail serve' on that directory first.
The first line that cannot be read stops the import with its line number;
everything before it is stored.`,
	examples: `  touchtrail import -data /var/lib/touchtrail -i shop.ndjson
  touchtrail import -data ./data -into-site staging -i shop.ndjson.gz   # into another site
  touchtrail export -o - | touchtrail import -data ./copy -i -`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		data := fs.String("data", "./data", "data `directory` whose store receives the touchpoints")
		in := fs.String("i", "", "NDJSON `file` to import (gzipped or not); - for stdin")
		site := fs.String("into-site", "", "store every touchpoint in this site `id` instead of its own")
		retention := duration(400 * 24 * time.Hour)
		fs.Var(&retention, "retention", "how long touchpoints are kept, as serve's -retention")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *in == "" {
				return usagef("pass -i FILE (or -i - for stdin)")
			}
			if *site != "" && !store.ValidSite(*site) {
				return usagef("-into-site %q: want 1 to 64 of A-Z a-z 0-9 _ . -", *site)
			}
			return importNDJSON(*data, *in, *site, time.Duration(retention), os.Stdin, stderr)
		}
	},
}

// importResult is what an import did.
type importResult struct {
	lines, stored, duplicates, erased int
}

func importNDJSON(dataDir, in, site string, retention time.Duration, stdin io.Reader, stderr io.Writer) error {
	start := time.Now()
	f, size, err := openInput(in, stdin)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", in, err)
	}
	defer f.Close()
	bar := newProgress(stderr, size, "importing")
	r, err := maybeGunzip(bufio.NewReaderSize(io.TeeReader(f, bar), 1<<16))
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	st, err := openOffline(dataDir, retention, false)
	if err != nil {
		return err
	}
	res, err := importInto(context.Background(), st, r, site)
	bar.Finish()
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cannot close the store: %w", cerr)
	}
	fmt.Fprintf(stderr, "imported %d touchpoints into %s in %s: %d new, %d already there (same id), %d of erased visitors dropped\n",
		res.lines, badgerDir(dataDir), time.Since(start).Round(time.Millisecond), res.stored, res.duplicates, res.erased)
	return err
}

// maybeGunzip reads through gzip when r starts with gzip's magic bytes.
func maybeGunzip(r *bufio.Reader) (io.Reader, error) {
	magic, err := r.Peek(2)
	if err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(r)
	}
	return r, nil
}

// importInto stores the NDJSON touchpoints of r in batches of 1,000.
func importInto(ctx context.Context, st store.Store, r io.Reader, site string) (importResult, error) {
	var res importResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var (
		recs []store.Record
		slab []byte
		tp   event.Touchpoint
	)
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		wr, err := st.Write(ctx, recs)
		if err != nil {
			return fmt.Errorf("cannot store touchpoints before line %d: %w", res.lines+1, err)
		}
		res.stored += wr.Stored
		res.duplicates += wr.Duplicates
		res.erased += wr.Erased
		recs, slab = recs[:0], slab[:0]
		return nil
	}
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if err := event.ParseJSON(b, &tp); err != nil {
			return res, errors.Join(fmt.Errorf("line %d: %w", line, err), flush())
		}
		if site != "" {
			tp.Site = site
		}
		if !store.ValidSite(tp.Site) {
			return res, errors.Join(fmt.Errorf("line %d: site %q: want 1 to 64 of A-Z a-z 0-9 _ . - (or pass -into-site)", line, tp.Site), flush())
		}
		recs = append(recs, store.NewRecord(&tp, &slab))
		res.lines++
		if len(recs) == 1000 {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return res, errors.Join(fmt.Errorf("line %d: %w", line+1, err), flush())
	}
	return res, flush()
}
