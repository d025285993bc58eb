package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

var backupCmd = &command{
	name:    "backup",
	args:    "-o FILE [flags]",
	summary: "write a full backup of the store, from a running collector or a data directory",
	help: `Write a full backup of the store: Badger's backup stream (every site, every
key with its expiry), which 'touchtrail restore' loads into an empty
directory. Without -data it asks the running collector at -url
(GET /v1/backup, with an admin token not limited to sites), which takes it
from a consistent snapshot while it serves. With -data it opens that
directory's store itself, which needs 'touchtrail serve' stopped on it. The
file is written under a temporary name and renamed only when complete.`,
	examples: `  touchtrail backup -token "$TOUCHTRAIL_ADMIN_TOKEN" -o touchtrail-$(date +%F).bak
  touchtrail backup -data /var/lib/touchtrail -o stopped.bak        # collector stopped
  touchtrail backup -token tta_… -o - | gzip > data.bak.gz`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		base := fs.String("url", "http://127.0.0.1:8080", "the running collector's `URL`")
		token := fs.String("token", "", "an admin `token` not limited to sites")
		data := fs.String("data", "", "back up this data `directory` instead (its collector stopped)")
		out := fs.String("o", "", "backup `file`; - for stdout")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *out == "" {
				return usagef("pass -o FILE (or -o - for stdout)")
			}
			if *data != "" {
				return backup(*data, *out, stdout, stderr)
			}
			return backupOnline(*base, *token, *out, stdout, stderr)
		}
	},
}

// backupOnline streams GET /v1/backup of a running collector into out.
func backupOnline(base, token, out string, stdout, stderr io.Writer) error {
	start := time.Now()
	c, err := newAPIClient(base, token)
	if err != nil {
		return err
	}
	resp, err := c.do(http.MethodGet, "/v1/backup")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	w, commit, abort, err := createOutput(out, stdout)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", out, err)
	}
	bar := newProgress(stderr, -1, "backing up")
	n, err := io.Copy(io.MultiWriter(w, bar), resp.Body)
	bar.Finish()
	if err != nil {
		abort()
		return fmt.Errorf("backup interrupted after %s (nothing kept): %w", humanBytes(n), err)
	}
	if err := commit(); err != nil {
		return fmt.Errorf("cannot write %s: %w", out, err)
	}
	where := out
	if out == "-" {
		where = "stdout"
	}
	fmt.Fprintf(stderr, "backed up the store of %s to %s: %s in %s\n", c.base, where, humanBytes(n), time.Since(start).Round(time.Millisecond))
	return nil
}

func backup(dataDir, out string, stdout, stderr io.Writer) error {
	start := time.Now()
	st, err := openOffline(dataDir, 0, true)
	if err != nil {
		return err
	}
	defer st.Close()
	w, commit, abort, err := createOutput(out, stdout)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", out, err)
	}
	bar := newProgress(stderr, -1, "backing up")
	cw := &countingWriter{w: io.MultiWriter(w, bar)}
	err = st.Backup(cw)
	bar.Finish()
	if err != nil {
		abort()
		return err
	}
	if err := commit(); err != nil {
		return fmt.Errorf("cannot write %s: %w", out, err)
	}
	where := out
	if out == "-" {
		where = "stdout"
	}
	fmt.Fprintf(stderr, "backed up %s (%s on disk) to %s: %s in %s\n", badgerDir(dataDir), humanBytes(st.DiskSize()), where,
		humanBytes(cw.n), time.Since(start).Round(time.Millisecond))
	return nil
}
