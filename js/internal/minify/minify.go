// Package minify builds the snippet: js/src/tracker.js minified with
// esbuild's Go API into js/dist/t.js (no npm needed). Only the build tool and
// the tests import it, so esbuild never reaches the collector's binary.
package minify

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Files maps each snippet source to its built file, relative to js/: the
// tracker, and the chat-widget hooks it loads only where a widget is present.
var Files = []struct{ Src, Dist string }{
	{"src/tracker.js", "dist/t.js"},
	{"src/chat.js", "dist/t-chat.js"},
}

// Minify returns src minified for ES2017 browsers.
func Minify(src []byte) ([]byte, error) {
	res := api.Transform(string(src), api.TransformOptions{
		Loader:            api.LoaderJS,
		Target:            api.ES2017,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetUTF8,
	})
	if len(res.Errors) > 0 {
		var msgs []string
		for _, m := range res.Errors {
			loc := ""
			if m.Location != nil {
				loc = fmt.Sprintf("%d:%d: ", m.Location.Line, m.Location.Column)
			}
			msgs = append(msgs, loc+m.Text)
		}
		return nil, errors.New("minify: " + strings.Join(msgs, "; "))
	}
	return res.Code, nil
}

// Build minifies every source of Files under jsDir into its dist file and
// returns the built bytes by dist path.
func Build(jsDir string) (map[string][]byte, error) {
	built := map[string][]byte{}
	for _, f := range Files {
		src, err := os.ReadFile(filepath.Join(jsDir, f.Src))
		if err != nil {
			return nil, fmt.Errorf("read snippet source: %w", err)
		}
		out, err := Minify(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Src, err)
		}
		if err := os.WriteFile(filepath.Join(jsDir, f.Dist), out, 0o644); err != nil {
			return nil, fmt.Errorf("write snippet: %w", err)
		}
		built[f.Dist] = out
	}
	return built, nil
}
