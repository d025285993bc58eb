package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiClient talks to a running collector's query API.
type apiClient struct {
	base, token string
	http        *http.Client
}

// clientFlags adds -url, -token and -site (TOUCHTRAIL_URL, _TOKEN, _SITE).
func clientFlags(fs *flag.FlagSet) (base, token, site *string) {
	base = fs.String("url", "http://127.0.0.1:8080", "the collector's `URL`")
	token = fs.String("token", "", "query API `token` with the read scope (make run saves one in data/demo.env)")
	site = fs.String("site", "demo", "site `id`")
	return
}

func newAPIClient(base, token string) (*apiClient, error) {
	if token == "" {
		return nil, usagef("no token: pass -token or set TOUCHTRAIL_TOKEN (make run saves one in data/demo.env)")
	}
	return &apiClient{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{}}, nil
}

// do sends a request and returns a 2xx answer for the caller to read and
// close; any other answer becomes an error with the collector's message.
func (c *apiClient) do(method, path string) (*http.Response, error) {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the collector: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return nil, fmt.Errorf("%s: %s", resp.Status, e.Error)
	}
	return nil, fmt.Errorf("%s", resp.Status)
}

// get fetches path and decodes the JSON answer into out; an error answer
// becomes an error with its message.
func (c *apiClient) get(path string, out any) error {
	resp, err := c.do(http.MethodGet, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	return nil
}

// rangeFlags adds -from, -to and -segment.
func rangeFlags(fs *flag.FlagSet) (from, to, segment *string) {
	from = fs.String("from", time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly), "start of the range: `YYYY-MM-DD` or RFC 3339 (default: 7 days ago)")
	to = fs.String("to", time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly), "end of the range, exclusive: `YYYY-MM-DD` or RFC 3339 (default: tomorrow)")
	segment = fs.String("segment", "", "only `new`, returning or lapsed visitors")
	return
}

func rangeQuery(from, to, segment string) url.Values {
	q := url.Values{"from": {from}, "to": {to}}
	if segment != "" {
		q.Set("segment", segment)
	}
	return q
}
