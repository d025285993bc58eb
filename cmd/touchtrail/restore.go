package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

var restoreCmd = &command{
	name:    "restore",
	args:    "-i FILE [flags]",
	summary: "load a backup into an empty data directory",
	help: `Load a backup made by 'touchtrail backup' (gzipped or not) into the store of
-data. The store must not exist yet or be empty: restore refuses to mix a
backup with live data. Then start 'touchtrail serve -data' on it.`,
	examples: `  touchtrail restore -data /var/lib/touchtrail -i touchtrail-2026-11-30.bak
  gunzip -c data.bak.gz | touchtrail restore -data ./restored -i -`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		data := fs.String("data", "./data", "data `directory` to restore into (its store must be empty)")
		in := fs.String("i", "", "backup `file`; - for stdin")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *in == "" {
				return usagef("pass -i FILE (or -i - for stdin)")
			}
			return restore(*data, *in, os.Stdin, stderr)
		}
	},
}

func restore(dataDir, in string, stdin io.Reader, stderr io.Writer) error {
	start := time.Now()
	empty, err := emptyDir(badgerDir(dataDir))
	if err != nil {
		return err
	}
	if !empty {
		return fmt.Errorf("%s is not empty: restore loads a backup only into an empty store (move it away, or pick another -data)", badgerDir(dataDir))
	}
	f, size, err := openInput(in, stdin)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", in, err)
	}
	defer f.Close()
	bar := newProgress(stderr, size, "restoring")
	r, err := maybeGunzip(bufio.NewReaderSize(io.TeeReader(f, bar), 1<<16))
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	st, err := openOffline(dataDir, 0, false)
	if err != nil {
		return err
	}
	err = st.Restore(r)
	bar.Finish()
	size = st.DiskSize()
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cannot close the store: %w", cerr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "restored %s into %s (%s on disk) in %s\n", in, badgerDir(dataDir), humanBytes(size),
		time.Since(start).Round(time.Millisecond))
	return nil
}
