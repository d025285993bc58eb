// Command jsbuild rebuilds js/dist/t.js from js/src/tracker.js (make js).
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"

	"github.com/touchtrail/touchtrail/js/internal/minify"
)

func main() {
	built, err := minify.Build("js")
	if err != nil {
		fmt.Fprintln(os.Stderr, "jsbuild:", err)
		os.Exit(1)
	}
	for _, f := range minify.Files {
		out := built[f.Dist]
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(out)
		zw.Close()
		fmt.Printf("js/%s: %d bytes, %d gzipped\n", f.Dist, len(out), gz.Len())
	}
}
