package event

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// The wire is strict JSON: what encoding/json and browsers' JSON.stringify
// never produce is refused as a whole body.
func TestDecodeStrictJSON(t *testing.T) {
	f := func(name, body string) {
		t.Helper()
		var d Decoder
		var b Batch
		err := d.Decode([]byte(body), &b)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %s: err %v, want ErrMalformed", name, body, err)
		}
	}
	ev := func(field string) string {
		return `{"site":"s","events":[{"id":"1","type":"checkout_step","visitor":"v",` + field + `}]}`
	}
	f("NaN value", ev(`"value":NaN`))
	f("nan value", ev(`"value":nan`))
	f("Infinity value", ev(`"value":Infinity`))
	f("-Infinity value", ev(`"value":-Infinity`))
	f("inf value", ev(`"value":inf`))
	f("NaN prop", ev(`"x":NaN`))
	f("NaN ts", ev(`"ts":NaN`))
	f("leading zero", ev(`"step":01`))
	f("plus sign", ev(`"step":+1`))
	f("garbled number", ev(`"step":1-2`))
	f("missing fraction", ev(`"value":1.`))
	f("raw NUL in string", ev("\"title\":\"a\x00b\""))
	f("raw newline in string", ev("\"title\":\"a\nb\""))
	f("raw tab in string", ev("\"title\":\"a\tb\""))
	f("single quotes", `{'site':'s','events':[]}`)
	f("trailing comma", ev(`"step":1,`))
	f("bad escape", ev(`"title":"\x"`))
	f("short unicode escape", ev(`"title":"\u12"`))
	f("trailing garbage", ev(`"step":1`)+"x")
}

// One rule for strings: stored text is valid UTF-8 without control
// characters other than tab, LF and CR; everything else becomes U+FFFD.
func TestDecodeStringRule(t *testing.T) {
	f := func(name, jsonStr, want string) {
		t.Helper()
		var d Decoder
		var b Batch
		body := `{"site":"s","events":[{"id":"1","type":"pageview","visitor":"v","title":` + jsonStr + `,"k":` + jsonStr + `}]}`
		if err := d.Decode([]byte(body), &b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tp := &b.Events[0]
		if tp.Title != want {
			t.Errorf("%s: title %q, want %q", name, tp.Title, want)
		}
		if len(tp.Props) != 1 || tp.Props[0].Value != want {
			t.Errorf("%s: props %q, want value %q", name, tp.Props, want)
		}
		if !utf8.ValidString(tp.Title) {
			t.Errorf("%s: title %q is not valid UTF-8", name, tp.Title)
		}
	}
	f("plain", `"Shoes"`, "Shoes")
	f("unicode kept", `"Ščítání – 東京 😀"`, "Ščítání – 東京 😀")
	f("escaped pair kept", `"\ud83d\ude00"`, "😀")
	f("tab LF CR kept", `"a\tb\nc\rd"`, "a\tb\nc\rd")
	f("escaped NUL", `"a\u0000b"`, "a\uFFFDb")
	f("escaped BEL and ESC", `"\u0007\u001b[31m"`, "\uFFFD\uFFFD[31m")
	f("DEL", `"a\u007fb"`, "a\uFFFDb")
	f("C1 control", `"a\u0085b"`, "a\uFFFDb")
	f("lone high surrogate", `"a\ud800b"`, "a\uFFFDb")
	f("lone low surrogate", `"a\udc00b"`, "a\uFFFDb")
	f("invalid UTF-8 byte", "\"a\xffb\"", "a\uFFFDb")
	f("truncated UTF-8", "\"a\xe6\x9d\"", "a\uFFFD\uFFFD")
	f("overlong encoding", "\"\xc0\xaf\"", "\uFFFD\uFFFD")
	f("UTF-8 encoded surrogate", "\"\xed\xa0\x80\"", "\uFFFD\uFFFD\uFFFD")
}
