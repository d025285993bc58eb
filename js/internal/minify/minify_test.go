package minify

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// dist/ is committed: it must be what the minifier makes of src/ now.
func TestDistIsFresh(t *testing.T) {
	for _, f := range Files {
		src, err := os.ReadFile(filepath.Join("..", "..", f.Src))
		if err != nil {
			t.Fatal(err)
		}
		want, err := Minify(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", f.Dist))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("js/%s is stale against js/%s: run `make js` and commit", f.Dist, f.Src)
		}
	}
}

// The snippet is small on purpose: every feature pays for its bytes.
func TestSizeBudget(t *testing.T) {
	budget := map[string]int{"dist/t.js": 1536, "dist/t-chat.js": 512}
	for _, f := range Files {
		b, err := os.ReadFile(filepath.Join("..", "..", f.Dist))
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		t.Logf("js/%s: %d bytes, %d gzipped (budget %d)", f.Dist, len(b), gz.Len(), budget[f.Dist])
		if gz.Len() > budget[f.Dist] {
			t.Errorf("js/%s is %d bytes gzipped, over its budget of %d", f.Dist, gz.Len(), budget[f.Dist])
		}
	}
}
