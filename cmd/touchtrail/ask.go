package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"

	"github.com/touchtrail/touchtrail/pkg/journey"
)

var selfServiceCmd = &command{
	name:    "selfservice",
	args:    "[flags]",
	summary: "print the self-service rate: which help pages and searches answer",
	help: `Print, of the visitors who searched or read help pages, the share who opened
no chat and no ticket within the configured window (journey.self_service_window,
default 24h) — overall, by help page and by search term, with how many went
on to a chat or a ticket: which FAQ articles work, which searches end in a
ticket.`,
	examples: `  touchtrail selfservice
  touchtrail selfservice -from 2026-11-01 -to 2026-12-01 -top 5`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		base, token, site := clientFlags(fs)
		from, to, segment := rangeFlags(fs)
		top := fs.Int("top", 10, "help pages and search terms to list")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *top < 1 {
				return usagef("-top: want at least 1")
			}
			return printSelfService(stdout, *base, *token, *site, *from, *to, *segment, *top)
		}
	},
}

var satisfactionCmd = &command{
	name:    "satisfaction",
	args:    "[flags]",
	summary: "print the ratings by stage and by the touchpoint they follow",
	help: `Print the ratings (feedback, and help-desk ratings of tickets) as score/scale:
responses, mean and share of low ratings (below journey.low_feedback), by the
stage they were given in and by the touchpoint they follow.`,
	examples: `  touchtrail satisfaction
  touchtrail satisfaction -segment returning`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		base, token, site := clientFlags(fs)
		from, to, segment := rangeFlags(fs)
		top := fs.Int("top", 10, "touchpoints to list")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *top < 1 {
				return usagef("-top: want at least 1")
			}
			return printSatisfaction(stdout, *base, *token, *site, *from, *to, *segment, *top)
		}
	},
}

func printSelfService(w io.Writer, base, token, site, from, to, segment string, top int) error {
	c, err := newAPIClient(base, token)
	if err != nil {
		return err
	}
	var r journey.SelfServiceResult
	q := rangeQuery(from, to, segment)
	q.Set("top", fmt.Sprint(top))
	if err := c.get(fmt.Sprintf("/v1/sites/%s/selfservice?%s", url.PathEscape(site), q.Encode()), &r); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s active from %s to %s; %s searched or read help pages\n", count(r.Visitors, "visitor"), from, to, count(r.Helped, "visitor"))
	fmt.Fprintf(w, "self-served: %d (%.1f%%) with no chat or ticket within %gh; then a chat: %d, then a ticket: %d\n",
		r.SelfServed, 100*r.Rate, r.WindowHours, r.Chat, r.Ticket)
	for _, part := range []struct {
		title string
		items []journey.SelfServiceItem
	}{{"HELP PAGE", r.Pages}, {"SEARCH TERM", r.Terms}} {
		fmt.Fprintln(w)
		tw := newTable(w, false)
		fmt.Fprintf(tw, "%s\tVISITORS\tSELF-SERVED\tTHEN CHAT\tTHEN TICKET\n", part.title)
		for _, it := range part.items {
			key := it.Key
			if part.title == "HELP PAGE" {
				key = urlCell(key)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%d\t%d\n", key, it.Visitors, 100*it.Rate, it.Chat, it.Ticket)
		}
		tw.Flush()
	}
	return nil
}

func printSatisfaction(w io.Writer, base, token, site, from, to, segment string, top int) error {
	c, err := newAPIClient(base, token)
	if err != nil {
		return err
	}
	var r journey.SatisfactionResult
	q := rangeQuery(from, to, segment)
	q.Set("top", fmt.Sprint(top))
	if err := c.get(fmt.Sprintf("/v1/sites/%s/satisfaction?%s", url.PathEscape(site), q.Encode()), &r); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s active from %s to %s; %s rated: %s, mean %.1f%%, low %.1f%%\n\n", count(r.Visitors, "visitor"), from, to,
		count(r.Raters, "visitor"), count(r.Overall.Responses, "rating"), 100*r.Overall.Mean, 100*r.Overall.LowShare)
	row := func(tw io.Writer, name string, rt journey.Rating) {
		if rt.Responses == 0 {
			fmt.Fprintf(tw, "%s\t0\t–\t–\n", name)
			return
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\n", name, rt.Responses, 100*rt.Mean, 100*rt.LowShare)
	}
	tw := newTable(w, false)
	fmt.Fprintln(tw, "STAGE\tRATINGS\tMEAN\tLOW")
	for _, s := range r.ByStage {
		row(tw, s.Stage.String(), s.Rating)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = newTable(w, false)
	fmt.Fprintln(tw, "AFTER\tRATINGS\tMEAN\tLOW")
	for _, t := range r.ByTouchpoint {
		row(tw, urlCell(t.Touchpoint), t.Rating)
	}
	tw.Flush()
	return nil
}
