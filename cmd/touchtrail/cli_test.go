package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/internal/testwait"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestCommandList(t *testing.T) {
	for _, args := range [][]string{nil, {"-h"}, {"--help"}, {"help"}} {
		code, out, _ := runCLI(t, args...)
		if code != exitOK {
			t.Errorf("%q: exit %d", args, code)
		}
		for _, c := range commands {
			if !strings.Contains(out, "\n  "+c.name+" ") {
				t.Errorf("%q: command %s not listed:\n%s", args, c.name, out)
			}
		}
	}
	if code, _, errOut := runCLI(t, "teleport"); code != exitUsage || !strings.Contains(errOut, `unknown command "teleport"`) {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
	if code, out, _ := runCLI(t, "--version"); code != exitOK || !strings.HasPrefix(out, "touchtrail dev (go") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	if code, out, _ := runCLI(t, "version"); code != exitOK || !strings.HasPrefix(out, "touchtrail ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

// Every command's help has a description, examples and every flag with its
// default and its environment variable; -h prints the same.
func TestCommandHelp(t *testing.T) {
	for _, c := range commands {
		code, out, _ := runCLI(t, "help", c.name)
		if code != exitOK {
			t.Errorf("help %s: exit %d", c.name, code)
		}
		if !strings.Contains(out, "Usage: touchtrail "+c.name) || !strings.Contains(out, "Examples:\n") || len(c.help) < 40 {
			t.Errorf("help %s lacks usage, description or examples:\n%s", c.name, out)
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.setup(fs, io.Discard, io.Discard)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(out, "\n  -"+f.Name) || !strings.Contains(out, "env: "+envName(f.Name)+"\n") {
				t.Errorf("help %s: flag -%s or %s missing", c.name, f.Name, envName(f.Name))
			}
		})
		_, dash, _ := runCLI(t, c.name, "-h")
		if dash != out {
			t.Errorf("%s -h differs from help %s", c.name, c.name)
		}
	}
	_, out, _ := runCLI(t, "help", "serve")
	for _, want := range []string{"default: 9600h", "default: 30m", "default: 262144", "default: 10s", "env: TOUCHTRAIL_RETENTION"} {
		if !strings.Contains(out, want) {
			t.Errorf("help serve lacks %q", want)
		}
	}
	if strings.Contains(out, "0m0s") {
		t.Error("help serve shows a duration in Go's long form")
	}
}

func TestExitCodes(t *testing.T) {
	t.Setenv("TOUCHTRAIL_TOKEN", "")
	f := func(want int, args ...string) {
		t.Helper()
		if code, _, errOut := runCLI(t, args...); code != want {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, want, errOut)
		}
	}
	f(exitUsage, "serve", "-bogus")
	f(exitUsage, "trail", "-visitor", "x")                // no token
	f(exitUsage, "trail", "-token", "t-0123456789abcdef") // neither -visitor nor -user
	f(exitUsage, "funnel", "extra")
	f(exitUsage, "serve", "-data", t.TempDir()) // no sites
	f(exitUsage, "serve", "-demo", "-durability", "sometimes", "-data", t.TempDir())
	f(exitRuntime, "trail", "-token", "t-0123456789abcdef", "-visitor", "0123456789abcdef0123456789abcdef", "-url", "http://"+closedAddr(t))
}

func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestNoSitesSaysHowToAddOne(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.json")
	os.WriteFile(file, []byte(`{"collector":{"site":[{"id":"shop"}]}}`), 0o600) // the typo of the issue
	if _, _, err := loadServeConfig([]string{"-config", file, "-data", dir}); err == nil || !strings.Contains(err.Error(), `unknown field "site"`) {
		t.Errorf("typo in sites: %v", err)
	}
	_, _, err := loadServeConfig([]string{"-data", dir})
	if err == nil || !strings.Contains(err.Error(), "no sites configured") || !strings.Contains(err.Error(), "-demo") || !strings.Contains(err.Error(), `"sites"`) {
		t.Errorf("no sites: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.json")); err == nil {
		t.Error("demo credentials made without -demo")
	}
}

// The effective configuration is printed with the defaults applied, in
// human form, secrets masked.
func TestEffectiveConfigPrinted(t *testing.T) {
	dir := t.TempDir()
	secret := "the-admin-secret-0123456789"
	cfg, _, err := loadServeConfig([]string{"-data", dir, "-sites", `[{"id":"shop","write_keys":["write-key-0123456789abc"]}]`,
		"-tokens", `[{"name":"ops","secret":"` + secret + `","scopes":["admin"]}]`})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	printConfig(&buf, cfg)
	out := buf.String()
	for _, want := range []string{`"max_body_bytes": 262144`, `"rate_per_ip": 20`, `"session_gap": "30m"`, `"write_timeout": "10s"`, `"retention": "9600h"`, `"shutdown_timeout": "30s"`} {
		if !strings.Contains(out, want) {
			t.Errorf("effective config lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, "write-key-0123456789abc") {
		t.Errorf("a secret is printed:\n%s", out)
	}
}

// Every setting of the file has a flag and an environment variable, and each
// of the three reaches the effective config.
func TestEverySettingFromFlagEnvAndFile(t *testing.T) {
	settings := []struct{ flag, key, value, json string }{
		{"addr", "addr", "127.0.0.1:9999", `"127.0.0.1:9999"`},
		{"public-url", "public_url", "https://c.example", `"https://c.example"`},
		{"data", "data_dir", "", ""}, // set by every case
		{"geo-db", "geo_db", "/x.mmdb", `"/x.mmdb"`},
		{"durability", "durability", "async", `"async"`},
		{"retention", "retention", "720h", `"720h"`},
		{"keep-bots", "keep_bots", "true", `true`},
		{"ip-prefix", "ip_prefix", "true", `true`},
		{"cookieless", "cookieless", "false", `false`},
		{"log-level", "log_level", "debug", `"debug"`},
		{"log-format", "log_format", "json", `"json"`},
		{"demo", "demo", "true", `true`},
		{"demo-data", "demo_data", "true", `true`},
		{"shutdown-timeout", "shutdown_timeout", "5s", `"5s"`},
		{"memory-limit", "memory_limit", "600MiB", `"600MiB"`},
		{"sites", "collector.sites", `[{"id":"a"},{"id":"b"}]`, `[{"id":"a"},{"id":"b"}]`},
		{"tokens", "collector.tokens", `[{"name":"n","secret":"0123456789abcdef","scopes":["read"]}]`, `[{"name":"n","secret":"0123456789abcdef","scopes":["read"]}]`},
		{"max-body", "collector.max_body_bytes", "1000", `1000`},
		{"max-events", "collector.max_events", "7", `7`},
		{"rate-per-ip", "collector.rate_per_ip", "3.5", `3.5`},
		{"rate-burst", "collector.rate_burst", "9", `9`},
		{"rate-limited-ips", "collector.rate_limited_ips", "11", `11`},
		{"proxy-header", "collector.proxy_header", "X-Real-IP", `"X-Real-IP"`},
		{"respect-dnt", "collector.respect_dnt", "true", `true`},
		{"public-metrics", "collector.public_metrics", "true", `true`},
		{"write-timeout", "collector.write_timeout", "3s", `"3s"`},
		{"max-conns", "collector.max_conns", "300", `300`},
		{"max-refusal-rate", "collector.max_refusal_rate", "50", `50`},
		{"refusal-delay", "collector.refusal_delay", "250ms", `"250ms"`},
		{"max-ingest-bytes", "collector.max_ingest_bytes", "1000000", `1000000`},
		{"trusted-proxies", "collector.trusted_proxies", `["10.0.0.0/8"]`, `["10.0.0.0/8"]`},
		{"snippet-path", "collector.snippet_path", "/js/app.js", `"/js/app.js"`},
		{"ingest-path", "collector.ingest_path", "/api/ev", `"/api/ev"`},
		{"disable-ui", "collector.disable_ui", "true", `true`},
		{"header-timeout", "collector.header_timeout", "2s", `"2s"`},
		{"body-timeout", "collector.body_timeout", "20s", `"20s"`},
		{"query-timeout", "collector.query_timeout", "5s", `"5s"`},
		{"max-scans", "collector.max_scans", "2", `2`},
		{"default-range", "collector.default_range", "168h", `"168h"`},
		{"max-range", "collector.max_range", "2000h", `"2000h"`},
		{"max-conns-per-addr", "collector.max_conns_per_addr", "-1", `-1`},
		{"session-gap", "journey.session_gap", "45m", `"45m"`},
		{"stage-rules", "journey.stage_rules", `[{"pattern":"/docs*","stage":"use"}]`, `[{"pattern":"/docs*","stage":"use"}]`},
		{"self-service-window", "journey.self_service_window", "12h", `"12h"`},
		{"repeat-ticket-window", "journey.repeat_ticket_window", "72h", `"72h"`},
		{"compat", "collector.compat", `{"segment":true}`, `{"segment":true,"posthog":false,"plausible":false,"umami":false}`},
		{"nats", "cluster.nats", "nats://127.0.0.1:4222", `"nats://127.0.0.1:4222"`},
		{"role", "cluster.role", "store", `"store"`},
		{"node", "cluster.node", "st-1", `"st-1"`},
		{"partitions", "cluster.partitions", "0-7", `"0-7"`},
		{"stream-partitions", "cluster.stream_partitions", "16", `16`},
		{"stream-replicas", "cluster.stream_replicas", "3", `3`},
		{"stream-max-age", "cluster.stream_max_age", "48h", `"48h"`},
		{"stream-max-bytes", "cluster.stream_max_bytes", "1000000", `1000000`},
		{"ack-wait", "cluster.ack_wait", "20s", `"20s"`},
		{"ready-lag", "cluster.ready_lag", "50", `50`},
		{"member-ttl", "cluster.member_ttl", "30s", `"30s"`},
		{"replace-stage-rules", "journey.replace_stage_rules", "true", `true`},
		{"checkout-last-step", "journey.checkout_last_step", "4", `4`},
		{"low-feedback", "journey.low_feedback", "0.5", `0.5`},
		{"repeated-searches", "journey.repeated_searches", "5", `5`},
		{"lapsed-after", "journey.lapsed_after", "240h", `"240h"`},
	}
	// Every key of the config (by the struct's json tags, omitempty ones
	// too) is in the table.
	covered := map[string]bool{}
	for _, s := range settings {
		covered[s.key] = true
	}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if name == "collector" || name == "journey" || name == "cluster" {
				walk(name+".", f.Type)
				continue
			}
			if !covered[prefix+name] {
				t.Errorf("setting %s%s has no flag in this table", prefix, name)
			}
		}
	}
	walk("", reflect.TypeOf(serveConfig{}))
	get := func(cfg serveConfig, key string) string {
		b, _ := json.Marshal(cfg)
		var m map[string]json.RawMessage
		json.Unmarshal(b, &m)
		top, sub, nested := strings.Cut(key, ".")
		if !nested {
			return string(m[top])
		}
		var mm map[string]json.RawMessage
		json.Unmarshal(m[top], &mm)
		return string(mm[sub])
	}
	for _, s := range settings {
		if s.value == "" {
			continue
		}
		dir := t.TempDir()
		base := []string{"-data", dir, "-demo"}
		check := func(how string, args []string) {
			t.Helper()
			cfg, _, err := loadServeConfig(append(base, args...))
			if err != nil {
				t.Errorf("%s %s: %v", how, s.flag, err)
				return
			}
			if got := get(cfg, s.key); got != s.json {
				t.Errorf("%s %s: %s = %s, want %s", how, s.flag, s.key, got, s.json)
			}
		}
		check("flag", []string{"-" + s.flag + "=" + s.value})
		t.Setenv(envName(s.flag), s.value)
		check("env", nil)
		os.Unsetenv(envName(s.flag))
		file := filepath.Join(dir, "c.json")
		top, sub, nested := strings.Cut(s.key, ".")
		body := fmt.Sprintf(`{%q:%s}`, top, s.json)
		if nested {
			body = fmt.Sprintf(`{%q:{%q:%s}}`, top, sub, s.json)
		}
		os.WriteFile(file, []byte(body), 0o600)
		check("file", []string{"-config", file})
	}
}

// serve exits 0 after a signal and with an error when the server stops for
// any other reason (here: its listener is closed under it).
func TestServeStopsWithErrorUnlessSignalled(t *testing.T) {
	start := func() (net.Listener, chan os.Signal, chan error) {
		cfg, _, err := loadServeConfig([]string{"-demo", "-data", t.TempDir(), "-durability", "async", "-log-level", "error"})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Addr = ln.Addr().String()
		sig := make(chan os.Signal, 2)
		done := make(chan error, 1)
		go func() { done <- serve(cfg, ln, sig, io.Discard, io.Discard) }()
		testwait.For(t, 5*time.Second, "serve to answer", func() bool {
			resp, err := http.Get("http://" + cfg.Addr + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		})
		return ln, sig, done
	}
	_, sig, done := start()
	sig <- syscall.SIGTERM
	if err := <-done; err != nil {
		t.Errorf("after a signal: %v", err)
	}
	ln, _, done := start()
	ln.Close()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "server stopped") {
			t.Errorf("after the listener closed: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve kept running without its listener")
	}
}

func TestRaiseOpenFileLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur == lim.Max && lim.Max > 512 {
		lim.Cur = 512 // lower it first, so that raising it is seen
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	if note, err := raiseOpenFileLimit(); err != nil || !strings.Contains(note, "raised") {
		t.Errorf("%q, %v", note, err)
	}
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if lim.Cur != lim.Max {
		t.Errorf("soft limit %d, hard %d", lim.Cur, lim.Max)
	}
}
