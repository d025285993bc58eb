package sdk

import (
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strings"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// CookieName is the first-party cookie in which the snippet keeps the
// visitor id.
const CookieName = "tt_v"

// VisitorID returns the snippet's visitor id from r's first-party cookie,
// or "" when there is none (or it is not 32 hex characters).
func VisitorID(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil || len(c.Value) != 32 {
		return ""
	}
	if _, err := hex.DecodeString(c.Value); err != nil {
		return ""
	}
	return strings.ToLower(c.Value)
}

// MiddlewareOptions tune Middleware. The zero value is the default.
type MiddlewareOptions struct {
	// SkipExtensions are path extensions that are never page views.
	// Default: .css .js .mjs .map .png .jpg .jpeg .gif .svg .ico .webp .avif
	// .woff .woff2 .ttf .txt .xml .json.
	SkipExtensions []string
	// Skip, when set, is asked first: true skips the request.
	Skip func(r *http.Request) bool
	// ClientIPHeader names a header with the client IP set by a trusted
	// proxy (first address). Default: "" (r.RemoteAddr).
	ClientIPHeader string
	// Visitor returns the visitor of a request without the snippet's
	// cookie; "" skips the page view. Default: nil (skip).
	Visitor func(r *http.Request) string
}

var defaultSkip = []string{".css", ".js", ".mjs", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp",
	".avif", ".woff", ".woff2", ".ttf", ".txt", ".xml", ".json"}

// Middleware records a page view for every GET that next answers with an
// HTML page (status below 400), carrying the snippet's visitor id, the URL,
// the referrer and, as trusted fields, the client's IP and user agent so
// device and geo match the browser's own touchpoints.
func Middleware(c *Client, next http.Handler, opts ...MiddlewareOptions) http.Handler {
	var o MiddlewareOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.SkipExtensions == nil {
		o.SkipExtensions = defaultSkip
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || (o.Skip != nil && o.Skip(r)) || hasExt(r.URL.Path, o.SkipExtensions) {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.status >= 400 || !strings.HasPrefix(rec.contentType(), "text/html") {
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
		_ = c.Track(Event{Type: event.TypePageview, Visitor: id, URL: requestURL(r), Referrer: r.Referer(),
			ClientIP: clientIP(r, o.ClientIPHeader), UserAgent: r.UserAgent(), Results: -1})
	})
}

func hasExt(p string, exts []string) bool {
	ext := strings.ToLower(path.Ext(p))
	for _, e := range exts {
		if ext == e {
			return true
		}
	}
	return false
}

func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func clientIP(r *http.Request, header string) netip.Addr {
	if header != "" {
		first, _, _ := strings.Cut(r.Header.Get(header), ",")
		if a, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
			return a.Unmap()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// statusRecorder notes the status a handler answers with.
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

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
