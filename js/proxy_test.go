package js_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// The reverse-proxy configurations of the README, as written, in front of a
// real collector: a page loaded through the proxy in headless Chromium
// sends its page view and its engagement report to the first-party
// endpoint, and what is stored derives from the browser's address (::1),
// not the proxy's (127.0.0.1, the only trusted proxy).
func TestReverseProxiesOfTheREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, lang, pkg string
		start           func(t *testing.T, conf string, dir string) *exec.Cmd
	}{
		{"nginx", "nginx", "nginx", startNginx},
		{"caddy", "caddyfile", "caddy", startCaddy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := needTool(t, tc.name, tc.pkg)
			m := regexp.MustCompile("(?s)```" + tc.lang + "\n(.*?)```").FindSubmatch(readme)
			if m == nil {
				t.Fatalf("README.md has no ```%s block", tc.lang)
			}
			proxyThrough(t, tc.name, string(m[1]), bin, tc.start)
		})
	}
}

func proxyThrough(t *testing.T, name, conf, bin string, start func(t *testing.T, conf, bin string) *exec.Cmd) {
	geo := filepath.Join(t.TempDir(), "city.mmdb")
	geotest.WriteCityDB(t, geo, map[string]geotest.City{
		"::1/128":      {Country: "GB", Region: "ENG", City: "London"}, // the browser
		"127.0.0.1/32": {Country: "DE", Region: "BE", City: "Berlin"},  // the proxy
	})
	col := collectortest.Start(t, collectortest.Options{GeoDB: geo, Config: func(c *collector.Config) {
		c.SnippetPath, c.IngestPath = "/assets/app.js", "/api/e"
		c.ProxyHeader, c.TrustedProxies = "X-Forwarded-For", []string{"127.0.0.1"}
	}})
	root := t.TempDir()
	page := func(title, body string) string {
		return `<!doctype html><html><head><title>` + title + `</title>
<script defer src="/assets/t-engage.js"></script>
<script defer data-site="test" data-mode="cookieless" src="/assets/app.js"></script>
</head><body style="margin:0">` + body + `</body></html>`
	}
	write := func(name, html string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(html), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index.html", page("Shop", `<a id="faq" href="/faq.html">FAQ</a>`))
	write("faq.html", page("FAQ", `<p id="answer">Returns within 30 days.</p>`))
	os.Chmod(root, 0o755)

	port := freePort(t)
	site := fmt.Sprintf("[::1]:%d", port)
	replace := func(old, new string) {
		t.Helper()
		if n := strings.Count(conf, old); n != 1 {
			t.Fatalf("the README's %s block holds %q %d times, want once", name, old, n)
		}
		conf = strings.Replace(conf, old, new, 1)
	}
	replace("127.0.0.1:8080", col.Addr)
	replace("/var/www/shop", root)
	if name == "nginx" {
		replace("listen 80;", "listen "+site+";")
	} else {
		replace("shop.example {", "http://"+site+" {")
	}
	cmd := start(t, conf, bin)
	waitListening(t, site, cmd)

	tab, cancel := browser(t)
	defer cancel()
	do(t, tab, chromedp.Navigate("http://"+site+"/"), chromedp.WaitVisible("#faq"), chromedp.Sleep(300*time.Millisecond),
		chromedp.Click("#faq"), chromedp.WaitVisible("#answer"), chromedp.Sleep(300*time.Millisecond))

	// The browser's visitor: cookieless, so derived from its address.
	var visitor string
	var trail []map[string]any
	var visitors []string
	if !testwait.Until(10*time.Second, func() bool {
		if visitors = listVisitors(t, col); len(visitors) != 1 {
			return false
		}
		visitor = visitors[0]
		trail = trailOf(t, col, visitor)
		return len(trail) >= 3
	}) {
		t.Fatalf("through %s: visitors %v, trail %v; proxy log:\n%s", name, visitors, trail, logOf(cmd))
	}
	var got []string
	for _, tp := range trail {
		got = append(got, fmt.Sprint(tp["type"], " ", tp["url"]))
		if tp["country"] != "GB" || tp["city"] != "London" {
			t.Errorf("%s %s: geo %v %v, want GB London (the browser's ::1, not the proxy's 127.0.0.1)", tp["type"], tp["url"], tp["country"], tp["city"])
		}
		if tp["browser"] != "Chrome" || tp["bot"] == true {
			t.Errorf("%v: browser %v bot %v", tp["type"], tp["browser"], tp["bot"])
		}
	}
	base := "http://" + site
	want := []string{"pageview " + base + "/", "engagement " + base + "/", "pageview " + base + "/faq.html"}
	if strings.Join(got[:3], "\n") != strings.Join(want, "\n") {
		t.Errorf("trail through %s:\n%s\nwant it to start:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The same address and user agent, told by the trusted proxy, is the
	// same visitor; the proxy's own address is another one.
	post := func(id, xff string) {
		t.Helper()
		body := fmt.Sprintf(`{"site":"test","cookieless":true,"events":[{"id":%q,"type":"pageview","url":"%s/direct"}]}`, id, base)
		req, _ := http.NewRequest("POST", col.URL+"/api/e", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("User-Agent", visitorUA)
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("direct post: %d", resp.StatusCode)
		}
	}
	post("direct-1", "203.0.113.9, ::1") // a spoofed first hop, then the browser's address
	if n := len(trailOf(t, col, visitor)); n != len(trail)+1 {
		t.Errorf("the browser's address made another visitor: %d touchpoints for %s, want %d", n, visitor, len(trail)+1)
	}
	post("direct-2", "127.0.0.1")
	if v := listVisitors(t, col); len(v) != 2 {
		t.Errorf("visitors %v: the proxy's own address must be another visitor", v)
	}
}

// needTool returns the path of a tool, installing its Debian package when
// missing (as root), or fails the test loudly.
func needTool(t *testing.T, tool, pkg string) string {
	t.Helper()
	find := func() string {
		if p, err := exec.LookPath(tool); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
			if p := filepath.Join(dir, tool); fileExists(p) {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	if os.Geteuid() != 0 {
		t.Fatalf("this test needs %s: apt-get install -y %s (as root, make test does it)", tool, pkg)
	}
	aptOnce.Do(func() { exec.Command("apt-get", "update", "-qq").Run() })
	cmd := exec.Command("apt-get", "install", "-y", "-qq", pkg)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("this test needs %s; apt-get install -y %s failed: %v\n%s", tool, pkg, err, out)
	}
	if p := find(); p != "" {
		return p
	}
	t.Fatalf("%s installed, but no %s found", pkg, tool)
	return ""
}

var aptOnce sync.Once

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startNginx runs nginx in the foreground with the README's server block
// inside a minimal http block of its own (logs, pid and temporary files in
// a temporary directory).
func startNginx(t *testing.T, server, bin string) *exec.Cmd {
	dir := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the temporary directories are root's
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
error_log %[2]s/error.log info;
pid %[2]s/nginx.pid;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
%[3]s
}
`, user, dir, server)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return startProcess(t, exec.Command(bin, "-p", dir, "-c", path, "-g", "daemon off;"), filepath.Join(dir, "error.log"))
}

// startCaddy runs caddy with the README's site block, its admin endpoint
// off and its state in a temporary directory.
func startCaddy(t *testing.T, site, bin string) *exec.Cmd {
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte("{\n\tadmin off\n\tauto_https off\n}\n\n"+site), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	return startProcess(t, cmd, "")
}

// startProcess starts cmd, and stops it (that process only) when the test
// ends. Its output is kept for failure messages.
func startProcess(t *testing.T, cmd *exec.Cmd, logFile string) *exec.Cmd {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	logs[cmd] = func() string {
		s := out.String()
		if logFile != "" {
			b, _ := os.ReadFile(logFile)
			s += string(b)
		}
		return s
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return cmd
}

var logs = map[*exec.Cmd]func() string{}

func logOf(cmd *exec.Cmd) string { return logs[cmd]() }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatalf("this test needs IPv6 on loopback: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, addr string, cmd *exec.Cmd) {
	t.Helper()
	if !testwait.Until(10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil || cmd.ProcessState != nil
	}) || cmd.ProcessState != nil {
		t.Fatalf("%s does not listen on %s:\n%s", cmd.Path, addr, logOf(cmd))
	}
}

func listVisitors(t *testing.T, col *collectortest.Collector) []string {
	t.Helper()
	page, err := col.Store.Visitors(context.Background(), "test", store.VisitorQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, v := range page.Visitors {
		if !slices.Contains(vs, v.Visitor.String()) {
			vs = append(vs, v.Visitor.String())
		}
	}
	return vs
}

// trailOf is the visitor's trail as the query API answers it.
func trailOf(t *testing.T, col *collectortest.Collector, visitor string) []map[string]any {
	t.Helper()
	return trail(t, col, visitor, 0)
}
