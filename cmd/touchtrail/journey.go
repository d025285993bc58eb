package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
)

// rangeFlags adds -from, -to and -segment.
func rangeFlags(fs *flag.FlagSet) (from, to, segment *string) {
	from = fs.String("from", time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly), "start of the range (YYYY-MM-DD or RFC 3339)")
	to = fs.String("to", time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly), "end of the range, exclusive")
	segment = fs.String("segment", "", "new, returning or lapsed visitors only")
	return
}

func rangeQuery(from, to, segment string) url.Values {
	q := url.Values{"from": {from}, "to": {to}}
	if segment != "" {
		q.Set("segment", segment)
	}
	return q
}

// journeyCmd prints a visitor's or a user's journey: sessions and stages.
func journeyCmd(args []string) error {
	fs := flag.NewFlagSet("journey", flag.ContinueOnError)
	base, token, site := clientFlags(fs)
	visitor := fs.String("visitor", "", "visitor id")
	user := fs.String("user", "", "user id (all visitors stitched by identify)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := newAPIClient(*base, *token)
	if err != nil {
		return err
	}
	var j journey.Journey
	switch {
	case *visitor != "":
		err = c.get(fmt.Sprintf("/v1/sites/%s/visitors/%s/journey", url.PathEscape(*site), url.PathEscape(*visitor)), &j)
	case *user != "":
		err = c.get(fmt.Sprintf("/v1/sites/%s/users/%s/journey", url.PathEscape(*site), url.PathEscape(*user)), &j)
	default:
		return fmt.Errorf("pass -visitor or -user")
	}
	if err != nil {
		return err
	}
	stages := make([]string, len(j.Stages))
	for i, s := range j.Stages {
		stages[i] = s.String()
	}
	fmt.Printf("%s in %s; stages: %s\n", count(j.Touchpoints, "touchpoint"), count(len(j.Sessions), "session"), strings.Join(stages, " → "))
	if len(j.Friction) > 0 {
		fmt.Printf("friction: %s\n", strings.Join(j.Friction, ", "))
	}
	if j.Converted {
		fmt.Printf("converted; first touch %s %s, last touch %s %s\n", j.FirstTouch.Channel, j.FirstTouch.Campaign, j.LastTouch.Channel, j.LastTouch.Campaign)
	}
	tw := newTable(os.Stdout, false)
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

// funnelCmd prints a funnel's conversion and drop-off.
func funnelCmd(args []string) error {
	fs := flag.NewFlagSet("funnel", flag.ContinueOnError)
	base, token, site := clientFlags(fs)
	from, to, segment := rangeFlags(fs)
	steps := fs.String("steps", "pageview:/pricing,checkout_step:1,checkout_step:2,checkout_step:3", "ordered steps, e.g. pageview:/pricing,checkout_step:3")
	within := fs.String("within", "24h", "conversion window from the first step")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := newAPIClient(*base, *token)
	if err != nil {
		return err
	}
	q := rangeQuery(*from, *to, *segment)
	q.Set("steps", *steps)
	q.Set("within", *within)
	var f struct {
		Visitors int
		journey.FunnelResult
	}
	if err := c.get(fmt.Sprintf("/v1/sites/%s/funnel?%s", url.PathEscape(*site), q.Encode()), &f); err != nil {
		return err
	}
	fmt.Printf("%s active from %s to %s\n\n", count(f.Visitors, "visitor"), *from, *to)
	tw := newTable(os.Stdout, true)
	fmt.Fprintln(tw, "STEP\tVISITORS\tFROM PREVIOUS\tFROM FIRST\tDROP-OFF\tMEDIAN TIME\t")
	for _, s := range f.Steps {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\t%d\t%s\t\n", urlCell(s.Step), s.Visitors, 100*s.FromPrevious, 100*s.FromFirst, s.DropOff,
			(time.Duration(s.MedianSeconds) * time.Second).String())
	}
	return tw.Flush()
}

// frictionCmd prints where customers give up.
func frictionCmd(args []string) error {
	fs := flag.NewFlagSet("friction", flag.ContinueOnError)
	base, token, site := clientFlags(fs)
	from, to, segment := rangeFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := newAPIClient(*base, *token)
	if err != nil {
		return err
	}
	var fr journey.FrictionResult
	q := rangeQuery(*from, *to, *segment)
	q.Set("examples", "2")
	if err := c.get(fmt.Sprintf("/v1/sites/%s/friction?%s", url.PathEscape(*site), q.Encode()), &fr); err != nil {
		return err
	}
	fmt.Printf("%s active from %s to %s\n\n", count(fr.Visitors, "visitor"), *from, *to)
	tw := newTable(os.Stdout, false)
	fmt.Fprintln(tw, "SIGNAL\tVISITORS\tSHARE\tEXAMPLES")
	for _, s := range fr.Signals {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%s\n", s.Signal, s.Visitors, 100*float64(s.Visitors)/float64(max(fr.Visitors, 1)), strings.Join(s.Examples, " "))
	}
	tw.Flush()
	if len(fr.AbandonedAtStep) > 0 {
		fmt.Print("\nabandoned checkouts by last step:")
		steps := make([]int, 0, len(fr.AbandonedAtStep))
		for s := range fr.AbandonedAtStep {
			steps = append(steps, int(s))
		}
		sort.Ints(steps)
		for _, s := range steps {
			fmt.Printf("  step %d: %d", s, fr.AbandonedAtStep[uint32(s)])
		}
		fmt.Println()
	}
	for i, p := range fr.AbandonPages {
		if i == 0 {
			fmt.Print("last page before abandoning:")
		}
		if i == 5 {
			break
		}
		fmt.Printf("  %s (%d)", urlCell(p.Page), p.Visitors)
	}
	fmt.Println()
	return nil
}
