package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/touchtrail/touchtrail/collector/collectortest"
)

func TestCount(t *testing.T) {
	f := func(n int, noun, want string) {
		t.Helper()
		if got := count(n, noun); got != want {
			t.Errorf("count(%d, %q) = %q, want %q", n, noun, got, want)
		}
	}
	f(1, "session", "1 session")
	f(0, "session", "0 sessions")
	f(2, "touchpoint", "2 touchpoints")
	f(1, "result", "1 result")
	f(-1, "result", "-1 result")
	f(3, "search", "3 searches")
	f(2, "entry", "2 entries")
	f(2, "day", "2 days")
}

func TestDisplayURL(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := displayURL(in); got != want {
			t.Errorf("displayURL(%q) = %q, want %q", in, got, want)
		}
	}
	f("https://shop.example/ar/%D8%A8%D8%AD%D8%AB?q=%D8%B4%D8%AD%D9%86+%D9%85%D8%AC%D8%A7%D9%86%D9%8A",
		"https://shop.example/ar/بحث?q=شحن+مجاني")
	f("/ro-RO/c%C4%83utare?s=livrare+%C3%AEn+Bucure%C8%99ti", "/ro-RO/căutare?s=livrare+în+București")
	f("/ro/c%c4%83utare", "/ro/căutare")            // lower-case hex
	f("/a%2Fb?x=%26%3D%20", "/a%2Fb?x=%26%3D%20")   // ASCII escapes mean something: kept
	f("/bad/%FF%FE", "/bad/%FF%FE")                 // not UTF-8
	f("/cut/%D8", "/cut/%D8")                       // an incomplete rune
	f("/cut/%D8%A8%D8", "/cut/ب%D8")                // a whole rune, then an incomplete one
	f("/x/%E2%80%AEgpj.exe", "/x/%E2%80%AEgpj.exe") // a bidi override stays escaped
	f("/x/%C2%85", "/x/%C2%85")                     // a C1 control
	f("/100%", "/100%")
	f("/%zz%D8%A8", "/%zzب")
	f("", "")
}

func TestCellIsolatesAndEscapes(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	f(cell("returns policy"), "returns policy")
	f(cell("livrare în București"), "livrare în București") // left to right: no isolate
	f(cell("شحن مجاني"), "\u2068شحن مجاني\u2069")
	f(cell("line\nbreak\x00"), `line\nbreak\x00`)
	f(cell("a\u202eb"), `a\u202eb`) // data cannot reorder the screen
	f(urlCell("/ar/%D8%A8%D8%AD%D8%AB"), "\u2066/ar/بحث\u2069")
	f(urlCell("/en/help"), "/en/help")
}

func TestWidth(t *testing.T) {
	f := func(s string, want int) {
		t.Helper()
		if got := width(s); got != want {
			t.Errorf("width(%q) = %d, want %d", s, got, want)
		}
	}
	f("abc", 3)
	f("ș", 1)
	f("s\u0326", 1)  // decomposed: s + combining comma below
	f("مُحَمَّد", 4) // four letters, their marks take no column
	f("\u2068شحن\u2069", 3)
	f("日本", 4)
}

// Columns line up on screen whatever the script: the column after a cell
// starts at the same display column on every line.
func TestTableAlignsByDisplayWidth(t *testing.T) {
	for _, right := range []bool{false, true} {
		var b strings.Builder
		tw := newTable(&b, right)
		fmt.Fprintln(tw, "PAGE\tQUERY\tNEXT\t")
		fmt.Fprintf(tw, "%s\t%s\t|\t\n", urlCell("/ar/%D8%A8%D8%AD%D8%AB"), cell("مُحَمَّد شحن"))
		fmt.Fprintf(tw, "%s\t%s\t|\t\n", urlCell("/ro/c%C4%83utare"), cell("s\u0326i t\u0326ar"))
		fmt.Fprintf(tw, "%s\t%s\t|\t\n", "/en/help/returns", "plain")
		fmt.Fprintln(tw, "last cell\tnot aligned")
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 5 {
			t.Fatalf("%d lines:\n%s", len(lines), b.String())
		}
		col := -1
		for _, l := range lines[1:4] {
			i := strings.Index(l, "|")
			if at := width(l[:i]); col == -1 {
				col = at
			} else if at != col {
				t.Errorf("right=%v: the third column starts at display column %d, not %d:\n%s", right, at, col, b.String())
			}
			if strings.HasSuffix(l, " ") {
				t.Errorf("trailing blanks in %q", l)
			}
		}
		// A line's last cell (no tab after it) starts at its column but sets
		// no width.
		if i, h := strings.Index(lines[4], "not aligned"), strings.Index(lines[0], "QUERY"); !right && width(lines[4][:i]) != width(lines[0][:h]) {
			t.Errorf("last line %q: its second cell is not under QUERY in %q", lines[4], lines[0])
		}
	}
}

// stdout runs f and returns what it printed.
func stdout(t *testing.T, f func() error) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	err = f()
	os.Stdout = old
	w.Close()
	out := <-done
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// The trail and journey commands against a real collector: Arabic and
// Romanian URLs readable, one session said in the singular, columns aligned.
func TestTrailAndJourneyText(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	const visitor = "0123456789abcdef0123456789abcdef"
	now := time.Now().Add(-time.Hour).UnixMilli()
	evs := []map[string]any{
		{"type": "pageview", "url": "https://shop.example/ar/"},
		{"type": "pageview", "url": "https://shop.example/ar/%D8%A8%D8%AD%D8%AB?q=%D8%B4%D8%AD%D9%86"},
		{"type": "search", "url": "https://shop.example/ar/faq.html", "query": "شحن مجاني", "results": 0},
		{"type": "search", "url": "https://shop.example/ar/faq.html", "query": "إرجاع", "results": 1},
		{"type": "pageview", "url": "https://shop.example/ro-RO/c%C4%83utare?s=livrare+%C3%AEn+Bucure%C8%99ti"},
		{"type": "checkout_step", "url": "https://shop.example/ro-RO/checkout", "step": 1, "name": "coș", "value": 120.5, "currency": "RON"},
	}
	for i, e := range evs {
		e["id"], e["visitor"], e["seq"], e["ts"] = fmt.Sprint("t", i), visitor, i+1, now+int64(i)*60_000
		e["ua"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	}
	body, _ := json.Marshal(map[string]any{"site": collectortest.Site, "events": evs})
	req, _ := http.NewRequest("POST", col.URL+"/v1/events", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+collectortest.WriteKey)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(answer), `"accepted":6`) {
		t.Fatalf("ingest: %d %s", resp.StatusCode, answer)
	}
	flags := []string{"-url", col.URL, "-token", collectortest.ReadToken, "-site", collectortest.Site, "-visitor", visitor}

	out := stdout(t, func() error { return trail(flags) })
	for _, want := range []string{
		"\u2066https://shop.example/ar/بحث?q=شحن\u2069",
		"https://shop.example/ro-RO/căutare?s=livrare+în+București",
		"\u2068\"شحن مجاني\"\u2069 → 0 results",
		"\u2068\"إرجاع\"\u2069 → 1 result ",
		"step 1 coș 120.50 RON",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trail output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "%D8") || strings.Contains(out, "%C4") {
		t.Errorf("trail output holds percent-encoded text:\n%s", out)
	}
	// Every row's DEVICE column starts where the header's does.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	head := width(lines[0][:strings.Index(lines[0], "DEVICE")])
	for _, l := range lines[1:] {
		if at := strings.Index(l, "desktop"); at < 0 || width(l[:at]) != head {
			t.Errorf("misaligned row (DEVICE at column %d):\n%s", head, out)
			break
		}
	}

	out = stdout(t, func() error { return journeyCmd(flags) })
	if !strings.HasPrefix(out, "6 touchpoints in 1 session; stages: ") {
		t.Errorf("journey output:\n%s", out)
	}
	if !strings.Contains(out, "\u2066/ar/\u2069 → \u2066/ro-RO/căutare\u2069") && !strings.Contains(out, "/ar/ → /ro-RO/căutare") {
		t.Errorf("journey entry and exit pages not decoded:\n%s", out)
	}
}

// FuzzDisplayURL: decoding only turns escapes of non-ASCII bytes into the
// text they spell; encoding those bytes again gives the URL back, and no
// decoded rune is a control or a bidi control.
func FuzzDisplayURL(f *testing.F) {
	for _, s := range []string{"/ar/%D8%A8%D8%AD%D8%AB?q=%D8%B4", "/ro/c%c4%83utare", "/%E2%80%AE", "/%FF%D8", "/%", "/%%D8%A8", "/%C2%85%C3%A9"} {
		f.Add(s)
	}
	high := regexp.MustCompile(`%[89a-fA-F][0-9a-fA-F]`)
	f.Fuzz(func(t *testing.T, u string) {
		for i := 0; i < len(u); i++ {
			if u[i] >= 0x80 {
				return // URLs on the wire are ASCII
			}
		}
		d := displayURL(u)
		var enc strings.Builder
		for i := 0; i < len(d); i++ {
			if d[i] >= 0x80 {
				fmt.Fprintf(&enc, "%%%02X", d[i])
			} else {
				enc.WriteByte(d[i])
			}
		}
		norm := func(s string) string { return high.ReplaceAllStringFunc(s, strings.ToUpper) }
		if norm(enc.String()) != norm(u) {
			t.Fatalf("%q shows as %q, which encodes back to %q", u, d, enc.String())
		}
		for _, r := range d {
			if r >= 0x80 && (!unicode.IsPrint(r) || bidiControl(r)) {
				t.Fatalf("%q shows as %q: %U decoded", u, d, r)
			}
		}
	})
}
