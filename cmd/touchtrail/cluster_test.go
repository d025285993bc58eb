package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/internal/testwait"
	"github.com/touchtrail/touchtrail/pkg/cluster/natstest"
)

func TestClusterConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "touchtrail.json")
	os.WriteFile(file, []byte(`{"cluster":{"nats":"nats://u:secret@127.0.0.1:4222","role":"store","partitions":"0-7","ack_wait":"20s","stream_replicas":3}}`), 0o600)
	t.Setenv("TOUCHTRAIL_PARTITIONS", "8-15")
	cfg, _, err := loadServeConfig([]string{"-config", file, "-node", "st-1", "-ready-lag", "50", "-data", dir, "-demo"})
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Cluster
	if !c.enabled() || c.Role != "store" || c.Node != "st-1" || c.Partitions != "8-15" || c.AckWait != duration(20*time.Second) ||
		c.ReadyLag != 50 || c.StreamReplicas != 3 || c.StreamPartitions != 32 || c.MemberTTL != duration(15*time.Second) {
		t.Errorf("cluster config %+v", c)
	}
	if got := cfg.masked().Cluster.NATS; strings.Contains(got, "secret") {
		t.Errorf("redacted NATS URL %q shows the password", got)
	}
	if cfg, _, err := loadServeConfig([]string{"-data", dir, "-demo"}); err != nil || cfg.Cluster.enabled() {
		t.Errorf("no -nats: %v, cluster %+v (want the single node)", err, cfg.Cluster)
	}
	for _, bad := range [][]string{
		{"-nats", "nats://127.0.0.1:4222", "-role", "reader"},
		{"-nats", "nats://127.0.0.1:4222", "-partitions", "3-1"},
		{"-nats", "nats://127.0.0.1:4222", "-stream-replicas", "2"},
		{"-nats", "nats://127.0.0.1:4222", "-node", "a b"},
		{"-nats", "nats://127.0.0.1:4222", "-ack-wait", "soon"},
	} {
		if _, _, err := loadServeConfig(append(bad, "-data", dir, "-demo")); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestServeClusterRoles runs the binary as an ingest node and a store node
// over an embedded NATS server: an event sent to the ingest node is read
// back from the store, both are ready, and both stop on SIGTERM.
func TestServeClusterRoles(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "touchtrail")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ns := natstest.StartTB(t, 1)
	cfgFile := filepath.Join(t.TempDir(), "touchtrail.json")
	os.WriteFile(cfgFile, []byte(`{"collector":{"sites":[{"id":"shop","write_keys":["a-write-key-0123456789"]}],
		"tokens":[{"name":"r","secret":"a-read-token-0123456789","scopes":["read"]}]}}`), 0o600)
	node := func(role, name string) (*exec.Cmd, string) {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "-nats", ns.URLs(), "-role", role, "-node", name, "-addr", addr,
			"-data", t.TempDir(), "-config", cfgFile, "-stream-partitions", "4", "-log-level", "warn")
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || !strings.Contains(line, "touchtrail cluster node "+name+" ("+role+")") {
			t.Fatalf("%s: first line %q, %v", name, line, err)
		}
		go io.Copy(io.Discard, out)
		return cmd, "http://" + addr
	}
	in, inURL := node("ingest", "in")
	st, stURL := node("store", "st")

	req, _ := http.NewRequest("POST", inURL+"/v1/events", strings.NewReader(
		`{"site":"shop","events":[{"id":"e1","type":"pageview","visitor":"0123456789abcdef0123456789abcdef","ua":"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}]}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer a-write-key-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest: %d", resp.StatusCode)
	}
	var status int
	var b []byte
	if !testwait.Until(10*time.Second, func() bool {
		req, _ := http.NewRequest("GET", stURL+"/v1/sites/shop/visitors/0123456789abcdef0123456789abcdef/trail", nil)
		req.Header.Set("Authorization", "Bearer a-read-token-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
		return strings.Contains(string(b), `"id":"e1"`)
	}) {
		t.Fatalf("the store never got the event: %d %s", status, b)
	}
	for _, u := range []string{inURL, stURL} {
		resp, err := http.Get(u + "/readyz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s/readyz: %v %v", u, resp, err)
		}
	}
	for _, c := range []*exec.Cmd{in, st} {
		c.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit after SIGTERM: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("no exit 15 s after SIGTERM")
		}
	}
}
