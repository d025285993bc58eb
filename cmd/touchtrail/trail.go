package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// trailTouchpoint is the part of a trail's touchpoint the CLI prints.
type trailTouchpoint struct {
	Time     time.Time `json:"time"`
	Type     string    `json:"type"`
	Visitor  string    `json:"visitor"`
	URL      string    `json:"url"`
	Name     string    `json:"name"`
	Query    string    `json:"query"`
	Results  *int      `json:"results"`
	Widget   string    `json:"widget"`
	Step     int       `json:"step"`
	Value    float64   `json:"value"`
	Currency string    `json:"currency"`
	User     string    `json:"user"`
	Score    int       `json:"score"`
	Scale    int       `json:"scale"`
	Browser  string    `json:"browser"`
	OS       string    `json:"os"`
	Device   string    `json:"device"`
	Country  string    `json:"country"`
	City     string    `json:"city"`
	Channel  string    `json:"channel"`
	// A ticket's.
	Ticket        string `json:"ticket"`
	Status        string `json:"status"`
	TicketChannel string `json:"ticket_channel"`
	Subject       string `json:"subject"`
}

var trailCmd = &command{
	name:    "trail",
	args:    "-visitor ID | -user ID [flags]",
	summary: "print a visitor's or a user's trail from a running collector",
	help: `Print the touchpoints of one visitor (-visitor) or of every visitor stitched to
a user by identify (-user), in order, as a table: time, type, what happened,
device, place and channel.`,
	examples: `  . data/demo.env   # make run saves TOUCHTRAIL_URL, _TOKEN and _SITE there
  touchtrail trail -visitor 0123456789abcdef0123456789abcdef
  touchtrail trail -site shop -user u-42 -url https://collector.example`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		base, token, site := clientFlags(fs)
		visitor := fs.String("visitor", "", "visitor `id` (32 hex digits)")
		user := fs.String("user", "", "user `id`: every visitor stitched to it by identify")
		limit := fs.Int("limit", 1000, "most `touchpoints` to print")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			return printTrail(stdout, *base, *token, *site, *visitor, *user, *limit)
		}
	},
}

// printTrail prints a visitor's or a user's trail as a table.
func printTrail(w io.Writer, base, token, site, visitor, user string, limit int) error {
	c, err := newAPIClient(base, token)
	if err != nil {
		return err
	}
	var out struct {
		Touchpoints []trailTouchpoint `json:"touchpoints"`
	}
	switch {
	case visitor != "":
		err = c.get(fmt.Sprintf("/v1/sites/%s/visitors/%s/trail?limit=%d", url.PathEscape(site), url.PathEscape(visitor), limit), &out)
	case user != "":
		err = c.get(fmt.Sprintf("/v1/sites/%s/users/%s/trail", url.PathEscape(site), url.PathEscape(user)), &out)
	default:
		return usagef("pass -visitor or -user")
	}
	if err != nil {
		return err
	}
	tw := newTable(w, false)
	fmt.Fprintln(tw, "TIME (UTC)\tTYPE\tWHAT\tDEVICE\tWHERE\tCHANNEL")
	for _, tp := range out.Touchpoints {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", tp.Time.UTC().Format("2006-01-02 15:04:05"), tp.Type, tp.what(),
			cell(join(" ", tp.Device, tp.Browser, tp.OS)), cell(join(", ", tp.City, tp.Country)), tp.Channel)
	}
	return tw.Flush()
}

// what is the one-line summary of a touchpoint.
func (tp trailTouchpoint) what() string {
	switch tp.Type {
	case "search":
		if tp.Results != nil {
			return cell(fmt.Sprintf("%q", tp.Query)) + " → " + count(*tp.Results, "result")
		}
		return cell(fmt.Sprintf("%q", tp.Query))
	case "chat_open":
		return "chat " + cell(tp.Widget)
	case "checkout_step":
		s := fmt.Sprintf("step %d %s", tp.Step, cell(tp.Name))
		if tp.Value > 0 {
			s += fmt.Sprintf(" %.2f %s", tp.Value, cell(tp.Currency))
		}
		return s
	case "feedback":
		return fmt.Sprintf("score %d/%d", tp.Score, tp.Scale)
	case "identify":
		return "user " + cell(tp.User)
	case "custom":
		return cell(tp.Name)
	case "ticket":
		s := join(" ", "ticket "+cell(tp.Ticket), tp.Status, tp.TicketChannel)
		if tp.Subject != "" {
			s += " " + cell(fmt.Sprintf("%q", tp.Subject))
		}
		if tp.Scale > 0 {
			s += fmt.Sprintf(" score %d/%d", tp.Score, tp.Scale)
		}
		return s
	}
	return urlCell(tp.URL)
}

func join(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
