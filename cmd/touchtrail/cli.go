package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one `touchtrail <name>`: its help is its documentation
// (goatcounter's usage texts): a description, every flag with its default
// in human form and its environment variable, and examples.
type command struct {
	name     string
	args     string // what follows the name in the usage line, e.g. "[flags]"
	summary  string // one line, for the command list
	help     string // what it does, a few lines
	examples string // indented lines, shown as they are
	// setup defines the command's flags on fs and returns the function
	// to run once they are parsed.
	setup func(fs *flag.FlagSet, stdout, stderr io.Writer) func(args []string) error
	// rawArgs hands the command line to the function unparsed: serve reads
	// its -config file first, so that the flags win over it.
	rawArgs bool
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageError is a mistake in the command line: exit code 1, with a hint.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// Exit codes.
const (
	exitOK      = 0
	exitUsage   = 1
	exitRuntime = 2
)

// runCommand parses args for c (command line first, then TOUCHTRAIL_*
// variables) and runs it; it returns the process exit code.
func runCommand(c *command, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := c.setup(fs, stdout, stderr)
	if !c.rawArgs {
		if err := parseFlags(fs, args); err != nil {
			args, run = nil, func([]string) error { return usageError{err} }
		} else {
			args = fs.Args()
		}
	}
	err := run(args)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		printCommandHelp(stdout, c)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "touchtrail %s: %v\nRun 'touchtrail help %s' for its flags.\n", c.name, err, c.name)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "touchtrail %s: %v\n", c.name, err)
		return exitRuntime
	}
}

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

func printCommands(w io.Writer) {
	fmt.Fprint(w, `touchtrail records every touchpoint of a visitor's journey and shows where
customers give up.

Usage:
  touchtrail <command> [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'touchtrail help <command>' (or 'touchtrail <command> -h') for a command's
description, flags and examples. Every flag can also be set in the environment
as TOUCHTRAIL_<FLAG> ("-rate-per-ip" is TOUCHTRAIL_RATE_PER_IP); the command
line wins. Exit codes: 0 ok, 1 a mistake in the command line, 2 a failure.
`)
}

func printCommandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: touchtrail %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.help))
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs, io.Discard, io.Discard)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(w, fs)
	}
	if c.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.examples, "\n"))
	}
}

// printFlags lists every flag with its default in human form and its
// environment variable.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		if typ == "value" {
			switch f.Value.(type) {
			case *duration:
				typ = "duration"
			case jsonFlag:
				typ = "JSON"
			}
		}
		head := "  -" + f.Name
		if typ != "" {
			head += " " + typ
		}
		fmt.Fprintf(w, "%s\n      %s\n      default: %s   env: %s\n", head, usage, humanDefault(f), envName(f.Name))
	})
}

func humanDefault(f *flag.Flag) string {
	switch v := f.DefValue; {
	case v == "" || v == "[]" || v == "null":
		return "none"
	case v == "true":
		return "on"
	case v == "false":
		return "off"
	default:
		return v
	}
}

// jsonFlag is a flag whose value is JSON, for settings with structure
// (sites, tokens, stage rules).
type jsonFlag struct{ v any }

func (j jsonFlag) String() string {
	if j.v == nil {
		return ""
	}
	b, err := json.Marshal(j.v)
	if err != nil {
		return ""
	}
	return string(b)
}

func (j jsonFlag) Set(s string) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(j.v); err != nil {
		return fmt.Errorf("want JSON as in the config file: %w", err)
	}
	return nil
}
