// Command touchtrail runs the collector and talks to a running one.
//
//	touchtrail serve [flags]       run the collector (the default command)
//	touchtrail trail [flags]       print a visitor's or a user's trail
//	touchtrail journey [flags]     print a visitor's or a user's journey
//	touchtrail funnel [flags]      print a funnel's conversion and drop-off
//	touchtrail friction [flags]    print the friction signals
//	touchtrail version             print the version
//
// Every flag can also come from the environment as TOUCHTRAIL_<FLAG>
// (upper case, "-" as "_"); the command line wins over the environment,
// which wins over the -config file.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

var version = "dev"

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "trail":
		err = trail(args)
	case "journey":
		err = journeyCmd(args)
	case "funnel":
		err = funnelCmd(args)
	case "friction":
		err = frictionCmd(args)
	case "version":
		fmt.Println("touchtrail", version)
	case "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "touchtrail: unknown command %q\n\n", cmd)
		usage()
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "touchtrail:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: touchtrail <command> [flags]

commands:
  serve     run the collector (default)
  trail     print a visitor's or a user's trail from a running collector
  journey   print a visitor's or a user's journey: sessions, stages, friction
  funnel    print a funnel's conversion and drop-off
  friction  print the friction signals: where customers give up
  version   print the version

Run "touchtrail <command> -h" for a command's flags. Every flag can also be
set as TOUCHTRAIL_<FLAG> in the environment.
`)
}
