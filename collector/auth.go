package collector

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"slices"

	"github.com/valyala/fasthttp"
)

// secret is a credential kept only as its SHA-256, compared in constant time.
type secret [sha256.Size]byte

// tokenSet holds the query tokens.
type tokenSet struct {
	tokens []queryToken
}

type queryToken struct {
	name  string
	hash  secret
	admin bool
	read  bool
	sites []string // empty: all
}

func newTokenSet(ts []Token) *tokenSet {
	set := &tokenSet{}
	for _, t := range ts {
		qt := queryToken{name: t.Name, hash: sha256.Sum256([]byte(t.Secret)), sites: slices.Clone(t.Sites)}
		for _, sc := range t.Scopes {
			switch sc {
			case ScopeAdmin:
				qt.admin, qt.read = true, true
			case ScopeRead:
				qt.read = true
			}
		}
		set.tokens = append(set.tokens, qt)
	}
	return set
}

// bearer returns the token of an "Authorization: Bearer …" header, or nil.
func bearer(ctx *fasthttp.RequestCtx) []byte {
	h := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !bytes.EqualFold(h[:len(prefix)], []byte(prefix)) {
		return nil
	}
	return bytes.TrimSpace(h[len(prefix):])
}

// lookup finds the token presented. Every configured token is compared, in
// constant time, whatever matches, so timing says nothing about which.
func (s *tokenSet) lookup(presented []byte) *queryToken {
	if len(presented) == 0 {
		return nil
	}
	h := sha256.Sum256(presented)
	var found *queryToken
	for i := range s.tokens {
		if subtle.ConstantTimeCompare(h[:], s.tokens[i].hash[:]) == 1 {
			found = &s.tokens[i]
		}
	}
	return found
}

// authorize checks that the request carries a token allowed to do scope on
// site ("" for no particular site): 401 without a valid token, 403 when it
// may not.
func (s *Server) authorize(ctx *fasthttp.RequestCtx, site string, scope Scope) (*queryToken, error) {
	t := s.tokens.lookup(bearer(ctx))
	if t == nil {
		return nil, errUnauthorized
	}
	if scope == ScopeAdmin && !t.admin || scope == ScopeRead && !t.read {
		return nil, errStatus(fasthttp.StatusForbidden, "token %q lacks the %s scope", t.name, scope)
	}
	if site != "" && len(t.sites) > 0 && !slices.Contains(t.sites, site) {
		return nil, errStatus(fasthttp.StatusForbidden, "token %q may not read site %q", t.name, site)
	}
	return t, nil
}

// writeKeys maps each site to the hashes of its write keys.
type writeKeys map[string][]secret

// check reports whether key is a write key of site, in constant time over
// the site's keys.
func (w writeKeys) check(site string, key []byte) bool {
	h := sha256.Sum256(key)
	ok := 0
	for _, k := range w[site] {
		ok |= subtle.ConstantTimeCompare(h[:], k[:])
	}
	return ok == 1
}

// any reports whether key is a write key of some site, comparing with every
// key of every site in constant time. Admission uses it before the body
// (and so the site) is known; the site's own keys are checked after.
func (w writeKeys) any(key []byte) bool {
	if len(key) == 0 {
		return false
	}
	h := sha256.Sum256(key)
	ok := 0
	for _, keys := range w {
		for _, k := range keys {
			ok |= subtle.ConstantTimeCompare(h[:], k[:])
		}
	}
	return ok == 1
}
