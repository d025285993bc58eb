package enrich

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// The referrer-spam domains are Matomo's community list
// (github.com/matomo-org/referrer-spam-list, public domain), vendored in
// lists/referrer-spam.txt; `make lists` refreshes the copy.
//
//go:embed lists/referrer-spam.txt
var spamList []byte

// spamDomains is a set of referrer-spam domains: a referrer whose host is
// one of them, or a subdomain of one, is spam. Read-only once built: safe
// for concurrent use.
type spamDomains map[string]struct{}

// builtinSpam is the vendored list, read on first use.
var builtinSpam = sync.OnceValue(func() spamDomains {
	s := spamDomains{}
	sc := bufio.NewScanner(bytes.NewReader(spamList))
	for sc.Scan() {
		if d := normalizeDomain(sc.Text()); d != "" {
			s[d] = struct{}{}
		}
	}
	return s
})

// normalizeDomain lower-cases d and strips a leading "*." or "." and a
// trailing dot; "" for a blank line or a comment.
func normalizeDomain(d string) string {
	d = strings.TrimSpace(d)
	if d == "" || d[0] == '#' {
		return ""
	}
	d = strings.TrimPrefix(strings.TrimPrefix(d, "*"), ".")
	return strings.ToLower(strings.TrimSuffix(d, "."))
}

// newSpamDomains checks and normalizes a config's extra domains.
func newSpamDomains(domains []string) (spamDomains, error) {
	s := spamDomains{}
	for _, raw := range domains {
		d := normalizeDomain(raw)
		if d == "" || !strings.Contains(d, ".") || strings.ContainsAny(d, "/:@ ") {
			return nil, fmt.Errorf("referrer-spam domain %q: want a host name like spam.example", raw)
		}
		s[d] = struct{}{}
	}
	return s, nil
}

// has reports whether host (lower case) or one of its parent domains is in
// s. It does not allocate.
func (s spamDomains) has(host string) bool {
	for host != "" {
		if _, ok := s[host]; ok {
			return true
		}
		i := strings.IndexByte(host, '.')
		if i < 0 {
			return false
		}
		host = host[i+1:]
	}
	return false
}

// referrerHost returns the host of a referrer URL, lower-cased only when it
// is not already (so the common case does not allocate), without port,
// userinfo or a trailing dot; "" when there is none.
func referrerHost(ref string) string {
	i := strings.Index(ref, "//")
	if i < 0 {
		return ""
	}
	h := ref[i+2:]
	if j := strings.IndexAny(h, "/?#"); j >= 0 {
		h = h[:j]
	}
	if j := strings.LastIndexByte(h, '@'); j >= 0 {
		h = h[j+1:]
	}
	if j := strings.LastIndexByte(h, ':'); j >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:j]
	}
	h = strings.TrimSuffix(h, ".")
	for k := 0; k < len(h); k++ {
		if c := h[k]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}
