package compat_test

// The compatibility APIs against the real client libraries, unmodified and
// pointed at touchtrail by URL only: @segment/analytics-node,
// @rudderstack/rudder-sdk-node and posthog-node run by node,
// github.com/posthog/posthog-go in process, plausible-tracker and Umami's
// tracker script in headless Chromium. Each sends a journey to a real
// collector (fasthttp on loopback, a real Badger directory), and the test
// reads the trail back through the query API.

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/event"
)

// Site keys of the test site besides its write key.
const (
	umamiWebsite  = "5f1c8c43-1d0b-4b7a-9d7e-2b8c7a3e2f10"
	posthogPublic = "phc_public_0123456789"
	chromeUA      = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)

// umamiVersion is the npm package whose tracker script the browser test
// loads as it is published (src/tracker/index.js, a plain IIFE).
const umamiVersion = "2.10.0"

// start runs a collector with every compatibility API on.
func start(t testing.TB, mod func(*collector.Config)) *collectortest.Collector {
	t.Helper()
	return collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.Compat = collector.CompatConfig{Segment: true, PostHog: true, Plausible: true, Umami: true}
		c.Sites[0].Domains = []string{"shop.example"}
		c.Sites[0].UmamiWebsites = []string{umamiWebsite}
		c.Sites[0].PostHogKeys = []string{posthogPublic}
		if mod != nil {
			mod(c)
		}
	}})
}

var (
	clientsOnce sync.Once
	clientsErr  error
)

// clientsDir installs the npm client libraries of testdata/clients (their
// package-lock.json) and Umami's tracker once, and returns the folder. A
// machine without node or npm, or without access to the packages, fails
// the test loudly.
func clientsDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "clients"))
	if err != nil {
		t.Fatal(err)
	}
	clientsOnce.Do(func() { clientsErr = installClients(dir) })
	if clientsErr != nil {
		t.Fatalf("the client-library tests need node and npm (make test installs nothing else for them): %v", clientsErr)
	}
	return dir
}

func installClients(dir string) error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	// npm ci writes node_modules/.package-lock.json: when it is newer than
	// the lock, the installed tree is the locked one.
	if st, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil || st.ModTime().Before(lock.ModTime()) {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	tracker := filepath.Join(dir, "vendor", "umami-"+umamiVersion+".js")
	if _, err := os.Stat(tracker); err == nil {
		return nil
	}
	// The umami package is the whole application: fetch its tarball only
	// (npm pack checks its integrity) and take the tracker out of it.
	vendor := filepath.Dir(tracker)
	if err := os.MkdirAll(vendor, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("npm", "pack", "--silent", "umami@"+umamiVersion, "--pack-destination", vendor)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("npm pack umami@%s: %w", umamiVersion, err)
	}
	tgz := filepath.Join(vendor, strings.TrimSpace(string(out)))
	defer os.Remove(tgz)
	src, err := untarFile(tgz, "package/src/tracker/index.js")
	if err != nil {
		return fmt.Errorf("umami tracker from %s: %w", tgz, err)
	}
	return os.WriteFile(tracker, src, 0o644)
}

func untarFile(tgz, name string) ([]byte, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%s not in the package: %w", name, err)
		}
		if h.Name == name {
			return io.ReadAll(tr)
		}
	}
}

// runJourney runs testdata/clients/journey.js with lib against url.
func runJourney(t *testing.T, lib, url, key, anon, user string, base time.Time) {
	t.Helper()
	dir := clientsDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "journey.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LIB="+lib, "HOST="+url, "KEY="+key, "ANON="+anon, "USER="+user,
		"BASE="+strconv.FormatInt(base.UnixMilli(), 10))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node journey.js (%s): %v\n%s", lib, err, out)
	}
}

type userTrail struct {
	Visitors    []string         `json:"visitors"`
	Touchpoints []map[string]any `json:"touchpoints"`
}

// getJSON GETs path with the read token into v and returns the status.
func getJSON(t *testing.T, col *collectortest.Collector, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", col.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+collectortest.ReadToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// trailOfUser polls the user's stitched trail until it holds n touchpoints
// or a few seconds pass.
func trailOfUser(t *testing.T, col *collectortest.Collector, user string, n int) userTrail {
	t.Helper()
	var tr userTrail
	testwait.Until(8*time.Second, func() bool {
		tr = userTrail{}
		st := getJSON(t, col, "/v1/sites/test/users/"+user+"/trail", &tr)
		return st == http.StatusOK && len(tr.Touchpoints) >= n
	}) // the caller checks what arrived
	return tr
}

func summary(tps []map[string]any) string {
	var s []string
	for _, tp := range tps {
		x := fmt.Sprint(tp["type"])
		for _, k := range []string{"url", "name", "query", "widget", "step", "value", "currency", "user"} {
			if v, ok := tp[k]; ok {
				x += fmt.Sprintf(" %s=%v", k, v)
			}
		}
		s = append(s, x)
	}
	return strings.Join(s, "\n")
}

func hexVisitor(s string) string {
	v, err := event.ParseVisitor(s)
	if err != nil {
		panic(err)
	}
	return v.String()
}

// checkJourney checks the stitched trail of the journey journey.js sends:
// a page view as anon, identify (one or two: each visitor linked to the
// user), a search, checkout steps 1, 2 and 3 (the order), a live chat.
func checkJourney(t *testing.T, tr userTrail, anon, user string, identifies int) {
	t.Helper()
	want := []string{"pageview"}
	for range identifies {
		want = append(want, "identify")
	}
	want = append(want, "search", "checkout_step", "checkout_step", "checkout_step", "chat_open")
	var got []string
	for _, tp := range tr.Touchpoints {
		got = append(got, fmt.Sprint(tp["type"]))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("trail types\n got %v\nwant %v\n%s", got, want, summary(tr.Touchpoints))
	}
	if !containsAll(tr.Visitors, hexVisitor(anon), hexVisitor(user)) {
		t.Errorf("user %s stitches visitors %v, want the anonymous one %s and the user's own %s", user, tr.Visitors, hexVisitor(anon), hexVisitor(user))
	}
	tps := tr.Touchpoints
	if u, _ := tps[0]["url"].(string); !strings.HasPrefix(u, "https://shop.example/pricing") || tps[0]["channel"] != "email" || tps[0]["utm_source"] != "news" {
		t.Errorf("page view: %v", tps[0])
	}
	for _, tp := range tps[1 : 1+identifies] {
		if tp["user"] != user {
			t.Errorf("identify: %v, want user %s", tp, user)
		}
	}
	i := 1 + identifies
	if tps[i]["query"] != "returns policy" {
		t.Errorf("search: %v", tps[i])
	}
	for k, step := range []float64{1, 2, 3} {
		tp := tps[i+1+k]
		if tp["step"] != step {
			t.Errorf("checkout step %d: %v", k+1, tp)
		}
		if step != 2 && (tp["value"] != 49.5 || tp["currency"] != "EUR") {
			t.Errorf("checkout step %v: value %v %v, want 49.5 EUR", step, tp["value"], tp["currency"])
		}
	}
	if tp := tps[i+4]; tp["widget"] != "live_chat" {
		t.Errorf("chat: %v", tp)
	}
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, x := range list {
			found = found || x == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestSegmentAnalyticsNode(t *testing.T) {
	col := start(t, nil)
	runJourney(t, "segment", col.URL, collectortest.WriteKey, "anon-seg-1", "u-seg-1", time.Now().Add(-time.Minute))
	tr := trailOfUser(t, col, "u-seg-1", 8)
	checkJourney(t, tr, "anon-seg-1", "u-seg-1", 2)
	// context.userAgent of a trusted sender is the visitor's.
	if tp := tr.Touchpoints[0]; tp["browser"] != "Chrome" || tp["os"] != "Linux" {
		t.Errorf("page view enriched from context.userAgent: browser %v os %v", tp["browser"], tp["os"])
	}
}

func TestRudderStackNode(t *testing.T) {
	col := start(t, nil)
	// Through a proxy that fails the first batch: RudderStack retries too.
	f, proxy := retried(t, col, "/v1/batch")
	runJourney(t, "rudder", proxy, collectortest.WriteKey, "anon-rs-1", "u-rs-1", time.Now().Add(-time.Minute))
	checkJourney(t, trailOfUser(t, col, "u-rs-1", 8), "anon-rs-1", "u-rs-1", 2)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.encoding) < 3 || f.encoding[0] != "gzip" {
		t.Fatalf("rudder-sdk-node sent %d batches with Content-Encoding %q: want gzip and a retry", len(f.encoding), f.encoding)
	}
}

func TestPostHogNode(t *testing.T) {
	col := start(t, nil)
	// A backend's project key is one of the site's write keys: trusted.
	runJourney(t, "posthog", col.URL, collectortest.WriteKey, "anon-ph-1", "u-ph-1", time.Now())
	checkJourney(t, trailOfUser(t, col, "u-ph-1", 8), "anon-ph-1", "u-ph-1", 2)
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopBrowser()
	os.Exit(code)
}
