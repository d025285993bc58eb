package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// badgerDir is where serve keeps the store inside its data directory.
func badgerDir(dataDir string) string { return filepath.Join(dataDir, "badger") }

// openOffline opens the store of a data directory for an offline command
// (import, backup). Badger locks its directory: while serve runs on it,
// this fails, and the message says so.
func openOffline(dataDir string, retention time.Duration, mustExist bool) (*badger.Store, error) {
	dir := badgerDir(dataDir)
	if mustExist {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("no store in %s: %w", dataDir, err)
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := badger.Open(badger.Config{Dir: dir, SyncWrites: true, Retention: retention}, quiet)
	if err != nil {
		return nil, fmt.Errorf("%w (is `touchtrail serve` running on %s? stop it first)", err, dataDir)
	}
	return st, nil
}

// emptyDir reports whether dir is missing or holds nothing.
func emptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return len(entries) == 0, nil
}

// openInput opens path for reading ("-" is stdin) and says its size (-1
// when unknown).
func openInput(path string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// createOutput creates path for writing ("-" is stdout). The file is made
// under a temporary name and renamed by commit, so that a failed run leaves
// no half file behind.
func createOutput(path string, stdout io.Writer) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, nil, nil, err
	}
	commit = func() error {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return err
		}
		return os.Rename(tmp.Name(), path)
	}
	abort = func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	return tmp, commit, abort, nil
}
