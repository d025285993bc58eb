package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
)

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "touchtrail.json")
	os.WriteFile(file, []byte(`{"addr":"127.0.0.1:7000","durability":"async","retention":"720h",
		"collector":{"sites":[{"id":"shop","origins":["https://shop.example"]}],"rate_per_ip":5}}`), 0o600)
	t.Setenv("TOUCHTRAIL_ADDR", "127.0.0.1:7001")
	t.Setenv("TOUCHTRAIL_RATE_PER_IP", "7")
	cfg, err := loadServeConfig([]string{"-config", file, "-rate-per-ip", "9", "-data", dir})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7001" { // env over file
		t.Errorf("addr %q", cfg.Addr)
	}
	if cfg.Collector.RatePerIP != 9 { // flag over env over file
		t.Errorf("rate %v", cfg.Collector.RatePerIP)
	}
	if cfg.Durability != "async" || cfg.Retention != duration(720*time.Hour) || cfg.Collector.Sites[0].Origins[0] != "https://shop.example" {
		t.Errorf("file values lost: %+v", cfg)
	}
	if _, err := loadServeConfig([]string{"-durability", "sometimes", "-data", dir}); err == nil {
		t.Error("bad durability accepted")
	}
	os.WriteFile(file, []byte(`{"journey":{"session_gap":"45m","stage_rules":[{"pattern":"/docs*","stage":"use"}],"checkout_last_step":4}}`), 0o600)
	cfg, err = loadServeConfig([]string{"-config", file, "-data", dir})
	if err != nil {
		t.Fatal(err)
	}
	// Configured stage rules come before the defaults…
	if jc := cfg.Journey.config(); jc.SessionGap != 45*time.Minute || jc.CheckoutLastStep != 4 || len(jc.StageRules) != 1+len(journey.DefaultStageRules()) || jc.StageRules[0].Stage.String() != "use" || jc.LowFeedback != 0.6 {
		t.Errorf("journey config %+v", jc)
	}
	// …or replace them when the config says so; a bad pattern stops start-up.
	os.WriteFile(file, []byte(`{"journey":{"stage_rules":[{"pattern":"/docs*","stage":"use"}],"replace_stage_rules":true}}`), 0o600)
	if cfg, err = loadServeConfig([]string{"-config", file, "-data", dir}); err != nil || len(cfg.Journey.config().StageRules) != 1 {
		t.Errorf("replace_stage_rules: %v %+v", err, cfg.Journey)
	}
	os.WriteFile(file, []byte(`{"journey":{"stage_rules":[{"pattern":"/faq[","stage":"ask"}]}}`), 0o600)
	if _, err := loadServeConfig([]string{"-config", file, "-data", dir}); err == nil || !strings.Contains(err.Error(), `journey.stage_rules: bad stage rule 1 {pattern "/faq[", stage ask}: malformed glob`) {
		t.Errorf("bad stage rule pattern: %v", err)
	}
	os.WriteFile(file, []byte(`{"adr":"typo"}`), 0o600)
	if _, err := loadServeConfig([]string{"-config", file}); err == nil {
		t.Error("unknown config field accepted")
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the built binary and waits for its banner.
func start(t *testing.T, bin, addr, data string) (*exec.Cmd, map[string]string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-addr", addr, "-data", data, "-durability", "async", "-log-level", "warn")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	banner := map[string]string{}
	sc := bufio.NewScanner(out)
	deadline := time.After(20 * time.Second)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for banner["write key"] == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("serve exited before printing its banner")
			}
			if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok {
				banner[k] = strings.TrimSpace(v)
			}
		case <-deadline:
			t.Fatal("no banner within 20s")
		}
	}
	go func() {
		for range lines {
		}
	}()
	return cmd, banner
}

// SIGTERM drains the async writer before Badger closes: every event that was
// acknowledged is there after a restart.
func TestServeGracefulShutdownKeepsAcknowledgedEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "touchtrail")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data, addr := t.TempDir(), freeAddr(t)
	cmd, banner := start(t, bin, addr, data)
	if banner["site"] != "demo" || !strings.HasPrefix(banner["read token"], "ttr_") {
		t.Fatalf("banner %v", banner)
	}
	const visitor = "0123456789abcdef0123456789abcdef"
	acknowledged := 0
	for i := range 40 {
		var evs []string
		for j := range 25 {
			evs = append(evs, fmt.Sprintf(`{"id":"%d-%d","type":"pageview","visitor":%q,"seq":%d}`, i, j, visitor, i*25+j))
		}
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/events", strings.NewReader(`{"site":"demo","events":[`+strings.Join(evs, ",")+`]}`))
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		req.Header.Set("Authorization", "Bearer "+strings.Fields(banner["write key"])[0])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a struct{ Accepted int }
		json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		acknowledged += a.Accepted
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
	_, banner = start(t, bin, addr, data)
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/sites/demo/visitors/"+visitor+"/trail?limit=10000", nil)
	req.Header.Set("Authorization", "Bearer "+banner["read token"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct{ Touchpoints []json.RawMessage }
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if err := json.Unmarshal(buf.Bytes(), &tr); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	if acknowledged != 1000 || len(tr.Touchpoints) != acknowledged {
		t.Fatalf("acknowledged %d, found %d after restart", acknowledged, len(tr.Touchpoints))
	}
}
