package main

import (
	"flag"
	"fmt"
	"io"
	"time"
)

var backupCmd = &command{
	name:    "backup",
	args:    "-o FILE [flags]",
	summary: "write a full backup of a data directory's store",
	help: `Write a full backup of the store in -data: Badger's backup stream (every key
with its expiry), which 'touchtrail restore' loads into an empty directory.
It opens the store itself, so stop 'touchtrail serve' on that directory
first (Badger allows one process per directory). The file is written under
a temporary name and renamed when complete.`,
	examples: `  touchtrail backup -data /var/lib/touchtrail -o touchtrail-$(date +%F).bak
  touchtrail backup -data ./data -o - | gzip > data.bak.gz`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		data := fs.String("data", "./data", "data `directory` to back up")
		out := fs.String("o", "", "backup `file`; - for stdout")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *out == "" {
				return usagef("pass -o FILE (or -o - for stdout)")
			}
			return backup(*data, *out, stdout, stderr)
		}
	},
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
