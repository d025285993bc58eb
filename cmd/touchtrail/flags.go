package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// parseFlags parses args into fs after filling every flag that was not given
// on the command line from TOUCHTRAIL_<FLAG>: the command line wins
// (goatcounter, VictoriaMetrics envflag).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

func envName(flagName string) string {
	return "TOUCHTRAIL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// explicit reports whether a flag was given on the command line or in the
// environment, so it overrides the config file.
func explicit(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	if _, ok := os.LookupEnv(envName(name)); ok {
		found = true
	}
	return found
}
