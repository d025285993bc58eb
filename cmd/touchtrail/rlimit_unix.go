//go:build unix

package main

import (
	"log/slog"
	"syscall"
)

// raiseOpenFileLimit raises the soft limit of open files to the hard
// limit: every keep-alive connection and every Badger table holds a file
// descriptor, and a soft limit of 1024 is reached long before the CPU is.
func raiseOpenFileLimit(log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open file limit", "err", err)
		return
	}
	if lim.Cur >= lim.Max {
		log.Debug("open file limit", "soft", lim.Cur, "hard", lim.Max)
		return
	}
	old := lim.Cur
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot raise the open file limit", "soft", old, "hard", lim.Max, "err", err)
		return
	}
	log.Info("open file limit raised", "from", old, "to", lim.Max)
}
