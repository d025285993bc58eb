//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// raiseOpenFileLimit raises the soft limit of open files to the hard
// limit: every keep-alive connection and every Badger table holds a file
// descriptor, and a soft limit of 1024 is reached long before the CPU is.
// It runs before the config's defaults are made, since the collector's
// connection cap is derived from the limit. It returns what it did, for
// the log.
func raiseOpenFileLimit() (note string, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return "", fmt.Errorf("cannot read the open file limit: %w", err)
	}
	if lim.Cur >= lim.Max {
		return fmt.Sprintf("open file limit %d (the hard limit)", lim.Cur), nil
	}
	old := lim.Cur
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return "", fmt.Errorf("cannot raise the open file limit from %d to %d: %w", old, lim.Max, err)
	}
	return fmt.Sprintf("open file limit raised from %d to %d", old, lim.Max), nil
}
