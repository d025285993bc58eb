package collector_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// mountSmallFS mounts a tmpfs of size on a fresh directory. tmpfs fails a
// write into a sparse memory mapping with SIGBUS when it is full, as a
// real full disk does under Badger. The test runs as root (CI does); it
// fails, never skips, where it cannot mount.
func mountSmallFS(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the disk-full test mounts a small tmpfs and needs root: run it as root (CI does)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("cannot mount a %s tmpfs on %s: %v: %s", size, dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// fill writes a ballast file so that leave bytes stay free.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	n := freeBytes(t, dir) - leave
	if n <= 0 {
		return path
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for n > 0 {
		w := min(n, int64(len(buf)))
		if _, err := f.Write(buf[:w]); err != nil {
			t.Fatalf("ballast: %v", err)
		}
		n -= w
	}
	return path
}

// TestDiskFull fills a real 64 MB filesystem under a running collector:
// ingest answers 507 with Retry-After before the disk is exhausted (no
// SIGBUS), /readyz says why, reads go on; freeing space resumes writes
// without a restart; a restart on the full disk serves reads, refuses
// writes, and takes them again once there is space; every acknowledged
// event is stored.
func TestDiskFull(t *testing.T) {
	root := mountSmallFS(t, "64m")
	dataDir := filepath.Join(root, "data")
	const reserve = 12 << 20
	col := collectortest.Start(t, collectortest.Options{Dir: dataDir, Store: func(c *badger.Config) {
		c.MemTableSize, c.ValueLogFileSize, c.DiskReserve = 1<<20, 1<<20, reserve
	}, Config: func(c *collector.Config) { c.RatePerIP = -1 }})
	c := client{t, col.URL}
	ballast := fill(t, root, reserve+6<<20)

	visitors := []string{"d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1", "d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2", "d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3"}
	acked := map[string]bool{}
	n := 0
	// send posts one batch of 40 events with incompressible 1.9 KB URLs and
	// returns the answer.
	send := func() answer {
		var evs []string
		var ids []string
		for range 40 {
			n++
			rnd := make([]byte, 950)
			rand.Read(rnd)
			id := fmt.Sprintf("df-%d", n)
			ids = append(ids, id)
			evs = append(evs, fmt.Sprintf(`{"id":%q,"type":"pageview","visitor":%q,"url":"https://shop.example/%s"}`, id, visitors[n%3], hex.EncodeToString(rnd)))
		}
		a := c.post(`{"site":"test","events":[`+strings.Join(evs, ",")+`]}`, nil)
		if a.status == http.StatusAccepted {
			for _, id := range ids {
				acked[id] = true
			}
		}
		return a
	}
	var full answer
	for i := 0; ; i++ {
		if i == 400 {
			t.Fatalf("no 507 after %d requests", i)
		}
		a := send()
		if a.status == http.StatusAccepted {
			continue
		}
		full = a
		break
	}
	if full.status != http.StatusInsufficientStorage || full.header.Get("Retry-After") == "" || !strings.Contains(string(full.body), `"error":"collector storage full`) {
		t.Fatalf("disk full answered %d %v %s, want 507 with Retry-After and a JSON error", full.status, full.header, full.body)
	}
	if free := freeBytes(t, root); free < reserve/2 {
		t.Fatalf("only %d bytes free at the first 507: the reserve was not kept", free)
	}
	t.Logf("first 507 after %d acknowledged events; %d bytes free", len(acked), freeBytes(t, root))
	if a := c.get("/readyz", ""); a.status != http.StatusServiceUnavailable || !strings.Contains(string(a.body), "disk full") {
		t.Errorf("/readyz on a full disk: %d %s", a.status, a.body)
	}
	if a := c.get("/metrics", collectortest.ReadToken); !strings.Contains(string(a.body), "touchtrail_disk_full 1") {
		t.Errorf("metrics do not show the full disk")
	}
	checkAcked := func(when string) {
		t.Helper()
		got := map[string]bool{}
		for _, v := range visitors {
			var tr struct{ Touchpoints []struct{ ID string } }
			a := c.get("/v1/sites/test/visitors/"+v+"/trail?limit=10000", collectortest.ReadToken)
			if a.status != http.StatusOK {
				t.Fatalf("%s: trail read %d %s", when, a.status, a.body)
			}
			a.json(t, &tr)
			for _, tp := range tr.Touchpoints {
				got[tp.ID] = true
			}
		}
		missing := 0
		for id := range acked {
			if !got[id] {
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("%s: %d of %d acknowledged events missing", when, missing, len(acked))
		}
	}
	checkAcked("disk full") // reads go on

	// Space back: writes resume without a restart.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	waitAccepted := func(when string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for send().status != http.StatusAccepted {
			if time.Now().After(deadline) {
				t.Fatalf("%s: writes did not resume within 10 s", when)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if a := c.get("/readyz", ""); a.status != http.StatusOK {
			t.Errorf("%s: /readyz %d %s", when, a.status, a.body)
		}
	}
	waitAccepted("space freed")
	checkAcked("space freed")

	// A restart on a full disk: reads yes, writes 507, then writes again.
	col.Stop()
	ballast = fill(t, root, reserve/2)
	col.Restart(t)
	c = client{t, col.URL}
	checkAcked("restart on a full disk")
	if a := send(); a.status != http.StatusInsufficientStorage {
		t.Fatalf("write after a restart on a full disk: %d %s, want 507", a.status, a.body)
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	waitAccepted("space freed after the restart")
	checkAcked("space freed after the restart")
}
