package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/touchtrail/touchtrail/pkg/journey"
)

var journeyCmd = &command{
	name:    "journey",
	args:    "-visitor ID | -user ID [flags]",
	summary: "print a visitor's or a user's journey: sessions, stages, friction",
	help: `Print the journey of one visitor (-visitor) or of every visitor stitched to a
user by identify (-user), from a running collector's query API: its sessions
(split after 30 minutes of inactivity or on a new campaign) with channel,
entry and exit page and counts, the stage sequence, friction signals and,
when it converted, the first and last touch.`,
	examples: `  touchtrail journey -visitor 31a0c54aebf43f58d5e9e413c46e6c7d
  TOUCHTRAIL_TOKEN=ttr_… touchtrail journey -site shop -user u-42`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		base, token, site := clientFlags(fs)
		visitor := fs.String("visitor", "", "visitor `id` (32 hex digits)")
		user := fs.String("user", "", "user `id`: every visitor stitched to it by identify")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			return printJourney(stdout, *base, *token, *site, *visitor, *user)
		}
	},
}

// printJourney prints a visitor's or a user's journey: sessions and stages.
func printJourney(w io.Writer, base, token, site, visitor, user string) error {
	c, err := newAPIClient(base, token)
	if err != nil {
		return err
	}
	var j journey.Journey
	switch {
	case visitor != "":
		err = c.get(fmt.Sprintf("/v1/sites/%s/visitors/%s/journey", url.PathEscape(site), url.PathEscape(visitor)), &j)
	case user != "":
		err = c.get(fmt.Sprintf("/v1/sites/%s/users/%s/journey", url.PathEscape(site), url.PathEscape(user)), &j)
	default:
		return usagef("pass -visitor or -user")
	}
	if err != nil {
		return err
	}
	stages := make([]string, len(j.Stages))
	for i, s := range j.Stages {
		stages[i] = s.String()
	}
	fmt.Fprintf(w, "%s in %s; stages: %s\n", count(j.Touchpoints, "touchpoint"), count(len(j.Sessions), "session"), strings.Join(stages, " → "))
	if len(j.Friction) > 0 {
		fmt.Fprintf(w, "friction: %s\n", strings.Join(j.Friction, ", "))
	}
	if j.Converted {
		fmt.Fprintf(w, "converted; first touch %s %s, last touch %s %s\n", j.FirstTouch.Channel, j.FirstTouch.Campaign, j.LastTouch.Channel, j.LastTouch.Campaign)
	}
	tw := newTable(w, false)
	fmt.Fprintln(tw, "\nSTART (UTC)\tMINUTES\tCHANNEL\tENTRY → EXIT\tTOUCHPOINTS\tSTAGES")
	for _, s := range j.Sessions {
		var counts []string
		keys := make([]string, 0, len(s.Counts))
		for k := range s.Counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			counts = append(counts, fmt.Sprintf("%s×%d", k, s.Counts[k]))
		}
		st := make([]string, len(s.Stages))
		for i, x := range s.Stages {
			st[i] = x.String()
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s → %s\t%s\t%s\n", s.Start.UTC().Format("2006-01-02 15:04"), s.Duration/60,
			s.Channel, urlCell(s.EntryPage), urlCell(s.ExitPage), strings.Join(counts, " "), strings.Join(st, " "))
	}
	return tw.Flush()
}
