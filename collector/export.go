package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// exportTimeout bounds one export's scan of the store.
const exportTimeout = 30 * time.Minute

// csvColumns are the columns of format=csv, in order.
var csvColumns = []string{"id", "type", "site", "visitor", "session", "seq", "time", "url", "title", "referrer", "name",
	"query", "results", "widget", "step", "value", "currency", "user", "score", "scale", "comment",
	"browser", "browser_version", "os", "os_version", "device", "bot", "country", "region", "city", "channel",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "props"}

// export answers GET /v1/sites/{site}/export?from=&to=&format=ndjson|csv:
// every touchpoint whose time is in [from, to) (both optional), visitor by
// visitor and in trail order within each, streamed as it is read (gzipped
// when the client accepts it). NDJSON lines are the query API's touchpoint
// objects, which `touchtrail import` stores back as they were; CSV has a
// header row and the columns of csvColumns. The answer has begun by the
// time the store is read: a failure halfway ends the stream without its
// last chunk, which the client sees as a broken body (the export command
// then keeps no file). On a cluster node the trails come from every store
// (clusterscan.go); partitions without a live store are a 503 naming them.
func (s *Server) export(ctx *fasthttp.RequestCtx, site string) error {
	args := ctx.QueryArgs()
	from, err := parseTimeArg("from", args.Peek("from"))
	if err != nil {
		return err
	}
	to, err := parseTimeArg("to", args.Peek("to"))
	if err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return errStatus(fasthttp.StatusBadRequest, "from must be before to")
	}
	format := string(args.Peek("format"))
	switch format {
	case "":
		format = "ndjson"
	case "ndjson", "csv":
	default:
		return errStatus(fasthttp.StatusBadRequest, "format %q: want ndjson or csv", format)
	}
	gz := ctx.Request.Header.HasAcceptEncoding("gzip")
	if format == "csv" {
		ctx.SetContentType("text/csv; charset=utf-8")
	} else {
		ctx.SetContentType("application/x-ndjson")
	}
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="`+site+`.`+format+`"`)
	if gz {
		ctx.Response.Header.Set(fasthttp.HeaderContentEncoding, "gzip")
	}
	ctx.Response.Header.Set(fasthttp.HeaderVary, "Accept-Encoding")
	if ctx.IsHead() {
		return nil
	}
	scan, stop, err := s.openScan(site, from, to) // on a cluster node: 503 naming the partitions without a live store
	if err != nil {
		return err
	}
	fromUS, toUS := from.UnixMicro(), to.UnixMicro()
	streamBody(ctx, func(bw *bufio.Writer) error {
		defer stop()
		var w interface {
			Write([]byte) (int, error)
		} = bw
		var zw *gzip.Writer
		if gz {
			zw, _ = gzip.NewWriterLevel(bw, gzip.BestSpeed)
			w = zw
		}
		var cw *csv.Writer
		if format == "csv" {
			cw = csv.NewWriter(w)
			_ = cw.Write(csvColumns)
		}
		var line []byte
		var row []string
		n := 0
		err := scan(func(v event.VisitorID, trail []event.Touchpoint) error {
			for i := range trail {
				tp := &trail[i]
				if !from.IsZero() && tp.Derived < fromUS || !to.IsZero() && tp.Derived >= toUS {
					continue
				}
				tp.Site, tp.Visitor = site, v
				n++
				if cw != nil {
					row = appendCSVRow(row[:0], tp)
					if err := cw.Write(row); err != nil {
						return err
					}
					continue
				}
				line = append(event.AppendJSON(line[:0], tp), '\n')
				if _, err := w.Write(line); err != nil {
					return err // the client went away
				}
			}
			return nil
		})
		if cw != nil {
			cw.Flush()
			if err == nil {
				err = cw.Error()
			}
		}
		if zw != nil {
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			s.log.Warn("export ended early", "site", site, "touchpoints", n, "err", err)
			return err
		}
		s.log.Info("export", "site", site, "format", format, "touchpoints", n)
		return nil
	})
	return nil
}

func appendCSVRow(row []string, tp *event.Touchpoint) []string {
	t := func(us int64) string {
		if us == 0 {
			return ""
		}
		return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	}
	u := func(n uint64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatUint(n, 10)
	}
	results := ""
	if tp.Results >= 0 && (tp.Type == event.TypeSearch || tp.Results > 0) {
		results = strconv.Itoa(int(tp.Results))
	}
	value := ""
	if tp.Value != 0 {
		value = strconv.FormatFloat(tp.Value, 'f', -1, 64)
	}
	score := ""
	if tp.Type == event.TypeFeedback || tp.Score != 0 {
		score = strconv.Itoa(int(tp.Score))
	}
	bot := ""
	if tp.Bot {
		bot = "true"
	}
	return append(row, tp.ID, tp.Type.String(), tp.Site, tp.Visitor.String(), tp.Session, u(uint64(tp.Seq)), t(tp.Derived),
		csvSafe(tp.URL), csvSafe(tp.Title), csvSafe(tp.Referrer), csvSafe(tp.Name), csvSafe(tp.Query), results, csvSafe(tp.Widget),
		u(uint64(tp.Step)), value, tp.Currency, csvSafe(tp.User), score, u(uint64(tp.Scale)), csvSafe(tp.Comment),
		tp.Browser, tp.BrowserVersion, tp.OS, tp.OSVersion, tp.Device.String(), bot, tp.Country, tp.Region, tp.City,
		tp.Channel.String(), csvSafe(tp.UTM.Source), csvSafe(tp.UTM.Medium), csvSafe(tp.UTM.Campaign), csvSafe(tp.UTM.Term),
		csvSafe(tp.UTM.Content), propsJSON(tp.Props))
}

// propsJSON writes props as one JSON object, in their order.
func propsJSON(props []event.Prop) string {
	if len(props) == 0 {
		return ""
	}
	b := []byte{'{'}
	for i, p := range props {
		if i > 0 {
			b = append(b, ',')
		}
		b = event.AppendJSONString(b, p.Key)
		b = append(b, ':')
		b = event.AppendJSONString(b, p.Value)
	}
	return string(append(b, '}'))
}

// csvSafe defuses a visitor-controlled cell that a spreadsheet would run as
// a formula (=, +, -, @ first): it is prefixed with a single quote.
func csvSafe(s string) string {
	if s != "" && bytes.IndexByte([]byte("=+-@\t\r"), s[0]) >= 0 {
		return "'" + s
	}
	return s
}
