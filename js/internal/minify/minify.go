// Package minify builds the snippet with esbuild's Go API (no npm needed):
// js/src/tracker.js, minified for ES2017 browsers, into js/dist/t.js and, with
// the chat hooks, js/dist/t-chat.js; the add-ons js/src/checkout.js into
// js/dist/t-checkout.js, js/src/engage.js into js/dist/t-engage.js and js/src/feedback.js into js/dist/t-feedback.js. Only the build command and the tests import it, so
// esbuild never reaches the collector's binary.
package minify

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Source is the readable snippet, relative to js/.
const Source = "src/tracker.js"

// A Build is one file made from a source: Chat is the value of the source's
// build-time constant CHAT (the chat hooks are in the build or not).
type Build struct {
	Src    string // relative to js/
	Dist   string // relative to js/
	Chat   bool
	Budget int // most bytes gzipped (gzip.BestCompression) the file may take
}

// Builds lists the files made: the tracker; the same tracker with the chat
// hooks ([data-touchtrail-chat] clicks and the widgets' open events) for
// sites that run a chat; the add-on that reads checkout steps from markup;
// the add-on that reports engaged time and scroll depth.
var Builds = []Build{
	{Src: Source, Dist: "dist/t.js", Chat: false, Budget: 1536},
	{Src: Source, Dist: "dist/t-chat.js", Chat: true, Budget: 1856},
	{Src: "src/checkout.js", Dist: "dist/t-checkout.js", Budget: 512},
	{Src: "src/engage.js", Dist: "dist/t-engage.js", Budget: 640},
	{Src: "src/feedback.js", Dist: "dist/t-feedback.js", Budget: 1536},
}

// Minify returns src minified for ES2017 browsers, with the identifier CHAT
// replaced by chat (the code it guards is dropped when false).
func Minify(src []byte, chat bool) ([]byte, error) {
	res := api.Transform(string(src), api.TransformOptions{
		Loader:            api.LoaderJS,
		Target:            api.ES2017,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetUTF8,
		Define:            map[string]string{"CHAT": strconv.FormatBool(chat)},
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

// BuildAll minifies the sources under jsDir into every file of Builds and
// returns the built bytes by dist path.
func BuildAll(jsDir string) (map[string][]byte, error) {
	built := map[string][]byte{}
	for _, b := range Builds {
		src, err := os.ReadFile(filepath.Join(jsDir, b.Src))
		if err != nil {
			return nil, fmt.Errorf("read snippet source: %w", err)
		}
		out, err := Minify(src, b.Chat)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Src, err)
		}
		if err := os.WriteFile(filepath.Join(jsDir, b.Dist), out, 0o644); err != nil {
			return nil, fmt.Errorf("write snippet: %w", err)
		}
		built[b.Dist] = out
	}
	return built, nil
}

// Gzipped returns the size of b compressed as the collector serves it
// (gzip.BestCompression).
func Gzipped(b []byte) int {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return gz.Len()
}
