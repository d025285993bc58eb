package collector_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
)

func noRateLimit(c *collector.Config) { c.RatePerIP = -1 }

// The review's request: two page views of one visitor, no ts, no seq.
func TestTwoPageViewsWithoutTimeAreTwoTouchpoints(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[
		{"id":"p1","type":"pageview","visitor":%[1]q,"url":"https://shop.example/a"},
		{"id":"p2","type":"pageview","visitor":%[1]q,"url":"https://shop.example/b"}]}`, visitorA), nil), 2)
	var tr trailAnswer
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 2 {
		t.Fatalf("%d touchpoints stored, want 2", len(tr.Touchpoints))
	}
	// Someone who knows the visitor and a time cannot replace a touchpoint.
	mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[
		{"id":"evil","type":"pageview","visitor":%q,"url":"https://evil.example/"}]}`, visitorA), nil), 1)
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 3 {
		t.Fatalf("%d touchpoints after a third event, want 3", len(tr.Touchpoints))
	}
}

// TestHTTPPromiseProperty: random sets of distinct ids, with colliding,
// missing or equal ts/seq, from concurrent senders (browsers without a
// write key and backends with one) that also re-send: each id is stored
// exactly once and the visitors index counts what is stored.
func TestHTTPPromiseProperty(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			col := collectortest.Start(t, collectortest.Options{Config: noRateLimit})
			c := client{t, col.URL}
			rng := rand.New(rand.NewPCG(seed, 7))
			visitors := []string{visitorA, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccc"}
			tsms := time.Now().Add(-time.Minute).UnixMilli()
			type ev struct{ id, visitor, json string }
			var evs []ev
			for i := range 120 + rng.IntN(120) {
				v := visitors[rng.IntN(len(visitors))]
				extra := ""
				switch rng.IntN(4) {
				case 0: // no ts, no seq
				case 1:
					extra = fmt.Sprintf(`,"ts":%d,"seq":1`, tsms) // all equal
				case 2:
					extra = fmt.Sprintf(`,"ts":%d`, tsms+int64(rng.IntN(3)))
				case 3:
					extra = fmt.Sprintf(`,"seq":%d`, rng.IntN(2))
				}
				id := fmt.Sprintf("e%d-%x", i, rng.Uint32())
				evs = append(evs, ev{id, v, fmt.Sprintf(`{"id":%q,"type":"pageview","visitor":%q,"url":"https://shop.example/%d"%s}`, id, v, i, extra)})
			}
			var wg sync.WaitGroup
			senders := 4
			for w := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					part := evs[w*len(evs)/senders : (w+1)*len(evs)/senders]
					again := evs[:len(evs)/3] // everyone re-sends the first third
					for _, chunk := range [][]ev{part[:len(part)/2], part[len(part)/2:], again} {
						js := make([]string, len(chunk))
						for i, e := range chunk {
							js[i] = e.json
						}
						h := map[string]string{}
						if w%2 == 1 {
							h["Authorization"] = "Bearer " + collectortest.WriteKey
						}
						body := `{"site":"test","events":[` + strings.Join(js, ",") + `]}`
						req, _ := http.NewRequest("POST", col.URL+"/v1/events", strings.NewReader(body))
						req.Header.Set("User-Agent", chromeUA)
						for k, v := range h {
							req.Header.Set(k, v)
						}
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Error(err)
							return
						}
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusAccepted || !bytes.Contains(b, []byte(fmt.Sprintf(`"accepted":%d,"rejected":[]`, len(chunk)))) {
							t.Errorf("sender %d: %d %s", w, resp.StatusCode, b)
						}
					}
				}()
			}
			wg.Wait()
			want := map[string]int{}
			for _, e := range evs {
				want[e.visitor]++
			}
			stored := 0
			for _, v := range visitors {
				var tr struct{ Touchpoints []struct{ ID string } }
				c.get("/v1/sites/test/visitors/"+v+"/trail?limit=10000", collectortest.ReadToken).json(t, &tr)
				seen := map[string]int{}
				for _, tp := range tr.Touchpoints {
					seen[tp.ID]++
				}
				for id, n := range seen {
					if n != 1 {
						t.Errorf("id %s stored %d times", id, n)
					}
				}
				if len(tr.Touchpoints) != want[v] || len(seen) != want[v] {
					t.Errorf("visitor %s: %d touchpoints (%d ids), want %d", v, len(tr.Touchpoints), len(seen), want[v])
				}
				stored += len(tr.Touchpoints)
			}
			var vs struct{ Visitors []struct{ Count int } }
			c.get("/v1/sites/test/visitors?limit=10000", collectortest.ReadToken).json(t, &vs)
			counted := 0
			for _, v := range vs.Visitors {
				counted += v.Count
			}
			if counted != stored || stored != len(evs) {
				t.Errorf("visitors index counts %d, %d stored, %d sent", counted, stored, len(evs))
			}
		})
	}
}

// TestEraseOverHTTPIsFinal: after DELETE of a visitor and of a user, a
// browser outbox re-sending the old events is answered 202 (so it stops)
// and nothing comes back.
func TestEraseOverHTTPIsFinal(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: noRateLimit})
	c := client{t, col.URL}
	const visitorB, visitorC = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccc"
	ts := time.Now().Add(-time.Minute).UnixMilli()
	batch := fmt.Sprintf(`{"site":"test","events":[
		{"id":"1","type":"pageview","visitor":%[1]q,"ts":%[4]d,"url":"https://shop.example/private-a"},
		{"id":"2","type":"identify","visitor":%[1]q,"ts":%[4]d,"user":"u-9"},
		{"id":"3","type":"pageview","visitor":%[2]q,"ts":%[4]d,"url":"https://shop.example/private-b"},
		{"id":"4","type":"identify","visitor":%[2]q,"ts":%[4]d,"user":"u-9"},
		{"id":"5","type":"pageview","visitor":%[3]q,"ts":%[4]d,"url":"https://shop.example/kept"}]}`, visitorA, visitorB, visitorC, ts)
	mustAccept(t, c.post(batch, nil), 5)
	admin := map[string]string{"Authorization": "Bearer " + collectortest.AdminToken}
	if a := c.do(http.MethodDelete, "/v1/sites/test/visitors/"+visitorA, nil, admin); a.status != http.StatusOK {
		t.Fatalf("erase visitor: %d %s", a.status, a.body)
	}
	if a := c.do(http.MethodDelete, "/v1/sites/test/users/u-9", nil, admin); a.status != http.StatusOK || !strings.Contains(string(a.body), visitorB) {
		t.Fatalf("erase user: %d %s", a.status, a.body)
	}
	if a := c.do(http.MethodDelete, "/v1/sites/test/users/u-9", nil, admin); a.status != http.StatusNotFound {
		t.Errorf("erase of an erased user: %d %s, want 404", a.status, a.body)
	}
	if a := c.do(http.MethodDelete, "/v1/sites/test/users/u-9", nil, map[string]string{"Authorization": "Bearer " + collectortest.ReadToken}); a.status != http.StatusForbidden {
		t.Errorf("erase with a read token: %d, want 403", a.status)
	}
	mustAccept(t, c.post(batch, nil), 5) // the outbox re-sends
	col.Restart(t)
	c = client{t, col.URL}
	mustAccept(t, c.post(batch, nil), 5) // and again after a restart
	for v, want := range map[string]int{visitorA: 0, visitorB: 0, visitorC: 1} {
		var tr trailAnswer
		c.get("/v1/sites/test/visitors/"+v+"/trail", collectortest.ReadToken).json(t, &tr)
		if len(tr.Touchpoints) != want {
			t.Errorf("visitor %s: %d touchpoints after erase and re-send, want %d", v, len(tr.Touchpoints), want)
		}
	}
	if a := c.get("/v1/sites/test/users/u-9/trail", collectortest.ReadToken); a.status != http.StatusNotFound {
		t.Errorf("erased user's trail: %d %s", a.status, a.body)
	}
}

// TestPixelNeverLosesAHit: a pixel hit without id is stored with a
// server-made id (a reload in the same second dedupes); an invalid hit
// still gets the GIF and is counted.
func TestPixelNeverLosesAHit(t *testing.T) {
	second := time.Now().Truncate(time.Second) // both reloads within one second
	col := collectortest.Start(t, collectortest.Options{Config: noRateLimit, Now: func() time.Time { return second }})
	c := client{t, col.URL}
	hit := func(q string) answer {
		return c.do(http.MethodGet, "/v1/p.gif?"+q, nil, nil)
	}
	q := "site=test&type=pageview&visitor=" + visitorA + "&url=https%3A%2F%2Fshop.example%2Fnoscript"
	for range 2 {
		if a := hit(q); a.status != http.StatusOK || a.header.Get("Content-Type") != "image/gif" {
			t.Fatalf("pixel: %d %s", a.status, a.header.Get("Content-Type"))
		}
	}
	hit("site=test&type=pageview&visitor=" + visitorA + "&url=https%3A%2F%2Fshop.example%2Fother")
	var tr struct{ Touchpoints []struct{ ID, URL string } }
	c.get("/v1/sites/test/visitors/"+visitorA+"/trail", collectortest.ReadToken).json(t, &tr)
	if len(tr.Touchpoints) != 2 || len(tr.Touchpoints[0].ID) != 32 || tr.Touchpoints[0].ID == tr.Touchpoints[1].ID {
		t.Fatalf("pixel trail %+v, want two touchpoints with server-made ids", tr.Touchpoints)
	}
	for _, bad := range []string{"site=nope&type=pageview&visitor=" + visitorA, "site=test&type=teleport&visitor=" + visitorA} {
		if a := hit(bad); a.status != http.StatusOK || a.header.Get("Content-Type") != "image/gif" {
			t.Errorf("invalid pixel %q: %d %s, want the GIF", bad, a.status, a.header.Get("Content-Type"))
		}
	}
	m := string(c.get("/metrics", collectortest.ReadToken).body)
	for _, want := range []string{`touchtrail_pixel_refused_total{reason="unknown_site"} 1`, `touchtrail_pixel_refused_total{reason="invalid"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestConnectionFloodFromOneAddress: more idle connections from one address
// than its cap are refused at accept; another client is served meanwhile.
func TestConnectionFloodFromOneAddress(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) { c.MaxConnsPerAddr = 50 }})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	closed := 0 // by the server: reset at once, during or after the handshake
	for range 300 {
		conn, err := net.Dial("tcp", col.Addr)
		if err != nil {
			closed++
			continue
		}
		conns = append(conns, conn)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, conn := range conns { // in parallel: the kept ones time out together
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				mu.Lock()
				closed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if closed != 250 {
		t.Errorf("%d of 250 connections over the cap were closed, want 250", closed)
	}
	// Another address (127.0.0.2 is loopback too) is served.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	hc := http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 5 * time.Second}
	req, _ := http.NewRequest("POST", col.URL+"/v1/events", strings.NewReader(fmt.Sprintf(`{"site":"test","events":[{"id":"x","type":"pageview","visitor":%q}]}`, visitorA)))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("another client during the flood: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("another client during the flood: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", col.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+collectortest.ReadToken)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(b)
	if !strings.Contains(m, `touchtrail_connections_refused_total{cap="per_address"} 250`) {
		t.Errorf("refused connections not counted:\n%s", grepLines(m, "connections"))
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
