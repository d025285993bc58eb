// Command touchtrail runs the collector and talks to a running one.
//
//	touchtrail                     list the commands
//	touchtrail help <command>      a command's description, flags and examples
//	touchtrail serve [flags]       run the collector
//	touchtrail version             print the version
//
// Each command lives in its own file. Every flag can also come from the
// environment as TOUCHTRAIL_<FLAG> (upper case, "-" as "_"); the command
// line wins over the environment, which wins over serve's -config file.
// Exit codes: 0 ok, 1 a mistake in the command line, 2 a failure.
package main

import (
	"fmt"
	"io"
	"os"
)

// commands in the order `touchtrail help` lists them; each is in its own file.
var commands = []*command{
	serveCmd, trailCmd, journeyCmd, funnelCmd, frictionCmd, selfServiceCmd, satisfactionCmd,
	exportCmd, importCmd, backupCmd, restoreCmd, eraseCmd, versionCmd,
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args to a command and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printCommands(stdout)
		return exitOK
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printCommands(stdout)
		return exitOK
	case "-version", "--version":
		printVersion(stdout)
		return exitOK
	case "help":
		if len(args) == 1 {
			printCommands(stdout)
			return exitOK
		}
		c := findCommand(args[1])
		if c == nil {
			fmt.Fprintf(stderr, "touchtrail: unknown command %q\n\n", args[1])
			printCommands(stderr)
			return exitUsage
		}
		printCommandHelp(stdout, c)
		return exitOK
	}
	c := findCommand(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "touchtrail: unknown command %q\n\n", args[0])
		printCommands(stderr)
		return exitUsage
	}
	return runCommand(c, args[1:], stdout, stderr)
}
