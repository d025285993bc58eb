package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

const firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// sendJourneys posts a few visitors' journeys of every type to a collector,
// with the write key (so the events carry their own time, address and user
// agent), and returns how many touchpoints were accepted.
func sendJourneys(t *testing.T, url string, visitors int) int {
	t.Helper()
	base := time.Now().Add(-48 * time.Hour).UnixMilli()
	accepted := 0
	for v := range visitors {
		vis := fmt.Sprintf("%032x", v+1)
		evs := []string{
			`{"type":"pageview","url":"https://shop.example/?utm_source=news&utm_campaign=nov","referrer":"https://www.google.com/","title":"Shop"}`,
			`{"type":"search","query":"returns","results":0,"url":"https://shop.example/search"}`,
			`{"type":"search","query":"shoes","results":12}`,
			`{"type":"chat_open","widget":"intercom"}`,
			`{"type":"checkout_step","step":2,"name":"payment","value":99.5,"currency":"EUR"}`,
			`{"type":"feedback","score":2,"scale":5,"comment":"=1+1 slow \"checkout\""}`,
			`{"type":"identify","user":"u-` + fmt.Sprint(v%3) + `"}`,
			`{"type":"custom","name":"invoice_paid","props":{"z":"1","a":"=2+3"}}`,
		}
		for i := range evs {
			evs[i] = fmt.Sprintf(`{"id":"e%d-%d","visitor":%q,"seq":%d,"ts":%d,"ip":"81.2.69.%d","ua":%q,%s`,
				v, i, vis, i+1, base+int64(v*1000+i*60000), 1+v%200, firefoxUA, evs[i][1:])
		}
		body := `{"site":"test","events":[` + strings.Join(evs, ",") + `]}`
		req, _ := http.NewRequest("POST", url+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+collectortest.WriteKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 202 || !strings.Contains(string(b), `"rejected":[]`) {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		accepted += len(evs)
	}
	return accepted
}

// allTrails returns every visitor's trail of site as JSON lines, in order.
func allTrails(t *testing.T, st *badger.Store, site string) map[event.VisitorID][]string {
	t.Helper()
	out := map[event.VisitorID][]string{}
	err := st.ScanTrails(context.Background(), site, time.Time{}, time.Time{}, func(v event.VisitorID, trail []event.Touchpoint) error {
		for i := range trail {
			trail[i].Site, trail[i].Visitor = site, v
			out[v] = append(out[v], string(event.AppendJSON(nil, &trail[i])))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func openStore(t *testing.T, dir string) *badger.Store {
	t.Helper()
	st, err := badger.Open(badger.Config{Dir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func sameTrails(t *testing.T, got, want map[event.VisitorID][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d visitors, want %d", len(got), len(want))
	}
	for v, w := range want {
		g := got[v]
		if strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Fatalf("visitor %s:\n got %s\nwant %s", v, strings.Join(g, "\n     "), strings.Join(w, "\n     "))
		}
	}
}

// Export → import into an empty store gives identical trails; importing
// again stores nothing new (idempotent by id).
func TestExportImportRoundTrip(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{GeoDB: geotest.CityDB(t)})
	sent := sendJourneys(t, col.URL, 40)
	dir := t.TempDir()
	file := filepath.Join(dir, "test.ndjson")

	code, _, errOut := runCLI(t, "export", "-url", col.URL, "-token", collectortest.ReadToken, "-site", collectortest.Site, "-o", file)
	if code != exitOK || !strings.Contains(errOut, fmt.Sprintf("exported %d touchpoints of site test", sent)) {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	data := filepath.Join(dir, "copy")
	code, _, errOut = runCLI(t, "import", "-data", data, "-i", file)
	if code != exitOK || !strings.Contains(errOut, fmt.Sprintf("imported %d touchpoints", sent)) || !strings.Contains(errOut, fmt.Sprintf("%d new, 0 already there", sent)) {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "import", "-data", data, "-i", file)
	if code != exitOK || !strings.Contains(errOut, fmt.Sprintf("0 new, %d already there", sent)) {
		t.Fatalf("import again: exit %d: %s", code, errOut)
	}
	want := allTrails(t, col.Store, collectortest.Site)
	st := openStore(t, badgerDir(data))
	got := allTrails(t, st, collectortest.Site)
	st.Close()
	sameTrails(t, got, want)
	if len(want) != 40 || !strings.Contains(want[event.VisitorID{15: 1}][0], `"country":"GB"`) {
		t.Fatalf("the trails compared are not the enriched ones: %v", want[event.VisitorID{15: 1}])
	}

	// A range, CSV, and gzip on the wire.
	from := time.Now().Add(-48 * time.Hour).Add(10 * time.Second).UTC().Format(time.RFC3339)
	code, _, errOut = runCLI(t, "export", "-url", col.URL, "-token", collectortest.ReadToken, "-site", "test", "-from", from, "-format", "csv", "-o", file)
	if code != exitOK {
		t.Fatalf("csv export: %s", errOut)
	}
	csvData, _ := os.ReadFile(file)
	rows := strings.Split(strings.TrimSpace(string(csvData)), "\n")
	if !strings.HasPrefix(rows[0], "id,type,site,visitor,") || len(rows)-1 >= sent || len(rows)-1 < sent-40 || !strings.Contains(string(csvData), "'=1+1 slow") || !strings.Contains(string(csvData), `"{""z"":""1"",""a"":""=2+3""}"`) {
		t.Fatalf("csv: %d rows of %d touchpoints:\n%s", len(rows)-1, sent, rows[0])
	}
	req, _ := http.NewRequest("GET", col.URL+"/v1/sites/test/export", nil)
	req.Header.Set("Authorization", "Bearer "+collectortest.ReadToken)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if resp.Header.Get("Content-Encoding") != "gzip" || err != nil {
		t.Fatalf("Content-Encoding %q: %v", resp.Header.Get("Content-Encoding"), err)
	}
	plain, _ := io.ReadAll(zr)
	if n := bytes.Count(plain, []byte("\n")); n != sent {
		t.Fatalf("gzipped export: %d lines, want %d", n, sent)
	}
	if code, _, errOut := runCLI(t, "export", "-url", col.URL, "-token", collectortest.ReadToken, "-site", "test", "-format", "xml", "-o", file); code != exitUsage {
		t.Errorf("bad format: exit %d %s", code, errOut)
	}
	os.WriteFile(file, []byte("{\"id\":\"x\"}\n"), 0o600)
	if code, _, errOut := runCLI(t, "import", "-data", data, "-i", file); code != exitRuntime || !strings.Contains(errOut, "line 1:") {
		t.Errorf("bad line: exit %d %s", code, errOut)
	}
}

// Backup → restore into an empty directory gives identical trails; restore
// refuses a directory that holds a store.
func TestBackupRestoreRoundTrip(t *testing.T) {
	data := t.TempDir()
	col := collectortest.Start(t, collectortest.Options{Dir: badgerDir(data)})
	sendJourneys(t, col.URL, 25)
	want := allTrails(t, col.Store, collectortest.Site)
	file := filepath.Join(t.TempDir(), "backup.bak")
	if code, _, errOut := runCLI(t, "backup", "-data", data, "-o", file); code != exitRuntime || !strings.Contains(errOut, "stop it first") {
		t.Errorf("backup of a running collector's directory: exit %d %s", code, errOut)
	}
	col.Stop()
	code, _, errOut := runCLI(t, "backup", "-data", data, "-o", file)
	if code != exitOK || !strings.Contains(errOut, "backed up ") {
		t.Fatalf("backup: exit %d %s", code, errOut)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	code, _, errOut = runCLI(t, "restore", "-data", restored, "-i", file)
	if code != exitOK || !strings.Contains(errOut, "restored ") {
		t.Fatalf("restore: exit %d %s", code, errOut)
	}
	st := openStore(t, badgerDir(restored))
	got := allTrails(t, st, collectortest.Site)
	st.Close()
	sameTrails(t, got, want)
	if len(want) != 25 {
		t.Fatalf("%d visitors backed up", len(want))
	}

	// Online: from the running collector, with an admin token.
	col.Restart(t)
	sendJourneys(t, col.URL, 3) // the same ids: nothing new
	online := filepath.Join(t.TempDir(), "online.bak")
	if code, _, errOut := runCLI(t, "backup", "-url", col.URL, "-token", collectortest.ReadToken, "-o", online); code != exitRuntime || !strings.Contains(errOut, "403") {
		t.Errorf("online backup with a read token: exit %d %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "backup", "-url", col.URL, "-token", collectortest.AdminToken, "-o", online)
	if code != exitOK || !strings.Contains(errOut, "backed up the store of") {
		t.Fatalf("online backup: exit %d %s", code, errOut)
	}
	restored2 := filepath.Join(t.TempDir(), "restored")
	if code, _, errOut := runCLI(t, "restore", "-data", restored2, "-i", online); code != exitOK {
		t.Fatalf("restore of the online backup: exit %d %s", code, errOut)
	}
	st = openStore(t, badgerDir(restored2))
	got = allTrails(t, st, collectortest.Site)
	st.Close()
	sameTrails(t, got, want)
	if code, _, errOut := runCLI(t, "restore", "-data", restored, "-i", file); code != exitRuntime || !strings.Contains(errOut, "not empty") {
		t.Errorf("restore into a store: exit %d %s", code, errOut)
	}
}

func TestErase(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	sendJourneys(t, col.URL, 6) // users u-0, u-1, u-2: two visitors each
	f := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"erase", "-url", col.URL, "-site", "test"}, args...)...)
		if code != want {
			t.Fatalf("%q: exit %d: %s%s", args, code, out, errOut)
		}
		return out + errOut
	}
	f(exitUsage, "-token", collectortest.AdminToken)
	f(exitUsage, "-token", collectortest.AdminToken, "-visitor", "a", "-user", "b")
	if out := f(exitRuntime, "-token", collectortest.ReadToken, "-visitor", fmt.Sprintf("%032x", 1)); !strings.Contains(out, "403") {
		t.Errorf("read token: %s", out)
	}
	if out := f(exitOK, "-token", collectortest.AdminToken, "-user", "u-1"); !strings.Contains(out, "erased user u-1") {
		t.Errorf("erase user: %s", out)
	}
	if out := f(exitOK, "-token", collectortest.AdminToken, "-visitor", fmt.Sprintf("%032x", 1)); !strings.Contains(out, "erased visitor") {
		t.Errorf("erase visitor: %s", out)
	}
	left := allTrails(t, col.Store, collectortest.Site)
	if len(left) != 3 {
		t.Fatalf("%d visitors left, want 3 (6, less u-1's two and visitor 1)", len(left))
	}
	if _, ok := left[event.VisitorID{15: 1}]; ok {
		t.Error("visitor 1 still has a trail")
	}
}
