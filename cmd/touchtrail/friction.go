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

var frictionCmd = &command{
	name:    "friction",
	args:    "[flags]",
	summary: "print the friction signals: where customers give up",
	help: `Print how many active visitors met each friction signal (a search with no
results, repeated searches, a search or a help page followed by a chat, an
abandoned checkout, low feedback) with example visitors, the abandoned
checkouts by last step and the last pages before abandoning.`,
	examples: `  touchtrail friction
  touchtrail friction -from 2026-11-01 -to 2026-12-01 -segment new`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		base, token, site := clientFlags(fs)
		from, to, segment := rangeFlags(fs)
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			return printFriction(stdout, *base, *token, *site, *from, *to, *segment)
		}
	},
}

// printFriction prints where customers give up.
func printFriction(w io.Writer, base, token, site, from, to, segment string) error {
	c, err := newAPIClient(base, token)
	if err != nil {
		return err
	}
	var fr journey.FrictionResult
	q := rangeQuery(from, to, segment)
	q.Set("examples", "2")
	if err := c.get(fmt.Sprintf("/v1/sites/%s/friction?%s", url.PathEscape(site), q.Encode()), &fr); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s active from %s to %s\n\n", count(fr.Visitors, "visitor"), from, to)
	tw := newTable(w, false)
	fmt.Fprintln(tw, "SIGNAL\tVISITORS\tSHARE\tEXAMPLES")
	for _, s := range fr.Signals {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%s\n", s.Signal, s.Visitors, 100*float64(s.Visitors)/float64(max(fr.Visitors, 1)), strings.Join(s.Examples, " "))
	}
	tw.Flush()
	if len(fr.AbandonedAtStep) > 0 {
		fmt.Fprint(w, "\nabandoned checkouts by last step:")
		steps := make([]int, 0, len(fr.AbandonedAtStep))
		for s := range fr.AbandonedAtStep {
			steps = append(steps, int(s))
		}
		sort.Ints(steps)
		for _, s := range steps {
			fmt.Fprintf(w, "  step %d: %d", s, fr.AbandonedAtStep[uint32(s)])
		}
		fmt.Fprintln(w)
	}
	for i, p := range fr.AbandonPages {
		if i == 0 {
			fmt.Fprint(w, "last page before abandoning:")
		}
		if i == 5 {
			break
		}
		fmt.Fprintf(w, "  %s (%d)", urlCell(p.Page), p.Visitors)
	}
	fmt.Fprintln(w)
	return nil
}
