package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
)

var eraseCmd = &command{
	name:    "erase",
	args:    "-visitor ID | -user ID [flags]",
	summary: "erase a visitor or a user for good (admin token)",
	help: `Erase every touchpoint and index entry of one visitor (-visitor) or of every
visitor stitched to a user (-user) from a running collector, as a right to
erasure asks; events of the erased visitors re-sent later are dropped.
Needs a token with the admin scope: -token, else TOUCHTRAIL_ADMIN_TOKEN
(make run saves one in data/demo.env), else TOUCHTRAIL_TOKEN.`,
	examples: `  touchtrail erase -token "$TOUCHTRAIL_ADMIN_TOKEN" -visitor 0123456789abcdef0123456789abcdef
  touchtrail erase -site shop -token tta_… -user u-42`,
	setup: func(fs *flag.FlagSet, stdout, stderr io.Writer) func([]string) error {
		base, token, site := clientFlags(fs)
		visitor := fs.String("visitor", "", "visitor `id` to erase")
		user := fs.String("user", "", "user `id` whose stitched visitors are erased")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if (*visitor == "") == (*user == "") {
				return usagef("pass one of -visitor or -user")
			}
			tok := *token
			fromEnv := tok == "" || tok == os.Getenv("TOUCHTRAIL_TOKEN") // not given with -token
			if admin := os.Getenv("TOUCHTRAIL_ADMIN_TOKEN"); admin != "" && fromEnv {
				tok = admin // erasing needs the admin scope: data/demo.env has both tokens
			}
			return erase(*base, tok, *site, *visitor, *user, stdout)
		}
	},
}

func erase(base, token, site, visitor, user string, stdout io.Writer) error {
	c, err := newAPIClient(base, token)
	if err != nil {
		return err
	}
	path := fmt.Sprintf("/v1/sites/%s/visitors/%s", url.PathEscape(site), url.PathEscape(visitor))
	what := "visitor " + visitor
	if user != "" {
		path = fmt.Sprintf("/v1/sites/%s/users/%s", url.PathEscape(site), url.PathEscape(user))
		what = "user " + user
	}
	resp, err := c.do(http.MethodDelete, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ans); err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	b, _ := json.Marshal(ans)
	fmt.Fprintf(stdout, "erased %s of site %s: %s\n", what, site, b)
	return nil
}
