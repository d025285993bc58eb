package sdk

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendWire appends e in the collector's wire format (times as Unix
// milliseconds), sent as of now. Enrichment is the collector's.
func appendWire(dst []byte, e *Event, sent time.Time) []byte {
	w := jsonObject{dst: append(dst, '{')}
	w.str("id", e.ID)
	w.str("type", string(e.Type))
	w.str("visitor", e.Visitor)
	w.str("session", e.Session)
	w.uint("seq", uint64(e.Seq))
	w.millis("ts", e.Time)
	w.millis("sent", sent)
	w.str("url", e.URL)
	w.str("title", e.Title)
	w.str("referrer", e.Referrer)
	w.str("name", e.Name)
	w.str("query", e.Query)
	if n, known := e.Results.Count(); known {
		w.int("results", int64(n))
	}
	w.str("widget", e.Widget)
	if e.Step > 0 {
		w.int("step", int64(e.Step))
	}
	if e.Value != 0 && !math.IsNaN(e.Value) && !math.IsInf(e.Value, 0) {
		w.key("value")
		w.dst = strconv.AppendFloat(w.dst, e.Value, 'f', -1, 64)
	}
	w.str("currency", e.Currency)
	w.str("user", e.User)
	if e.Type == TypeFeedback || e.Score != 0 {
		w.int("score", int64(e.Score))
	}
	if e.Scale != 0 {
		w.int("scale", int64(e.Scale))
	}
	w.str("comment", e.Comment)
	if e.Type == TypeTicket {
		w.str("ticket", e.Ticket.ID)
		w.str("status", e.Ticket.Status)
		w.str("ticket_channel", e.Ticket.Channel)
		w.str("category", e.Ticket.Category)
		w.str("subject", e.Ticket.Subject)
	}
	if len(e.Props) > 0 {
		w.key("props")
		w.dst = append(w.dst, '{')
		for i, p := range e.Props {
			if i > 0 {
				w.dst = append(w.dst, ',')
			}
			w.dst = appendJSONString(w.dst, p.Key)
			w.dst = append(w.dst, ':')
			w.dst = appendJSONString(w.dst, p.Value)
		}
		w.dst = append(w.dst, '}')
	}
	if e.ClientIP.IsValid() {
		w.key("ip")
		w.dst = append(w.dst, '"')
		w.dst = e.ClientIP.WithZone("").AppendTo(w.dst) // a zone could hold a quote
		w.dst = append(w.dst, '"')
	}
	w.str("ua", e.UserAgent)
	return append(w.dst, '}')
}

type jsonObject struct {
	dst   []byte
	comma bool
}

func (w *jsonObject) key(k string) {
	if w.comma {
		w.dst = append(w.dst, ',')
	}
	w.comma = true
	w.dst = append(w.dst, '"')
	w.dst = append(w.dst, k...)
	w.dst = append(w.dst, '"', ':')
}

func (w *jsonObject) str(k, v string) {
	if v == "" {
		return
	}
	w.key(k)
	w.dst = appendJSONString(w.dst, v)
}

func (w *jsonObject) uint(k string, v uint64) {
	if v == 0 {
		return
	}
	w.key(k)
	w.dst = strconv.AppendUint(w.dst, v, 10)
}

func (w *jsonObject) int(k string, v int64) {
	w.key(k)
	w.dst = strconv.AppendInt(w.dst, v, 10)
}

// millis writes t as Unix milliseconds with microseconds as decimals.
func (w *jsonObject) millis(k string, t time.Time) {
	if t.IsZero() {
		return
	}
	w.key(k)
	us := t.UnixMicro()
	u := uint64(us)
	if us < 0 { // before 1970: the collector refuses it, but the JSON stays valid
		w.dst = append(w.dst, '-')
		u = -u
	}
	w.dst = strconv.AppendUint(w.dst, u/1000, 10)
	if r := u % 1000; r != 0 {
		w.dst = append(w.dst, '.', byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
	}
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// validSite is the collector's rule for site ids: 1 to 64 of A-Z a-z 0-9 _ . -
func validSite(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
