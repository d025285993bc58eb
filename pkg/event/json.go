package event

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends tp as the JSON object the query API returns: wire names,
// times as RFC 3339 (UTC, microseconds), empty fields left out. It never
// writes ClientIP or UserAgent.
func AppendJSON(dst []byte, tp *Touchpoint) []byte {
	w := jsonObject{Dst: append(dst, '{')}
	w.Str("id", tp.ID)
	w.Str("type", tp.Type.String())
	w.Str("site", tp.Site)
	if !tp.Visitor.IsZero() {
		w.Key("visitor")
		w.Dst = append(w.Dst, '"')
		w.Dst = tp.Visitor.AppendHex(w.Dst)
		w.Dst = append(w.Dst, '"')
	}
	w.Str("session", tp.Session)
	w.uint("seq", uint64(tp.Seq))
	w.time("time", tp.Derived)
	w.time("client_ts", tp.TS)
	w.time("client_sent", tp.Sent)
	w.time("received", tp.Received)
	appendFields(&w, tp)
	w.Str("browser", tp.Browser)
	w.Str("browser_version", tp.BrowserVersion)
	w.Str("os", tp.OS)
	w.Str("os_version", tp.OSVersion)
	w.Str("device", tp.Device.String())
	if tp.Bot {
		w.Key("bot")
		w.Dst = append(w.Dst, "true"...)
	}
	w.Str("country", tp.Country)
	w.Str("region", tp.Region)
	w.Str("city", tp.City)
	w.Str("channel", tp.Channel.String())
	w.Str("utm_source", tp.UTM.Source)
	w.Str("utm_medium", tp.UTM.Medium)
	w.Str("utm_campaign", tp.UTM.Campaign)
	w.Str("utm_term", tp.UTM.Term)
	w.Str("utm_content", tp.UTM.Content)
	w.Str("ip_prefix", tp.IPPrefix)
	return append(w.Dst, '}')
}

// AppendWire appends tp in the wire format that Decoder reads (times as Unix
// milliseconds), as the SDK sends it. Trusted senders' ClientIP and UserAgent
// are written as "ip" and "ua"; enrichment fields are not written.
func AppendWire(dst []byte, tp *Touchpoint) []byte {
	w := jsonObject{Dst: append(dst, '{')}
	w.Str("id", tp.ID)
	w.Str("type", tp.Type.String())
	w.Str("site", tp.Site)
	if !tp.Visitor.IsZero() {
		w.Key("visitor")
		w.Dst = append(w.Dst, '"')
		w.Dst = tp.Visitor.AppendHex(w.Dst)
		w.Dst = append(w.Dst, '"')
	}
	w.Str("session", tp.Session)
	w.uint("seq", uint64(tp.Seq))
	w.millis("ts", tp.TS)
	w.millis("sent", tp.Sent)
	appendFields(&w, tp)
	if tp.ClientIP.IsValid() {
		w.Key("ip")
		w.Dst = append(w.Dst, '"')
		w.Dst = tp.ClientIP.WithZone("").AppendTo(w.Dst) // a zone could hold a quote
		w.Dst = append(w.Dst, '"')
	}
	w.Str("ua", tp.UserAgent)
	return append(w.Dst, '}')
}

// appendFields writes the per-type fields shared by both JSON forms.
func appendFields(w *jsonObject, tp *Touchpoint) {
	w.Str("url", tp.URL)
	w.Str("title", tp.Title)
	w.Str("referrer", tp.Referrer)
	w.Str("name", tp.Name)
	w.Str("query", tp.Query)
	if tp.Results >= 0 && (tp.Type == TypeSearch || tp.Results > 0) {
		w.Key("results")
		w.Dst = strconv.AppendInt(w.Dst, int64(tp.Results), 10)
	}
	w.Str("widget", tp.Widget)
	w.uint("step", uint64(tp.Step))
	if tp.Value != 0 && !math.IsNaN(tp.Value) && !math.IsInf(tp.Value, 0) {
		w.Key("value")
		w.Dst = strconv.AppendFloat(w.Dst, tp.Value, 'f', -1, 64)
	}
	w.Str("currency", tp.Currency)
	w.Str("user", tp.User)
	if tp.Type == TypeFeedback || tp.Score != 0 {
		w.Key("score")
		w.Dst = strconv.AppendInt(w.Dst, int64(tp.Score), 10)
	}
	if tp.Scale != 0 {
		w.Key("scale")
		w.Dst = strconv.AppendInt(w.Dst, int64(tp.Scale), 10)
	}
	w.Str("comment", tp.Comment)
	w.Str("ticket", tp.Ticket)
	w.Str("status", tp.Status.String())
	w.Str("ticket_channel", tp.TicketChannel.String())
	w.Str("category", tp.TicketCategory)
	w.Str("subject", tp.Subject)
	if len(tp.Props) > 0 {
		w.Key("props")
		w.Dst = append(w.Dst, '{')
		for i, p := range tp.Props {
			if i > 0 {
				w.Dst = append(w.Dst, ',')
			}
			w.Dst = AppendJSONString(w.Dst, p.Key)
			w.Dst = append(w.Dst, ':')
			w.Dst = AppendJSONString(w.Dst, p.Value)
		}
		w.Dst = append(w.Dst, '}')
	}
}

// Object appends one JSON object, field by field, to Dst: begin it with
// Object{Dst: append(dst, '{')} and end it with append(o.Dst, '}'). Key
// writes the comma and the quoted key (keys are written as they are: pass
// plain ASCII names); Str leaves out an empty value.
type Object struct {
	Dst   []byte
	comma bool
}

// jsonObject is the name the encoders of this package use.
type jsonObject = Object

// Key writes the comma before every field but the first, and "k":.
func (w *Object) Key(k string) {
	if w.comma {
		w.Dst = append(w.Dst, ',')
	}
	w.comma = true
	w.Dst = append(w.Dst, '"')
	w.Dst = append(w.Dst, k...)
	w.Dst = append(w.Dst, '"', ':')
}

// Str writes k with the JSON string v, unless v is empty.
func (w *Object) Str(k, v string) {
	if v == "" {
		return
	}
	w.Key(k)
	w.Dst = AppendJSONString(w.Dst, v)
}

// Int writes k with v, zero included.
func (w *Object) Int(k string, v int64) {
	w.Key(k)
	w.Dst = strconv.AppendInt(w.Dst, v, 10)
}

func (w *jsonObject) uint(k string, v uint64) {
	if v == 0 {
		return
	}
	w.Key(k)
	w.Dst = strconv.AppendUint(w.Dst, v, 10)
}

func (w *jsonObject) time(k string, us int64) {
	if us == 0 {
		return
	}
	w.Key(k)
	w.Dst = append(w.Dst, '"')
	w.Dst = AppendTimeMicros(w.Dst, us)
	w.Dst = append(w.Dst, '"')
}

// AppendTimeMicros appends the Unix µs time us in UTC as RFC 3339 with six
// fractional digits ("2006-01-02T15:04:05.000000Z"), as
// time.UnixMicro(us).UTC().AppendFormat does, at a fifth of its cost for
// the years 1970–9999 (others take that path).
func AppendTimeMicros(dst []byte, us int64) []byte {
	const maxMicros = 253402300799999999 // 9999-12-31T23:59:59.999999Z
	if us < 0 || us > maxMicros {
		return time.UnixMicro(us).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z07:00")
	}
	secs := us / 1e6
	micros := us % 1e6
	days := secs / 86400
	rem := secs % 86400
	// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	var b [27]byte
	put := func(i int, v int64, n int) {
		for j := i + n - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	b[4] = '-'
	put(5, m, 2)
	b[7] = '-'
	put(8, d, 2)
	b[10] = 'T'
	put(11, rem/3600, 2)
	b[13] = ':'
	put(14, rem/60%60, 2)
	b[16] = ':'
	put(17, rem%60, 2)
	b[19] = '.'
	put(20, micros, 6)
	b[26] = 'Z'
	return append(dst, b[:]...)
}

func (w *jsonObject) millis(k string, us int64) {
	if us == 0 {
		return
	}
	w.Key(k)
	u := uint64(us)
	if us < 0 { // before 1970: the decoder refuses it, but the JSON stays valid
		w.Dst = append(w.Dst, '-')
		u = -u
	}
	w.Dst = strconv.AppendUint(w.Dst, u/1000, 10)
	if r := u % 1000; r != 0 {
		w.Dst = append(w.Dst, '.')
		w.Dst = append(w.Dst, byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
	}
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// U+2028 and U+2029 are escaped so the output is also safe JavaScript.
func AppendJSONString(dst []byte, s string) []byte {
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
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
