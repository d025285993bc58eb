package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

var versionCmd = &command{
	name:     "version",
	args:     "",
	summary:  "print the version, the Go version and the commit it was built from",
	help:     "Print touchtrail's version, the Go release it was built with and, when built\nfrom a git checkout, the commit. Also: touchtrail --version.",
	examples: "  touchtrail version\n  touchtrail --version",
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("version takes no arguments")
			}
			printVersion(stdout)
			return nil
		}
	},
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "touchtrail %s (%s", version, runtime.Version())
	if rev := buildRevision(); rev != "" {
		fmt.Fprintf(w, ", commit %s", rev)
	}
	fmt.Fprintln(w, ")")
}

// buildRevision is the VCS commit the binary was built from, if known.
func buildRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && dirty {
		rev += "+dirty"
	}
	return rev
}
