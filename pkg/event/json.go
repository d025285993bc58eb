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
	w.dst = time.UnixMicro(us).UTC().AppendFormat(w.dst, "2006-01-02T15:04:05.000000Z07:00")
	w.dst = append(w.dst, '"')
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
