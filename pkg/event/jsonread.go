package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// storedJSON is the JSON object AppendJSON writes, for ParseJSON.
type storedJSON struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Site           string          `json:"site"`
	Visitor        string          `json:"visitor"`
	Session        string          `json:"session"`
	Seq            uint32          `json:"seq"`
	Time           string          `json:"time"`
	ClientTS       string          `json:"client_ts"`
	ClientSent     string          `json:"client_sent"`
	Received       string          `json:"received"`
	URL            string          `json:"url"`
	Title          string          `json:"title"`
	Referrer       string          `json:"referrer"`
	Name           string          `json:"name"`
	Query          string          `json:"query"`
	Results        *int32          `json:"results"`
	Widget         string          `json:"widget"`
	Step           uint32          `json:"step"`
	Value          float64         `json:"value"`
	Currency       string          `json:"currency"`
	User           string          `json:"user"`
	Score          int32           `json:"score"`
	Scale          int32           `json:"scale"`
	Comment        string          `json:"comment"`
	Props          json.RawMessage `json:"props"`
	Browser        string          `json:"browser"`
	BrowserVersion string          `json:"browser_version"`
	OS             string          `json:"os"`
	OSVersion      string          `json:"os_version"`
	Device         string          `json:"device"`
	Bot            bool            `json:"bot"`
	Country        string          `json:"country"`
	Region         string          `json:"region"`
	City           string          `json:"city"`
	Channel        string          `json:"channel"`
	UTMSource      string          `json:"utm_source"`
	UTMMedium      string          `json:"utm_medium"`
	UTMCampaign    string          `json:"utm_campaign"`
	UTMTerm        string          `json:"utm_term"`
	UTMContent     string          `json:"utm_content"`
	IPPrefix       string          `json:"ip_prefix"`
}

// ParseJSON reads into tp one object written by AppendJSON (the query API's
// and the export's form), so that an exported touchpoint is stored again
// exactly as it was: times, enrichment and the order of props included.
// Unknown fields are refused. It is the import path, not the hot path.
func ParseJSON(b []byte, tp *Touchpoint) error {
	var s storedJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	tp.Reset()
	typ := ParseType(s.Type)
	if !typ.Valid() {
		return &ValidationError{Field: "type", Reason: fmt.Sprintf("unknown type %q", s.Type)}
	}
	if s.ID == "" {
		return &ValidationError{Field: "id", Reason: "missing"}
	}
	v, err := ParseVisitor(s.Visitor)
	if err != nil {
		return &ValidationError{Field: "visitor", Reason: err.Error()}
	}
	times := []struct {
		name string
		s    string
		dst  *int64
	}{{"time", s.Time, &tp.Derived}, {"client_ts", s.ClientTS, &tp.TS}, {"client_sent", s.ClientSent, &tp.Sent}, {"received", s.Received, &tp.Received}}
	for _, t := range times {
		if t.s == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, t.s)
		if err != nil {
			return &ValidationError{Field: t.name, Reason: "want RFC 3339"}
		}
		*t.dst = at.UnixMicro()
	}
	if tp.Derived == 0 {
		return &ValidationError{Field: "time", Reason: "missing"}
	}
	tp.ID, tp.Type, tp.Site, tp.Visitor, tp.Session, tp.Seq = s.ID, typ, s.Site, v, s.Session, s.Seq
	tp.URL, tp.Title, tp.Referrer, tp.Name, tp.Query = s.URL, s.Title, s.Referrer, s.Name, s.Query
	if s.Results != nil {
		tp.Results = *s.Results
	}
	tp.Widget, tp.Step, tp.Value, tp.Currency, tp.User = s.Widget, s.Step, s.Value, s.Currency, s.User
	tp.Score, tp.Scale, tp.Comment = s.Score, s.Scale, s.Comment
	tp.Browser, tp.BrowserVersion, tp.OS, tp.OSVersion = s.Browser, s.BrowserVersion, s.OS, s.OSVersion
	tp.Device, tp.Bot = ParseDeviceClass(s.Device), s.Bot
	tp.Country, tp.Region, tp.City, tp.Channel = s.Country, s.Region, s.City, ParseChannel(s.Channel)
	tp.UTM = UTM{Source: s.UTMSource, Medium: s.UTMMedium, Campaign: s.UTMCampaign, Term: s.UTMTerm, Content: s.UTMContent}
	tp.IPPrefix = s.IPPrefix
	if len(s.Props) > 0 && !bytes.Equal(s.Props, []byte("null")) {
		if err := parseProps(s.Props, tp); err != nil {
			return err
		}
	}
	return nil
}

// parseProps reads a JSON object of strings in its order.
func parseProps(b []byte, tp *Touchpoint) error {
	bad := &ValidationError{Field: "props", Reason: "want an object of strings"}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return bad
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return bad
		}
		v, err := dec.Token()
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if err != nil || !ok1 || !ok2 {
			return bad
		}
		tp.Props = append(tp.Props, Prop{Key: ks, Value: vs})
	}
	return nil
}
