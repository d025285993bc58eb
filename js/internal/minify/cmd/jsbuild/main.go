// Command jsbuild rebuilds js/dist/ from js/src/ — every file of
// minify.Builds (make js; run it from the repository root).
package main

import (
	"fmt"
	"os"

	"github.com/touchtrail/touchtrail/js/internal/minify"
)

func main() {
	built, err := minify.BuildAll("js")
	if err != nil {
		fmt.Fprintln(os.Stderr, "jsbuild:", err)
		os.Exit(1)
	}
	for _, b := range minify.Builds {
		out := built[b.Dist]
		fmt.Printf("js/%s: %d bytes, %d gzipped (budget %d)\n", b.Dist, len(out), minify.Gzipped(out), b.Budget)
	}
}
