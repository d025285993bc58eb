package clustertest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

var httpc = &http.Client{Timeout: 15 * time.Second}

// post sends one batch with the write key and returns the status and the
// Retry-After header.
func post(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/events", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Authorization", "Bearer "+collectortest.WriteKey)
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusAccepted {
		var a struct {
			Accepted int `json:"accepted"`
			Rejected []struct {
				Error string `json:"error"`
			} `json:"rejected"`
		}
		if err := json.Unmarshal(b, &a); err != nil || len(a.Rejected) > 0 {
			t.Fatalf("202 with %s", b)
		}
	}
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// batch is one request: its body and the events it carries.
type batch struct {
	body []byte
	ids  []sent
}

type sent struct {
	visitor event.VisitorID
	id      string
}

// batches cuts the visitors' trails into requests of at most per events,
// one visitor each, in trail order.
func batches(site string, visitors []journeytest.Visitor, per int) []batch {
	var out []batch
	for _, v := range visitors {
		for i := 0; i < len(v.Trail); i += per {
			end := min(i+per, len(v.Trail))
			b := batch{body: []byte(`{"site":"` + site + `","events":[`)}
			for j := i; j < end; j++ {
				tp := v.Trail[j]
				tp.Site = site
				if j > i {
					b.body = append(b.body, ',')
				}
				b.body = event.AppendWire(b.body, &tp)
				b.ids = append(b.ids, sent{tp.Visitor, tp.ID})
			}
			b.body = append(b.body, "]}"...)
			out = append(out, b)
		}
	}
	return out
}

// load posts the batches from workers goroutines, round-robin over the
// ingest URLs, retrying a refused batch (as the snippet and the SDK do)
// until it is acknowledged or until deadline; it returns the events
// acknowledged and the refusals seen. during, when not nil, is called once
// when half the batches are acknowledged.
func load(t *testing.T, urls []string, bs []batch, workers int, during func()) (acked []sent, refused int) {
	t.Helper()
	var mu sync.Mutex
	var once sync.Once
	next := make(chan int)
	var wg sync.WaitGroup
	deadline := time.Now().Add(60 * time.Second)
	done := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				for try := 0; ; try++ {
					st, _ := post(t, urls[(i+try+w)%len(urls)], bs[i].body)
					if st == http.StatusAccepted {
						break
					}
					mu.Lock()
					refused++
					mu.Unlock()
					if time.Now().After(deadline) {
						t.Errorf("batch %d never acknowledged (last status %d)", i, st)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				mu.Lock()
				acked = append(acked, bs[i].ids...)
				done++
				half := done == len(bs)/2
				mu.Unlock()
				if half && during != nil {
					once.Do(during)
				}
			}
		}()
	}
	for i := range bs {
		next <- i
	}
	close(next)
	wg.Wait()
	return acked, refused
}

// trail reads a visitor's trail ids from a store node's query API; nil for
// a visitor it does not know (404).
func trail(t *testing.T, url string, v event.VisitorID) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/sites/%s/visitors/%s/trail?limit=10000", url, collectortest.Site, v), nil)
	req.Header.Set("Authorization", "Bearer "+collectortest.ReadToken)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("trail of %s from %s: %d %s", v, url, resp.StatusCode, b)
	}
	var a struct {
		Touchpoints []struct {
			ID string `json:"id"`
		} `json:"touchpoints"`
		Next string `json:"next"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.Next != "" {
		t.Fatalf("trail of %s longer than one page", v)
	}
	if len(a.Touchpoints) == 0 {
		return nil
	}
	ids := make([]string, len(a.Touchpoints))
	for i, tp := range a.Touchpoints {
		ids[i] = tp.ID
	}
	return ids
}

// get returns a GET's status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+collectortest.AdminToken)
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// child is a store node in a subprocess (this test binary, re-executed),
// so that a test can SIGKILL it.
type child struct {
	cmd *exec.Cmd
	URL string
}

const childEnv = "TOUCHTRAIL_CLUSTERTEST_CHILD"

func startChild(t *testing.T, o childOptions) *child {
	t.Helper()
	b, _ := json.Marshal(o)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() { c.kill(syscall.SIGKILL) })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
			c.URL = u
			go io.Copy(io.Discard, out)
			return c
		}
	}
	t.Fatalf("store subprocess exited before it was ready: %v", cmd.Wait())
	return nil
}

func (c *child) kill(sig syscall.Signal) {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(sig)
	_ = c.cmd.Wait()
}

type childOptions struct {
	NATS, Node, Partitions, Dir, Addr string
}
