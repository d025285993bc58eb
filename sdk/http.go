package sdk

import (
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// CookieName is the first-party cookie in which the snippet keeps the
// visitor id.
const CookieName = "tt_v"

// VisitorID returns the snippet's visitor id from r's first-party cookie
// (CookieName) in lower case, or "" when there is none or its value is not
// 32 hex characters (or all zeros). Pass it to the typed helpers to put a
// server-side touchpoint in the browser visitor's trail. It is safe for
// concurrent use.
func VisitorID(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil || len(c.Value) != 32 {
		return ""
	}
	var id [16]byte
	if _, err := hex.Decode(id[:], []byte(c.Value)); err != nil || id == ([16]byte{}) {
		return ""
	}
	return strings.ToLower(c.Value)
}

// MiddlewareOptions tune Middleware. The zero value is the default.
type MiddlewareOptions struct {
	// Methods are the request methods that may be page views.
	// Default: GET.
	Methods []string
	// SkipExtensions are path extensions (lower case, with the dot) that
	// are never page views. Default: DefaultSkipExtensions.
	SkipExtensions []string
	// Skip, when set, is asked first: true skips the request (health
	// checks, admin pages, …).
	Skip func(r *http.Request) bool
	// ClientIPHeader names the header trusted proxies append the client
	// address to, e.g. "X-Forwarded-For". The client is its rightmost
	// address that is not a trusted proxy; a request whose peer
	// (r.RemoteAddr) is not a trusted proxy keeps its peer: whatever a
	// client writes into the header itself is never believed. Default: ""
	// (r.RemoteAddr).
	ClientIPHeader string
	// TrustedProxies are the networks of the proxies in front of the
	// backend. Default: loopback and private networks (127.0.0.0/8, ::1,
	// 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7).
	TrustedProxies []netip.Prefix
	// Visitor returns the visitor id of a request without the snippet's
	// cookie (a session id, a user id of your own: any string up to 128
	// bytes, hashed); "" skips the page view. Default: nil (skip).
	Visitor func(r *http.Request) string
}

// DefaultSkipExtensions are the static-asset extensions Middleware skips
// unless MiddlewareOptions.SkipExtensions says otherwise.
var DefaultSkipExtensions = []string{".css", ".js", ".mjs", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico",
	".webp", ".avif", ".woff", ".woff2", ".ttf", ".otf", ".txt", ".xml", ".json", ".pdf", ".zip", ".mp4", ".webm"}

// Middleware returns a handler that calls next and records a page view
// when next answers a GET (see MiddlewareOptions.Methods) with an HTML page:
// Content-Type text/html and a 2xx status, or 304. Redirects, errors and
// static assets (by extension) are skipped. The page view carries the
// snippet's visitor id from its cookie (no cookie: skipped, unless
// MiddlewareOptions.Visitor gives one), the URL, the referrer and, as
// trusted fields, the client's IP and user agent, so that device and geo
// match the browser's own touchpoints; its time is the request's arrival.
// Pages that also run the snippet record their view twice (once here,
// once in the browser): skip them with MiddlewareOptions.Skip. At most
// one MiddlewareOptions is used; c must not be nil.
func Middleware(c *Client, next http.Handler, opts ...MiddlewareOptions) http.Handler {
	var o MiddlewareOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.SkipExtensions == nil {
		o.SkipExtensions = DefaultSkipExtensions
	}
	if o.Methods == nil {
		o.Methods = []string{http.MethodGet}
	}
	if o.TrustedProxies == nil {
		o.TrustedProxies = defaultTrustedProxies
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(o.Methods, r.Method) || hasExt(r.URL.Path, o.SkipExtensions) || (o.Skip != nil && o.Skip(r)) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if !(rec.status >= 200 && rec.status < 300 || rec.status == http.StatusNotModified) ||
			!strings.HasPrefix(rec.contentType(), "text/html") {
			return
		}
		v := VisitorID(r)
		if v == "" && o.Visitor != nil {
			v = o.Visitor(r)
		}
		if v == "" {
			return
		}
		id, err := event.ParseVisitor(v)
		if err != nil {
			return
		}
		_ = c.Track(Event{Type: event.TypePageview, Visitor: id, TS: start.UnixMicro(), URL: requestURL(r),
			Referrer: r.Referer(), ClientIP: clientIP(r, o.ClientIPHeader, o.TrustedProxies), UserAgent: r.UserAgent(), Results: -1})
	})
}

func hasExt(p string, exts []string) bool {
	ext := path.Ext(p)
	return ext != "" && slices.ContainsFunc(exts, func(e string) bool { return strings.EqualFold(ext, e) })
}

func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

var defaultTrustedProxies = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fc00::/7"),
}

// clientIP is the peer, or, when the peer is a trusted proxy, the
// rightmost hop of header that is not one (a malformed hop ends the walk
// at the nearest trusted one).
func clientIP(r *http.Request, header string, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	client, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	client = client.Unmap()
	trusts := func(a netip.Addr) bool {
		return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	if header == "" || !trusts(client) {
		return client
	}
	lines := r.Header.Values(header)
	for i := len(lines) - 1; i >= 0; i-- {
		hops := strings.Split(lines[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil || a.Zone() != "" {
				return client
			}
			client = a.Unmap()
			if !trusts(client) {
				return client
			}
		}
	}
	return client
}

// statusRecorder notes the status and content type a handler answers with.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	wrote   bool
	sniffed string // content type of the first bytes, when the handler set none
}

func (s *statusRecorder) contentType() string {
	if ct := s.Header().Get("Content-Type"); ct != "" {
		return ct
	}
	return s.sniffed
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote && s.Header().Get("Content-Type") == "" {
		s.sniffed = http.DetectContentType(b)
	}
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Flush implements http.Flusher when the underlying writer does (streamed
// pages): a flush before any write sends a 200.
func (s *statusRecorder) Flush() {
	s.wrote = true
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
