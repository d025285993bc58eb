package minify

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// jsDir is js/, seen from this package.
var jsDir = filepath.Join("..", "..")

// dist/ is committed: it must be what the minifier makes of src/ now.
func TestDistIsFresh(t *testing.T) {
	for _, b := range Builds {
		src, err := os.ReadFile(filepath.Join(jsDir, b.Src))
		if err != nil {
			t.Fatal(err)
		}
		want, err := Minify(src, b.Chat)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(jsDir, b.Dist))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("js/%s is stale against js/%s: run `make js` and commit", b.Dist, b.Src)
		}
	}
}

// The snippet is small on purpose: every feature pays for its bytes.
func TestSizeBudget(t *testing.T) {
	for _, b := range Builds {
		out, err := os.ReadFile(filepath.Join(jsDir, b.Dist))
		if err != nil {
			t.Fatal(err)
		}
		n := Gzipped(out)
		t.Logf("js/%s: %d bytes, %d gzipped (budget %d)", b.Dist, len(out), n, b.Budget)
		if n > b.Budget {
			t.Errorf("js/%s is %d bytes gzipped, over its budget of %d", b.Dist, n, b.Budget)
		}
	}
}

// CHAT is a build-time constant: t.js carries none of the chat hooks.
func TestChatHooksOnlyInChatBuild(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(jsDir, Source))
	if err != nil {
		t.Fatal(err)
	}
	for _, chat := range []bool{false, true} {
		out, err := Minify(src, chat)
		if err != nil {
			t.Fatal(err)
		}
		for _, hook := range []string{"data-touchtrail-chat", "Intercom", "chat:opened", "onChatMaximized", "messenger:on", "visibility_changed", "CHAT"} {
			want := chat && hook != "CHAT"
			if got := bytes.Contains(out, []byte(hook)); got != want {
				t.Errorf("chat=%v: %q in the build is %v, want %v", chat, hook, got, want)
			}
		}
	}
}

func TestMinifyReportsErrors(t *testing.T) {
	if _, err := Minify([]byte("(() => {"), false); err == nil {
		t.Fatal("no error for a syntax error")
	}
}
