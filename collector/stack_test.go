package collector_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// The store's retention bounds what ingest accepts: with 720h, an event 300
// days old would expire at once, so it is refused; one 10 days old is kept.
func TestRetentionBoundsIngest(t *testing.T) {
	c := collectortest.Start(t, collectortest.Options{Retention: 720 * time.Hour})
	cl := client{t, c.URL}
	old := time.Now().Add(-300 * 24 * time.Hour).UnixMilli()
	recent := time.Now().Add(-10 * 24 * time.Hour).UnixMilli()
	body := fmt.Sprintf(`{"site":%q,"events":[{"id":"old","type":"pageview","visitor":"0123456789abcdef0123456789abcdef","ts":%d},`+
		`{"id":"recent","type":"pageview","visitor":"0123456789abcdef0123456789abcdef","ts":%d}]}`, collectortest.Site, old, recent)
	a := cl.post(body, map[string]string{"Authorization": "Bearer " + collectortest.WriteKey})
	var out struct {
		Accepted int
		Rejected []struct {
			Index int
			Error string
		}
	}
	a.json(t, &out)
	if a.status != 202 || out.Accepted != 1 || len(out.Rejected) != 1 || out.Rejected[0].Index != 0 || !strings.Contains(out.Rejected[0].Error, "ts") {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

// Assemble refuses a config that cannot work before it opens anything, and
// the error names the field.
func TestAssembleValidatesEveryComponent(t *testing.T) {
	site := []collector.Site{{ID: "shop"}}
	f := func(a collector.Assembly, want string) {
		t.Helper()
		if _, err := collector.Assemble(a); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v, want an error naming %s", err, want)
		}
	}
	dir := t.TempDir()
	f(collector.Assembly{Store: badger.Config{Dir: dir}, Collector: collector.Config{Sites: []collector.Site{{ID: "a/b"}}}}, "sites[0].id")
	f(collector.Assembly{Store: badger.Config{Dir: dir}, Collector: collector.Config{}}, "no sites configured")
	f(collector.Assembly{Collector: collector.Config{Sites: site}}, "badger: Dir")
	f(collector.Assembly{Store: badger.Config{Dir: dir}, Collector: collector.Config{Sites: site}, Writer: store.WriterConfig{QueueSize: -1}}, "QueueSize")
	f(collector.Assembly{Store: badger.Config{Dir: dir}, Collector: collector.Config{Sites: site}, Enrich: enrich.Config{GeoCacheSize: -1}}, "GeoCacheSize")
	f(collector.Assembly{Store: badger.Config{Dir: dir}, Collector: collector.Config{Sites: site,
		Tokens: []collector.Token{{Name: "ops", Secret: "short", Scopes: []collector.Scope{collector.ScopeAdmin}}}}}, "tokens[0].secret")
}

// A server shut down before (or while) Serve begins does not go on
// accepting: Serve returns. fasthttp's own Shutdown closes only a listener
// its Serve already took, and a collector stopped right after its start
// (a test, a deploy that fails its check) hung in Serve about once in a
// hundred starts.
func TestShutdownBeforeServeStopsServe(t *testing.T) {
	for i := range 20 {
		st, err := collector.Assemble(collector.Assembly{
			Store: badger.Config{Dir: t.TempDir()}, Collector: collectortest.Config(), Log: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		if i%2 == 0 {
			if err := st.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			go func() { served <- st.Serve(ln) }()
		} else { // Serve and Shutdown racing
			go func() { served <- st.Serve(ln) }()
			if err := st.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("start %d: Serve after Shutdown: %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("start %d: Serve still accepting 10 s after Shutdown", i)
		}
		if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
			c.Close()
			t.Errorf("start %d: the listener still takes connections after Shutdown", i)
		}
	}
}
