// Package crashtest runs the real touchtrail binary and kills it: what
// "acknowledged" promises under kill -9, in each durability mode.
package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/internal/testwait"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crashtest")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "touchtrail")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/touchtrail/touchtrail/cmd/touchtrail").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	site      = "crash"
	writeKey  = "crash-write-key-0123456789"
	readToken = "crash-read-token-0123456789"
)

func writeConfig(t *testing.T, durability string) string {
	t.Helper()
	cfg := map[string]any{
		"durability": durability,
		"log_level":  "error",
		"collector": map[string]any{
			"sites":  []map[string]any{{"id": site, "write_keys": []string{writeKey}}},
			"tokens": []map[string]any{{"name": "read", "secret": readToken, "scopes": []string{"read"}}},
		},
	}
	b, _ := json.Marshal(cfg)
	path := filepath.Join(t.TempDir(), "touchtrail.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve starts the binary and waits until /readyz answers 200.
func serve(t *testing.T, config, data, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-config", config, "-data", data, "-addr", addr)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var err error
	if !testwait.Until(20*time.Second, func() bool {
		var resp *http.Response
		if resp, err = http.Get("http://" + addr + "/readyz"); err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("serve not ready within 20 s: %v", err)
	}
	return cmd
}

var visitors = func() []string {
	var vs []string
	for i := range 8 {
		vs = append(vs, strings.Repeat(fmt.Sprintf("%x", i+1), 32))
	}
	return vs
}()

// load sends batches of 20 events with unique ids from 6 concurrent
// clients until ctx ends, and returns the ids of the acknowledged ones.
func load(ctx context.Context, addr, run string, count *atomic.Int64) map[string]bool {
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 5 * time.Second}
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				var evs []string
				var ids []string
				for i := range 20 {
					id := fmt.Sprintf("%s-%d-%d-%d", run, w, n, i)
					ids = append(ids, id)
					evs = append(evs, fmt.Sprintf(`{"id":%q,"type":"pageview","visitor":%q,"url":"https://shop.example/%d"}`, id, visitors[(w+i)%len(visitors)], i))
				}
				req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/v1/events",
					strings.NewReader(`{"site":"`+site+`","events":[`+strings.Join(evs, ",")+`]}`))
				req.Header.Set("Authorization", "Bearer "+writeKey)
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					time.Sleep(10 * time.Millisecond) // the server is gone: keep trying until the test stops us
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted && bytes.Contains(b, []byte(`"accepted":20,`)) {
					mu.Lock()
					for _, id := range ids {
						acked[id] = true
					}
					mu.Unlock()
					count.Add(int64(len(ids)))
				}
			}
		}()
	}
	wg.Wait()
	return acked
}

// stored reads every visitor's trail and returns the ids found.
func stored(t *testing.T, addr string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, v := range visitors {
		cursor := ""
		for {
			req, _ := http.NewRequest("GET", "http://"+addr+"/v1/sites/"+site+"/visitors/"+v+"/trail?limit=10000&cursor="+cursor, nil)
			req.Header.Set("Authorization", "Bearer "+readToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var tr struct {
				Touchpoints []struct{ ID string }
				Next        string
			}
			err = json.NewDecoder(resp.Body).Decode(&tr)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
				t.Fatalf("trail of %s: %d %v", v, resp.StatusCode, err)
			}
			for _, tp := range tr.Touchpoints {
				got[tp.ID] = true
			}
			if tr.Next == "" {
				break
			}
			cursor = tr.Next
		}
	}
	return got
}

// crashRuns loads the binary, kills it with SIGKILL mid-load, restarts it
// on the same directory and counts acknowledged events missing, three
// times; it returns acknowledged and lost per run.
func crashRuns(t *testing.T, durability string) (acked, lost []int) {
	config, data, addr := writeConfig(t, durability), t.TempDir(), freeAddr(t)
	verified := map[string]bool{} // acknowledged and found after a restart
	for run := range 3 {
		cmd := serve(t, config, data, addr)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan map[string]bool)
		var count atomic.Int64
		go func() { done <- load(ctx, addr, fmt.Sprint("r", run), &count) }()
		// Kill mid-load: once a good number of events were acknowledged.
		testwait.Until(30*time.Second, func() bool { return count.Load() >= 5000 }) // or kill what there is
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		cancel()
		got := <-done
		restarted := serve(t, config, data, addr)
		have := stored(t, addr)
		missing := 0
		for id := range got {
			if !have[id] {
				missing++
			}
		}
		gone := 0
		for id := range verified { // what earlier runs stored stays stored
			if !have[id] {
				gone++
			}
		}
		if gone > 0 {
			t.Errorf("run %d: %d events found after an earlier restart are gone", run, gone)
		}
		for id := range got {
			if have[id] {
				verified[id] = true
			}
		}
		acked, lost = append(acked, len(got)), append(lost, missing)
		if len(got) == 0 {
			t.Fatalf("run %d: nothing acknowledged before the kill", run)
		}
		restarted.Process.Kill() // the next run starts its own
		restarted.Wait()
	}
	return acked, lost
}

// TestKill9Sync: in sync mode an acknowledged event survives kill -9.
func TestKill9Sync(t *testing.T) {
	acked, lost := crashRuns(t, "sync")
	t.Logf("sync: acknowledged %v, lost %v after kill -9", acked, lost)
	for run, n := range lost {
		if n != 0 {
			t.Errorf("run %d: %d of %d acknowledged events lost", run, n, acked[run])
		}
	}
}

// TestKill9Async: in async mode kill -9 may lose what was acknowledged but
// not yet committed: at most the writer's queue (65,536 records) and the
// groups in flight. The test checks that bound and reports the loss.
func TestKill9Async(t *testing.T) {
	acked, lost := crashRuns(t, "async")
	t.Logf("async: acknowledged %v, lost %v after kill -9", acked, lost)
	const bound = 65536 + 4*1024
	for run, n := range lost {
		if n > bound {
			t.Errorf("run %d: %d acknowledged events lost, more than the writer's window %d", run, n, bound)
		}
	}
}

// TestOutOfFileDescriptors: a flood of connections past the process's
// open-file limit (accept fails with "too many open files") does not stop
// the server: once the flood ends, requests are served again and the
// process is still running.
func TestOutOfFileDescriptors(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatal("this test needs prlimit (Debian package util-linux)")
	}
	cfgPath := filepath.Join(t.TempDir(), "touchtrail.json")
	os.WriteFile(cfgPath, []byte(`{"log_level":"error","collector":{"max_conns":100000,"max_conns_per_addr":-1,
		"sites":[{"id":"crash","write_keys":["`+writeKey+`"]}],
		"tokens":[{"name":"read","secret":"`+readToken+`","scopes":["read"]}]}}`), 0o600)
	addr := freeAddr(t)
	cmd := exec.Command(prlimit, "--nofile=300:300", bin, "serve", "-config", cfgPath, "-data", t.TempDir(), "-addr", addr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	post := func() (int, error) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/events", strings.NewReader(
			`{"site":"crash","events":[{"id":"`+fmt.Sprint(time.Now().UnixNano())+`","type":"pageview","visitor":"`+visitors[0]+`"}]}`))
		req.Header.Set("Authorization", "Bearer "+writeKey)
		hc := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	testwait.For(t, 20*time.Second, "the server to take an event", func() bool { st, _ := post(); return st == http.StatusAccepted })
	var flood []net.Conn
	for range 600 {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		flood = append(flood, c)
	}
	// The server accepts until it runs out of descriptors (and then backs
	// off): wait until it holds nearly all 300.
	fds := func() int {
		entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
		return len(entries)
	}
	if !testwait.Until(10*time.Second, func() bool { return fds() >= 295 }) {
		t.Fatalf("the server holds %d descriptors, never near its limit of 300", fds())
	}
	for _, c := range flood {
		c.Close()
	}
	select {
	case err := <-exited:
		t.Fatalf("the server exited during the flood: %v", err)
	default:
	}
	var st int
	if !testwait.Until(10*time.Second, func() bool { st, err = post(); return st == http.StatusAccepted }) {
		t.Fatalf("not serving again 10 s after the flood: %d %v", st, err)
	}
	t.Logf("%d flood connections opened against a 300-descriptor limit; served again afterwards", len(flood))
}
