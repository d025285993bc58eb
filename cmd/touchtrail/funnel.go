package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
)

var funnelCmd = &command{
	name:    "funnel",
	args:    "[flags]",
	summary: "print a funnel's conversion and drop-off",
	help: `Print, for each step of a funnel, the visitors who reached it (in order, within
-within of the first step), the conversion from the previous and the first
step, the drop-off and the median time from the previous step. Step syntax:
type, pageview:/glob*, checkout_step:N, custom:name, search:text,
chat_open:widget.`,
	examples: `  touchtrail funnel
  touchtrail funnel -steps pageview:/pricing,checkout_step:3 -within 2h -from 2026-11-01
  touchtrail funnel -segment returning`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		base, token, site := clientFlags(fs)
		from, to, segment := rangeFlags(fs)
		steps := fs.String("steps", "pageview:/pricing,checkout_step:1,checkout_step:2,checkout_step:3", "ordered, comma-separated `steps`")
		within := fs.String("within", "24h", "conversion `window` from the first step")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			return printFunnel(stdout, *base, *token, *site, *from, *to, *segment, *steps, *within)
		}
	},
}

// printFunnel prints a funnel's conversion and drop-off.
func printFunnel(w io.Writer, base, token, site, from, to, segment, steps, within string) error {
	c, err := newAPIClient(base, token)
	if err != nil {
		return err
	}
	q := rangeQuery(from, to, segment)
	q.Set("steps", steps)
	q.Set("within", within)
	var f struct {
		Visitors int
		journey.FunnelResult
	}
	if err := c.get(fmt.Sprintf("/v1/sites/%s/funnel?%s", url.PathEscape(site), q.Encode()), &f); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s active from %s to %s\n\n", count(f.Visitors, "visitor"), from, to)
	tw := newTable(w, true)
	fmt.Fprintln(tw, "STEP\tVISITORS\tFROM PREVIOUS\tFROM FIRST\tDROP-OFF\tMEDIAN TIME\t")
	for _, s := range f.Steps {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\t%d\t%s\t\n", urlCell(s.Step), s.Visitors, 100*s.FromPrevious, 100*s.FromFirst, s.DropOff,
			(time.Duration(s.MedianSeconds) * time.Second).String())
	}
	return tw.Flush()
}
