package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"
)

// Sessions: signing in trades a query token for a random session id in an
// HttpOnly, SameSite=Strict cookie (Secure behind HTTPS). The token itself
// is checked once and never kept, shown or put in a URL. Sessions live in
// memory (a restart signs everyone out) for Config.SessionTTL.

const sessionCookie = "tt_session"

// session is a signed-in browser.
type session struct {
	id   Identity
	csrf string // the token every form of this session carries
}

// sessions holds the signed-in browsers; safe for concurrent use.
type sessions struct {
	lru *expirable.LRU[string, *session]
}

func newSessions(max int, ttl time.Duration) *sessions {
	return &sessions{lru: expirable.NewLRU[string, *session](max, nil, ttl)}
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// start makes a session for id and sets its cookie.
func (s *sessions) start(w http.ResponseWriter, r *http.Request, id Identity) {
	key := randomToken()
	s.lru.Add(key, &session{id: id, csrf: randomToken()})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: key, Path: "/ui/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r)})
}

// get returns the request's session, or nil.
func (s *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	ses, ok := s.lru.Get(c.Value)
	if !ok {
		return nil
	}
	return ses
}

// end forgets the request's session and expires its cookie.
func (s *sessions) end(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.lru.Remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/ui/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r)})
}

// checkCSRF reports whether a form post carries the session's CSRF token.
func (ses *session) checkCSRF(r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ses.csrf)) == 1
}

// sameOrigin reports whether a POST comes from a page of this host: the
// browser's Origin (or Sec-Fetch-Site) says so, or it sends neither.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// isHTTPS reports whether the browser reached us over HTTPS (directly or
// through a proxy that says so).
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// mayRead reports whether id may read site.
func (id Identity) mayRead(site string) bool {
	return len(id.Sites) == 0 || slices.Contains(id.Sites, site)
}

// signinLimits slows guessing: each client address may fail to sign in 10
// times in a row, then once every 6 seconds. Safe for concurrent use.
type signinLimits struct {
	lru *lru.Cache[string, *rate.Limiter]
}

func newSigninLimits() *signinLimits {
	c, _ := lru.New[string, *rate.Limiter](10_000)
	return &signinLimits{lru: c}
}

// allow reports whether addr may try to sign in now; failed consumes a
// try.
func (s *signinLimits) allow(addr string) bool {
	l, ok := s.lru.Get(addr)
	return !ok || l.Tokens() >= 1
}

func (s *signinLimits) failed(addr string) {
	l, ok := s.lru.Get(addr)
	if !ok {
		l = rate.NewLimiter(rate.Every(6*time.Second), 10)
		s.lru.Add(addr, l)
	}
	l.Allow()
}

// clientAddr is the request's peer address without the port.
func clientAddr(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
