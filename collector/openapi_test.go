package collector_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// The OpenAPI document, loaded and checked once for every test.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadSpec(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	spec.once.Do(func() {
		loader := openapi3.NewLoader()
		spec.doc, spec.err = loader.LoadFromData(collector.OpenAPI)
		if spec.err != nil {
			return
		}
		if spec.err = spec.doc.Validate(context.Background()); spec.err != nil {
			return
		}
		spec.router, spec.err = gorillamux.NewRouter(spec.doc)
		raw := func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(body)
			return string(b), err
		}
		for _, ct := range []string{"application/x-ndjson", "text/csv", "image/gif", "text/javascript", "application/octet-stream"} {
			openapi3filter.RegisterBodyDecoder(ct, raw)
		}
	})
	if spec.err != nil {
		t.Fatalf("openapi.json: %v", spec.err)
	}
	return spec.doc, spec.router
}

// firstPartyAliases are the first-party paths the tests configure
// (snippet_path and ingest_path in firstparty_test.go) and the documented
// routes they are aliases of.
var firstPartyAliases = map[string]string{
	"/assets/app.js": "/t.js", "/assets/t-chat.js": "/t-chat.js", "/assets/t-engage.js": "/t-engage.js",
	"/assets/t-checkout.js": "/t-checkout.js", "/api/e": "/v1/events",
}

// checkAgainstSpec validates one answer against the OpenAPI document: its route
// and method exist (or it is the 404 or 405 the document's error shape
// describes), its status is documented, its headers and JSON body match
// the schema. Every end-to-end request goes through it (client.do).
func checkAgainstSpec(t *testing.T, req *http.Request, a answer) {
	t.Helper()
	doc, router := loadSpec(t)
	if strings.HasPrefix(req.URL.Path, "/ui/") || req.URL.Path == "/ui" {
		return // HTML pages for people, outside the API's document
	}
	if req.URL.Path == "/" && req.Method != http.MethodPost && req.Method != http.MethodOptions {
		if a.status != http.StatusNotFound {
			t.Errorf("openapi: %s / answered %d, not the 404 the document says", req.Method, a.status)
		}
		return
	}
	if canonical, ok := firstPartyAliases[req.URL.Path]; ok {
		r := req.Clone(req.Context())
		r.URL.Path = canonical
		req = r
	}
	errorBody := func() {
		t.Helper()
		var v any
		if err := json.Unmarshal(a.body, &v); err != nil {
			t.Errorf("openapi: %s %s → %d: not JSON: %s", req.Method, req.URL.Path, a.status, a.body)
			return
		}
		if err := doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("openapi: %s %s → %d: not the Error shape: %v", req.Method, req.URL.Path, a.status, err)
		}
	}
	if a.header.Get("Content-Encoding") == "gzip" && len(a.body) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(a.body))
		if err != nil {
			t.Errorf("openapi: %s %s: Content-Encoding gzip, not gzip: %v", req.Method, req.URL.Path, err)
			return
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Errorf("openapi: %s %s: broken gzip: %v", req.Method, req.URL.Path, err)
			return
		}
		a.body = plain // the document describes the decoded body
	}
	route, params, err := router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") == "" {
			t.Errorf("openapi: %s %s is not in the document, and answered %d (Allow %q), not 405 with Allow", req.Method, req.URL.Path, a.status, a.header.Get("Allow"))
		}
		errorBody()
		return
	case errors.Is(err, routers.ErrPathNotFound):
		// Under /v1/sites/ the token is checked first: 401 or 403 before 404.
		authFirst := strings.HasPrefix(req.URL.Path, "/v1/sites/") && (a.status == http.StatusUnauthorized || a.status == http.StatusForbidden)
		if a.status != http.StatusNotFound && !authFirst {
			t.Errorf("openapi: %s %s is not in the document, and answered %d, not 404", req.Method, req.URL.Path, a.status)
		}
		errorBody()
		return
	case err != nil:
		t.Fatalf("openapi: route of %s %s: %v", req.Method, req.URL, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: a.status,
		Header: a.header,
		Body:   io.NopCloser(bytes.NewReader(a.body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if req.Method == http.MethodHead || a.status == http.StatusNotModified || a.status == http.StatusNoContent {
		in.Options.ExcludeResponseBody = true
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("openapi: %s %s → %d does not match the document: %v\n%.600s", req.Method, req.URL.RequestURI(), a.status, err, a.body)
	}
}

// The document is valid OpenAPI 3.1, served as committed, and has a path
// and method for every route of the query API (and no route it lacks).
func TestOpenAPIDocument(t *testing.T) {
	doc, _ := loadSpec(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	a := c.get("/v1/openapi.json", "")
	if a.status != 200 || !bytes.Equal(a.body, collector.OpenAPI) || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("/v1/openapi.json: %d %s", a.status, a.header.Get("Content-Type"))
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	for _, want := range collector.RouteList() {
		if !slices.Contains(documented, want) {
			t.Errorf("route %s is not in openapi.json", want)
		}
	}
	for _, d := range documented {
		if !slices.Contains(collector.RouteList(), d) {
			t.Errorf("openapi.json documents %s, which the collector does not route", d)
		}
	}
}

// 404 for an unknown visitor or user on every endpoint; 405 with Allow for
// a wrong method; all checked against the document by client.do.
func TestUnknownIDsAndWrongMethods(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	const unknown = "ffffffffffffffffffffffffffffffff"
	read := collectortest.ReadToken
	admin := map[string]string{"Authorization": "Bearer " + collectortest.AdminToken}
	for _, path := range []string{
		"/v1/sites/test/visitors/" + unknown + "/trail",
		"/v1/sites/test/visitors/" + unknown + "/trail?from=2026-01-01",
		"/v1/sites/test/visitors/" + unknown + "/journey",
		"/v1/sites/test/users/nobody/trail",
		"/v1/sites/test/users/nobody/journey",
	} {
		if a := c.get(path, read); a.status != http.StatusNotFound {
			t.Errorf("GET %s: %d %s, want 404", path, a.status, a.body)
		}
	}
	for _, path := range []string{"/v1/sites/test/visitors/" + unknown, "/v1/sites/test/users/nobody"} {
		if a := c.do(http.MethodDelete, path, nil, admin); a.status != http.StatusNotFound {
			t.Errorf("DELETE %s: %d %s, want 404", path, a.status, a.body)
		}
	}
	f := func(method, path, allow string) {
		t.Helper()
		a := c.do(method, path, nil, admin)
		if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", method, path, a.status, a.header.Get("Allow"), allow)
		}
	}
	f(http.MethodPost, "/v1/sites/test/visitors/"+unknown+"/trail", "GET, HEAD")
	f(http.MethodPut, "/v1/sites/test/visitors/"+unknown, "DELETE")
	f(http.MethodDelete, "/v1/sites/test/funnel", "GET, HEAD")
	f(http.MethodGet, "/v1/events", "POST, OPTIONS")
	f(http.MethodPost, "/v1/p.gif", "GET")
	f(http.MethodPost, "/t.js", "GET, HEAD")
	f(http.MethodPost, "/healthz", "GET, HEAD")
	f(http.MethodDelete, "/v1/openapi.json", "GET, HEAD")
	f(http.MethodPost, "/v1/backup", "GET")
	if a := c.get("/v1/backup", read); a.status != http.StatusForbidden {
		t.Errorf("backup with a read token: %d", a.status)
	}
	if a := c.get("/v1/backup", collectortest.AdminToken); a.status != http.StatusOK || len(a.body) == 0 {
		t.Errorf("backup with the admin token: %d, %d bytes", a.status, len(a.body))
	}
	if a := c.get("/v1/sites/test/nothing-here", read); a.status != http.StatusNotFound {
		t.Errorf("unknown path: %d", a.status)
	}
}
