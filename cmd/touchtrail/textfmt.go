package main

// Text for people: the CLI's tables and sentences. URLs are shown decoded
// (readable Arabic and Romanian), right-to-left text is isolated so that a
// terminal's bidi algorithm cannot drag its neighbours across columns,
// columns are as wide as the text looks (combining marks and isolates take
// no column), and counts agree with their nouns.

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// count returns n with its noun: "1 session", "0 sessions", "2 searches".
func count(n int, noun string) string {
	if n == 1 || n == -1 {
		return strconv.Itoa(n) + " " + noun
	}
	return strconv.Itoa(n) + " " + plural(noun)
}

// plural returns the plural of an English noun of the CLI's vocabulary.
func plural(noun string) string {
	switch {
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return noun + "es"
	case len(noun) > 1 && noun[len(noun)-1] == 'y' && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	}
	return noun + "s"
}

// displayURL returns u with the percent-escapes of non-ASCII text decoded,
// as browsers show an address: "/ar/%D8%A8%D8%AD%D8%AB" → "/ar/بحث",
// "/ro/c%C4%83utare" → "/ro/căutare". Escapes of ASCII bytes stay (a "%2F"
// in a path, a "%26" in a query mean something), and so does every escape
// that does not decode to printable UTF-8 or decodes to a bidi control.
func displayURL(u string) string {
	if !strings.Contains(u, "%") {
		return u
	}
	var b strings.Builder
	for i := 0; i < len(u); {
		if dec, n := decodeRun(u[i:]); n > 0 {
			b.WriteString(dec)
			i += n
			continue
		}
		b.WriteByte(u[i])
		i++
	}
	return b.String()
}

// decodeRun decodes the run of escapes of bytes ≥ 0x80 at the start of s
// when it forms printable UTF-8 text; it returns the text and the length of
// s it took, or 0.
func decodeRun(s string) (string, int) {
	var raw []byte
	n := 0
	for n+2 < len(s) && s[n] == '%' {
		v, err := strconv.ParseUint(s[n+1:n+3], 16, 8)
		if err != nil || v < 0x80 {
			break
		}
		raw = append(raw, byte(v))
		n += 3
	}
	// Keep whole runes only: a run may end in the middle of none, but never
	// take an incomplete tail.
	for len(raw) > 0 && !utf8.Valid(raw) {
		raw = raw[:len(raw)-1]
		n -= 3
	}
	if len(raw) == 0 {
		return "", 0
	}
	for _, r := range string(raw) {
		if !unicode.IsPrint(r) || bidiControl(r) {
			return "", 0
		}
	}
	return string(raw), n
}

// Unicode bidi isolates: text between an opener and PDI takes no part in
// the direction of what surrounds it.
const (
	lri = '\u2066' // left-to-right isolate
	fsi = '\u2068' // first-strong isolate
	pdi = '\u2069' // pop directional isolate
)

// bidiControl reports whether r changes the direction of text around it.
func bidiControl(r rune) bool {
	return r == '\u200e' || r == '\u200f' || r == '\u061c' || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// rtl reports whether r is written right to left.
func rtl(r rune) bool {
	return unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko, unicode.Samaritan, unicode.Mandaic)
}

// cell returns s for a table cell or a sentence: control and bidi control
// characters shown as escapes (data cannot reorder the screen), and text
// holding right-to-left letters isolated, in its own direction.
func cell(s string) string { return isolate(s, fsi) }

// urlCell returns the URL u decoded (displayURL) for a table cell: a URL
// reads left to right even when its words do not ("/ar/بحث?q=شحن").
func urlCell(u string) string { return isolate(displayURL(u), lri) }

func isolate(s string, open rune) string {
	var b strings.Builder
	hasRTL := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError, r < ' ', r == 0x7f, r >= 0x80 && r < 0xa0, bidiControl(r):
			b.WriteString(strings.Trim(strconv.QuoteRune(r), "'"))
		default:
			hasRTL = hasRTL || rtl(r)
			b.WriteRune(r)
		}
	}
	if !hasRTL {
		return b.String()
	}
	return string(open) + b.String() + string(pdi)
}

// width is the number of terminal columns s takes: combining marks and
// format characters (isolates, joiners) none, East Asian wide characters
// two, others one.
func width(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		case wide(r):
			n += 2
		default:
			n++
		}
	}
	return n
}

// wide reports whether r takes two columns (East Asian Wide and Fullwidth,
// emoji).
func wide(r rune) bool {
	return r >= 0x1100 && r <= 0x115f || r >= 0x2e80 && r <= 0xa4cf && r != 0x303f || r >= 0xac00 && r <= 0xd7a3 ||
		r >= 0xf900 && r <= 0xfaff || r >= 0xfe30 && r <= 0xfe4f || r >= 0xff00 && r <= 0xff60 || r >= 0xffe0 && r <= 0xffe6 ||
		r >= 0x1f300 && r <= 0x1f64f || r >= 0x1f900 && r <= 0x1f9ff || r >= 0x20000 && r <= 0x3fffd
}

// table lays out tab-separated text in columns, as text/tabwriter does with
// a padding of 2 (its cells end with '\t'; the last cell of a line, without
// a tab after it, is not aligned), but measures cells with width: tabwriter
// counts runes, so a combining mark or a bidi isolate would shift every
// column after it. Write buffers; Flush writes the table.
type table struct {
	w          io.Writer
	alignRight bool
	buf        bytes.Buffer
}

// newTable returns a table writing to w; alignRight right-aligns the text of
// every aligned cell, as tabwriter.AlignRight.
func newTable(w io.Writer, alignRight bool) *table { return &table{w: w, alignRight: alignRight} }

func (t *table) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush writes the buffered lines, aligned, without trailing blanks, and
// empties the buffer.
func (t *table) Flush() error {
	if t.buf.Len() == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(t.buf.String(), "\n"), "\n")
	t.buf.Reset()
	var widths []int
	rows := make([][]string, len(lines))
	for i, l := range lines {
		rows[i] = strings.Split(l, "\t")
		for j, c := range rows[i][:len(rows[i])-1] {
			if j == len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], width(c))
		}
	}
	var out strings.Builder
	for _, row := range rows {
		var line strings.Builder
		for j, c := range row {
			pad := ""
			if j < len(row)-1 {
				pad = strings.Repeat(" ", widths[j]+2-width(c))
			}
			if t.alignRight {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		out.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(t.w, out.String())
	return err
}
