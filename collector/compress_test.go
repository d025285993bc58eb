package collector_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/touchtrail/touchtrail/collector/collectortest"
)

// The query API gzips its JSON answers for a client that accepts gzip:
// the same JSON, fewer bytes, Vary set; a small answer and a client that
// does not accept gzip get it plain.
func TestQueryAnswersGzipped(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	if a := c.post(string(batchBody(100)), map[string]string{"Authorization": "Bearer " + collectortest.WriteKey}); a.status != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", a.status, a.body)
	}
	auth := "Bearer " + collectortest.ReadToken
	trail := "/v1/sites/test/visitors/00000000000000000000000000000001/trail"
	plain := c.do(http.MethodGet, trail, nil, map[string]string{"Authorization": auth})
	zipped := c.do(http.MethodGet, trail, nil, map[string]string{"Authorization": auth, "Accept-Encoding": "gzip, deflate, br"})
	if plain.status != http.StatusOK || zipped.status != http.StatusOK {
		t.Fatalf("trail: %d, %d gzipped", plain.status, zipped.status)
	}
	if got := plain.header.Get("Content-Encoding"); got != "" {
		t.Errorf("plain answer: Content-Encoding %q", got)
	}
	if got := zipped.header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("answer to a gzip client: Content-Encoding %q", got)
	}
	if got := zipped.header.Get("Vary"); got != "Accept-Encoding" {
		t.Errorf("Vary %q", got)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain.body) {
		t.Errorf("gunzipped answer differs:\n%s\n%s", unzipped, plain.body)
	}
	if len(zipped.body)*3 > len(plain.body) {
		t.Errorf("gzipped %d bytes of %d: less than 3× smaller", len(zipped.body), len(plain.body))
	}
	// A small answer (an unknown visitor's empty trail) stays plain.
	small := c.do(http.MethodGet, "/v1/sites/test/visitors/000000000000000000000000000000ff/trail", nil,
		map[string]string{"Authorization": auth, "Accept-Encoding": "gzip"})
	if got := small.header.Get("Content-Encoding"); got != "" || len(small.body) >= 512 {
		t.Errorf("small answer (%d, %d bytes): Content-Encoding %q", small.status, len(small.body), got)
	}
	// An answer built by encoding/json (the visitor list) is gzipped too.
	list := c.do(http.MethodGet, "/v1/sites/test/visitors", nil, map[string]string{"Authorization": auth, "Accept-Encoding": "gzip"})
	if list.status != http.StatusOK || list.header.Get("Content-Encoding") != "gzip" {
		t.Errorf("visitor list: %d, Content-Encoding %q", list.status, list.header.Get("Content-Encoding"))
	}
}

// batchBody is a batch of n page views of as many visitors, as a backend
// sends them with the write key (user agent and address in each event).
func batchBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"site":"` + collectortest.Site + `","events":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%032x","type":"pageview","visitor":"%032x","seq":%d,"url":"https://shop.example/products/%d?utm_source=news","title":"Product %d","referrer":"https://www.google.com/","ua":%q,"ip":"81.2.69.%d"}`,
			i+1, i%7+1, i+1, i, i, chromeUA, 160+i%3)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}
