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
	w := jsonObject{dst: append(dst, '{')}
	w.str("id", tp.ID)
	w.str("type", tp.Type.String())
	w.str("site", tp.Site)
	if !tp.Visitor.IsZero() {
		w.key("visitor")
		w.dst = append(w.dst, '"')
		w.dst = tp.Visitor.AppendHex(w.dst)
		w.dst = append(w.dst, '"')
	}
	w.str("session", tp.Session)
	w.uint("seq", uint64(tp.Seq))
	w.time("time", tp.Derived)
	w.time("client_ts", tp.TS)
	w.time("client_sent", tp.Sent)
	w.time("received", tp.Received)
	appendFields(&w, tp)
	w.str("browser", tp.Browser)
	w.str("browser_version", tp.BrowserVersion)
	w.str("os", tp.OS)
	w.str("os_version", tp.OSVersion)
	w.str("device", tp.Device.String())
	if tp.Bot {
		w.key("bot")
		w.dst = append(w.dst, "true"...)
	}
	w.str("country", tp.Country)
	w.str("region", tp.Region)
	w.str("city", tp.City)
	w.str("channel", tp.Channel.String())
	w.str("utm_source", tp.UTM.Source)
	w.str("utm_medium", tp.UTM.Medium)
	w.str("utm_campaign", tp.UTM.Campaign)
	w.str("utm_term", tp.UTM.Term)
	w.str("utm_content", tp.UTM.Content)
	w.str("ip_prefix", tp.IPPrefix)
	return append(w.dst, '}')
}

// AppendWire appends tp in the wire format that Decoder reads (times as Unix
// milliseconds), as the SDK sends it. Trusted senders' ClientIP and UserAgent
// are written as "ip" and "ua"; enrichment fields are not written.
func AppendWire(dst []byte, tp *Touchpoint) []byte {
	w := jsonObject{dst: append(dst, '{')}
	w.str("id", tp.ID)
	w.str("type", tp.Type.String())
	w.str("site", tp.Site)
	if !tp.Visitor.IsZero() {
		w.key("visitor")
		w.dst = append(w.dst, '"')
		w.dst = tp.Visitor.AppendHex(w.dst)
		w.dst = append(w.dst, '"')
	}
	w.str("session", tp.Session)
	w.uint("seq", uint64(tp.Seq))
	w.millis("ts", tp.TS)
	w.millis("sent", tp.Sent)
	appendFields(&w, tp)
	if tp.ClientIP.IsValid() {
		w.key("ip")
		w.dst = append(w.dst, '"')
		w.dst = tp.ClientIP.WithZone("").AppendTo(w.dst) // a zone could hold a quote
		w.dst = append(w.dst, '"')
	}
	w.str("ua", tp.UserAgent)
	return append(w.dst, '}')
}

// appendFields writes the per-type fields shared by both JSON forms.
func appendFields(w *jsonObject, tp *Touchpoint) {
	w.str("url", tp.URL)
	w.str("title", tp.Title)
	w.str("referrer", tp.Referrer)
	w.str("name", tp.Name)
	w.str("query", tp.Query)
	if tp.Results >= 0 && (tp.Type == TypeSearch || tp.Results > 0) {
		w.key("results")
		w.dst = strconv.AppendInt(w.dst, int64(tp.Results), 10)
	}
	w.str("widget", tp.Widget)
	w.uint("step", uint64(tp.Step))
	if tp.Value != 0 && !math.IsNaN(tp.Value) && !math.IsInf(tp.Value, 0) {
		w.key("value")
		w.dst = strconv.AppendFloat(w.dst, tp.Value, 'f', -1, 64)
	}
	w.str("currency", tp.Currency)
	w.str("user", tp.User)
	if tp.Type == TypeFeedback || tp.Score != 0 {
		w.key("score")
		w.dst = strconv.AppendInt(w.dst, int64(tp.Score), 10)
	}
	if tp.Scale != 0 {
		w.key("scale")
		w.dst = strconv.AppendInt(w.dst, int64(tp.Scale), 10)
	}
	w.str("comment", tp.Comment)
	w.str("ticket", tp.Ticket)
	w.str("status", tp.Status.String())
	w.str("ticket_channel", tp.TicketChannel.String())
	w.str("category", tp.TicketCategory)
	w.str("subject", tp.Subject)
	if len(tp.Props) > 0 {
		w.key("props")
		w.dst = append(w.dst, '{')
		for i, p := range tp.Props {
			if i > 0 {
				w.dst = append(w.dst, ',')
			}
			w.dst = AppendJSONString(w.dst, p.Key)
			w.dst = append(w.dst, ':')
			w.dst = AppendJSONString(w.dst, p.Value)
		}
		w.dst = append(w.dst, '}')
	}
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
	w.dst = AppendJSONString(w.dst, v)
}

func (w *jsonObject) uint(k string, v uint64) {
	if v == 0 {
		return
	}
	w.key(k)
	w.dst = strconv.AppendUint(w.dst, v, 10)
}

func (w *jsonObject) time(k string, us int64) {
	if us == 0 {
		return
	}
	w.key(k)
	w.dst = append(w.dst, '"')
	w.dst = AppendTimeMicros(w.dst, us)
	w.dst = append(w.dst, '"')
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
	w.key(k)
	u := uint64(us)
	if us < 0 { // before 1970: the decoder refuses it, but the JSON stays valid
		w.dst = append(w.dst, '-')
		u = -u
	}
	w.dst = strconv.AppendUint(w.dst, u/1000, 10)
	if r := u % 1000; r != 0 {
		w.dst = append(w.dst, '.')
		w.dst = append(w.dst, byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
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
