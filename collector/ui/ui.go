package ui

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
	"github.com/touchtrail/touchtrail/pkg/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Identity is who a query token is: its name, whether it may erase
// (admin), and the sites it may read (empty: every site).
type Identity struct {
	Name  string
	Admin bool
	Sites []string
}

// Config tunes the UI. Zero values mean the defaults.
type Config struct {
	// SessionTTL is how long a sign-in lasts. Default: 12h.
	SessionTTL time.Duration
	// MaxSessions bounds the signed-in browsers kept (the oldest go
	// first). Default: 10000.
	MaxSessions int
	// Timeout bounds the work of one page. Default: 30s.
	Timeout time.Duration
	// MaxRange is the longest range a page may read. Default: 366 days.
	MaxRange time.Duration
}

// Deps are what the pages read: the collector wires them.
type Deps struct {
	Store   store.Store    // required
	Journey journey.Config // the journey model's rules, as the API's
	Sites   []string       // the configured site ids
	// Authenticate checks a query token (in constant time) and says who it
	// is; required.
	Authenticate func(token []byte) (Identity, bool)
	Log          *slog.Logger
	Now          func() time.Time // Default: time.Now
	// ScanSlot takes one of the collector's slots for a site-wide scan, or
	// refuses when all are taken (the page then answers 503); nil: no
	// limit.
	ScanSlot func() (release func(), err error)
	// CountError counts an error answer by status (the collector's
	// touchtrail_http_errors_total{route="ui"}); nil counts nothing.
	CountError func(status int)
}

// UI serves the journey-map pages under /ui/. It is safe for concurrent
// use.
type UI struct {
	cfg      Config
	d        Deps
	sessions *sessions
	limits   *signinLimits
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// New returns the UI.
func New(cfg Config, d Deps) (*UI, error) {
	if d.Store == nil || d.Authenticate == nil {
		return nil, errors.New("ui: needs a store and an authenticator")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 10_000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxRange <= 0 {
		cfg.MaxRange = 366 * 24 * time.Hour
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	d.Log = d.Log.With("module", "ui")
	if d.Now == nil {
		d.Now = time.Now
	}
	u := &UI{cfg: cfg, d: d, sessions: newSessions(cfg.MaxSessions, cfg.SessionTTL), limits: newSigninLimits(), pages: map[string]*template.Template{}}
	if err := u.parseTemplates(); err != nil {
		return nil, err
	}
	u.routes()
	return u, nil
}

func (u *UI) parseTemplates() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("ui templates: %w", err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("ui template %s: %w", n, err)
		}
		u.pages[base] = t
	}
	return nil
}

// Handler returns the handler of every /ui/ path.
func (u *UI) Handler() http.Handler { return http.HandlerFunc(u.serve) }

func (u *UI) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /ui/static/{file}", u.static)
	m.HandleFunc("GET /ui/signin", u.signinPage)
	m.HandleFunc("POST /ui/signin", u.signin)
	m.HandleFunc("POST /ui/signout", u.signout)
	m.HandleFunc("GET /ui/{$}", u.signedIn(u.home))
	m.HandleFunc("GET /ui/s/{site}/{$}", u.forSite(u.mapPage))
	m.HandleFunc("GET /ui/s/{site}/funnel", u.forSite(u.funnelPage))
	m.HandleFunc("GET /ui/s/{site}/paths", u.forSite(u.pathsPage))
	m.HandleFunc("GET /ui/s/{site}/friction", u.forSite(u.frictionPage))
	m.HandleFunc("GET /ui/s/{site}/visitors", u.forSite(u.visitorsPage))
	m.HandleFunc("GET /ui/s/{site}/visitors/{visitor}", u.forSite(u.visitorPage))
	m.HandleFunc("GET /ui/s/{site}/visitors/{visitor}/erase", u.forSite(u.eraseConfirm))
	m.HandleFunc("POST /ui/s/{site}/visitors/{visitor}/erase", u.forSite(u.erase))
	m.HandleFunc("GET /ui/s/{site}/user", u.forSite(u.userPage))
	m.HandleFunc("GET /ui/s/{site}/user/erase", u.forSite(u.eraseUserConfirm))
	m.HandleFunc("POST /ui/s/{site}/user/erase", u.forSite(u.eraseUser))
	u.mux = m
}

// csp allows nothing but this origin's style sheet, forms and images: no
// script at all.
const csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (u *UI) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if r.URL.Path == "/ui" {
		http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
		return
	}
	if _, pattern := u.mux.Handler(r); pattern == "" {
		if _, p := u.mux.Handler(withMethod(r, http.MethodGet)); p == "" && r.Method != http.MethodHead {
			u.fail(w, r, nil, errStatus(http.StatusNotFound, ""))
			return
		}
		// A known path with the wrong method: the mux answers 405.
	}
	u.mux.ServeHTTP(w, r) // (Handler does not set the path values)
}

func withMethod(r *http.Request, m string) *http.Request {
	r2 := *r
	r2.Method = m
	return &r2
}

// styleVersion names the style sheet's content: pages link it with
// ?v=styleVersion, so it may be cached for a year.
var styleVersion = func() string {
	b, err := staticFS.ReadFile("static/style.css")
	if err != nil {
		panic("BUG: no embedded style sheet: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}()

// static serves the style sheet, cached for a year when asked for by its
// version (as the pages do), else for five minutes.
func (u *UI) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || !strings.HasSuffix(name, ".css") {
		u.fail(w, r, nil, errStatus(http.StatusNotFound, ""))
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	if r.URL.Query().Get("v") == styleVersion {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=300")
	}
	u.write(w, r, b)
}

// Style is the style sheet's URL, with its version.
func (p *page) Style() string { return "/ui/static/style.css?v=" + styleVersion }

// statusError is an error that answers with a status.
type statusError struct {
	status int
	detail string
}

func (e *statusError) Error() string { return fmt.Sprintf("%d %s", e.status, e.detail) }

func errStatus(status int, detail string) error { return &statusError{status, detail} }

// page is what every template gets.
type page struct {
	L       *locale
	Title   string
	Nav     string // the current page: map, funnel, paths, friction, visitors
	Site    string
	Sites   []string
	Who     string
	CSRF    string
	Path    string // the current path and query without lang, for the switch
	Langs   []langLink
	Filter  *filter
	Notice  string
	Data    any
	Section string // the page's template
}

type langLink struct {
	Code, Name, Href string
	Current          bool
}

func (u *UI) newPage(w http.ResponseWriter, r *http.Request, ses *session, title string) *page {
	l := negotiate(w, r)
	p := &page{L: l, Title: title}
	if ses != nil {
		p.Who, p.CSRF = ses.id.Name, ses.csrf
		for _, s := range u.d.Sites {
			if ses.id.mayRead(s) {
				p.Sites = append(p.Sites, s)
			}
		}
	}
	q := r.URL.Query()
	q.Del("lang")
	for i, c := range langCodes {
		q.Set("lang", c)
		p.Langs = append(p.Langs, langLink{Code: c, Name: langNames[i], Href: r.URL.Path + "?" + q.Encode(), Current: l.lang == lang(i)})
	}
	return p
}

// render executes the page's template and writes it, gzipped when the
// browser accepts it.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t := u.pages[name]
	if t == nil {
		panic("BUG: no template " + name)
	}
	if p.Title == "" {
		p.Title = p.L.T(name + ".title")
	}
	p.Section = name
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		u.d.Log.Error("render", "page", name, "err", err)
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.L.Code())
	h.Set("Vary", "Accept-Encoding, Accept-Language, Cookie")
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	u.write(w, r, buf.Bytes())
}

// write sends b, gzipped when accepted and worth it.
func (u *UI) write(w http.ResponseWriter, r *http.Request, b []byte) {
	if len(b) < 1024 || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		_, _ = w.Write(b)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	zw, _ := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
}

// fail answers an error page: 400, 403, 404, or 500 (logged) for anything
// else. A storage timeout is a 503.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, ses *session, err error) {
	status, detail := http.StatusInternalServerError, ""
	var se *statusError
	switch {
	case errors.As(err, &se):
		status, detail = se.status, se.detail
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, store.ErrOverloaded), errors.Is(err, store.ErrClosed),
		errors.Is(err, errBusy):
		status = http.StatusServiceUnavailable
	case errors.Is(err, store.ErrInvalidKey):
		status, detail = http.StatusBadRequest, err.Error()
	case errors.Is(err, store.ErrUnavailable): // a cluster's partitions without a live store: the error names them
		status, detail = http.StatusServiceUnavailable, err.Error()
	default:
		u.d.Log.Error("page failed", "path", r.URL.Path, "err", err)
	}
	if u.d.CountError != nil {
		u.d.CountError(status)
	}
	p := u.newPage(w, r, ses, "")
	p.Title = p.L.T("err.title")
	switch status {
	case http.StatusBadRequest:
		p.Notice = p.L.T("err.400", detail)
	case http.StatusForbidden:
		p.Notice = p.L.T("err.403")
	case http.StatusNotFound:
		p.Notice = p.L.T("err.404")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
		p.Notice = p.L.T("err.503")
		if detail != "" {
			p.Notice = p.L.T("err.missing", detail)
		}
	default:
		p.Notice = p.L.T("err.500")
	}
	if ses != nil && r.PathValue("site") != "" && ses.id.mayRead(r.PathValue("site")) {
		p.Site = r.PathValue("site")
	}
	u.render(w, r, status, "error", p)
}

// signedIn runs h for a signed-in browser; others go to the sign-in page.
func (u *UI) signedIn(h func(w http.ResponseWriter, r *http.Request, ses *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ses := u.sessions.get(r)
		if ses == nil {
			next := r.URL.RequestURI()
			http.Redirect(w, r, "/ui/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		h(w, r, ses)
	}
}

// forSite runs h for a signed-in browser whose token may read the site.
func (u *UI) forSite(h func(w http.ResponseWriter, r *http.Request, ses *session, p *page)) http.HandlerFunc {
	return u.signedIn(func(w http.ResponseWriter, r *http.Request, ses *session) {
		site := r.PathValue("site")
		if !slices.Contains(u.d.Sites, site) {
			u.fail(w, r, ses, errStatus(http.StatusNotFound, ""))
			return
		}
		if !ses.id.mayRead(site) {
			u.fail(w, r, ses, errStatus(http.StatusForbidden, ""))
			return
		}
		p := u.newPage(w, r, ses, "")
		p.Site = site
		h(w, r, ses, p)
	})
}

// home sends a browser to its only site's map, or lists its sites.
func (u *UI) home(w http.ResponseWriter, r *http.Request, ses *session) {
	p := u.newPage(w, r, ses, "")
	if len(p.Sites) == 1 {
		http.Redirect(w, r, "/ui/s/"+p.Sites[0]+"/", http.StatusSeeOther)
		return
	}
	p.Title = p.L.T("sites")
	u.render(w, r, http.StatusOK, "sites", p)
}

func (u *UI) signinPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, nil, "")
	p.Data = safeNext(r.URL.Query().Get("next"))
	if r.URL.Query().Has("out") {
		p.Notice = p.L.T("signin.out")
	}
	u.render(w, r, http.StatusOK, "signin", p)
}

func (u *UI) signin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		u.fail(w, r, nil, errStatus(http.StatusForbidden, ""))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	addr := clientAddr(r)
	if !u.limits.allow(addr) {
		if u.d.CountError != nil {
			u.d.CountError(http.StatusTooManyRequests)
		}
		w.Header().Set("Retry-After", "6")
		p := u.newPage(w, r, nil, "")
		p.Notice = p.L.T("signin.slow")
		p.Data = safeNext(r.PostFormValue("next"))
		u.render(w, r, http.StatusTooManyRequests, "signin", p)
		return
	}
	id, ok := u.d.Authenticate([]byte(strings.TrimSpace(r.PostFormValue("token"))))
	if !ok {
		u.limits.failed(addr)
		if u.d.CountError != nil {
			u.d.CountError(http.StatusUnauthorized)
		}
		p := u.newPage(w, r, nil, "")
		p.Notice = p.L.T("signin.wrong")
		p.Data = safeNext(r.PostFormValue("next"))
		u.render(w, r, http.StatusUnauthorized, "signin", p)
		return
	}
	u.sessions.start(w, r, id)
	u.d.Log.Info("signed in", "token", id.Name)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (u *UI) signout(w http.ResponseWriter, r *http.Request) {
	ses := u.sessions.get(r)
	if ses == nil || !sameOrigin(r) || !ses.checkCSRF(r) {
		u.fail(w, r, ses, errStatus(http.StatusForbidden, ""))
		return
	}
	u.sessions.end(w, r)
	http.Redirect(w, r, "/ui/signin?out", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in target only when it is a UI path.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "/ui//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, "/ui/signin") {
		return "/ui/"
	}
	return next
}
