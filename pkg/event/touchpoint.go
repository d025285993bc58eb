package event

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"time"
)

// VisitorID is the 128-bit id of a visitor: random and first-party in the
// browser, or a daily salted hash in cookieless mode.
type VisitorID [16]byte

// String returns the id as 32 lowercase hex characters.
func (v VisitorID) String() string { return hex.EncodeToString(v[:]) }

// IsZero reports whether v is the zero id (no visitor).
func (v VisitorID) IsZero() bool { return v == VisitorID{} }

// AppendHex appends the 32-character hex form of v to dst.
func (v VisitorID) AppendHex(dst []byte) []byte { return hex.AppendEncode(dst, v[:]) }

// ErrEmptyVisitor is returned by ParseVisitor for an empty string.
var ErrEmptyVisitor = errors.New("missing visitor")

// MaxVisitorLen is the longest visitor string ParseVisitor accepts.
const MaxVisitorLen = 128

// ParseVisitor turns a visitor string into its id. 32 hex characters (the
// snippet's form) and UUIDs map to their bytes; any other string of up to
// MaxVisitorLen bytes, such as a backend's own session id, maps to the first
// 16 bytes of its SHA-256, so the same string always names the same visitor.
func ParseVisitor(s string) (VisitorID, error) { return parseVisitorBytes([]byte(s)) }

func parseVisitorBytes(b []byte) (VisitorID, error) {
	var v VisitorID
	switch {
	case len(b) == 0:
		return v, ErrEmptyVisitor
	case len(b) > MaxVisitorLen:
		return v, errors.New("visitor longer than 128 bytes")
	case len(b) == 32:
		if _, err := hex.Decode(v[:], b); err == nil {
			return v, nil
		}
	case len(b) == 36 && b[8] == '-' && b[13] == '-' && b[18] == '-' && b[23] == '-':
		var compact [32]byte
		n := 0
		for _, c := range b {
			if c != '-' {
				if n == 32 {
					break
				}
				compact[n] = c
				n++
			}
		}
		if n == 32 {
			if _, err := hex.Decode(v[:], compact[:]); err == nil {
				return v, nil
			}
		}
	}
	sum := sha256.Sum256(b)
	copy(v[:], sum[:16])
	return v, nil
}

// Prop is one custom property of a touchpoint.
type Prop struct {
	Key, Value string
}

// UTM holds the campaign parameters of the landing URL.
type UTM struct {
	Source, Medium, Campaign, Term, Content string
}

// IsZero reports whether no UTM parameter is set.
func (u UTM) IsZero() bool { return u == UTM{} }

// Touchpoint is one interaction of a visitor with a site. Times are Unix
// microseconds (UTC).
//
// Site and Visitor are carried by the store key, not by the binary encoding.
// ClientIP and UserAgent are inputs to enrichment only: they are never
// encoded, stored or written as JSON.
type Touchpoint struct {
	// Identity and order.
	ID      string    // client-made, unique per visitor: a re-sent event is stored once
	Type    Type      //
	Site    string    //
	Visitor VisitorID //
	Session string    // optional session hint from the client
	Seq     uint32    // per-visitor counter from the client

	// Time, in Unix microseconds.
	TS       int64 // client clock when it happened
	Sent     int64 // client clock when it was sent (0: unknown)
	Received int64 // collector clock when it arrived
	Derived  int64 // TS corrected for client clock skew: TS + (Received − Sent)

	// Page context (all types) and per-type fields.
	URL      string
	Title    string
	Referrer string
	Name     string  // checkout step name, custom event name
	Query    string  // search
	Results  int32   // search result count; -1 when unknown
	Widget   string  // chat_open
	Step     uint32  // checkout_step, 1..n
	Value    float64 // checkout_step cart value
	Currency string  // checkout_step, ISO 4217
	User     string  // identify; set on other types only by trusted senders
	Score    int32   // feedback
	Scale    int32   // feedback
	Comment  string  // feedback
	Props    []Prop  // bounded custom properties

	// Ticket fields (type ticket; Score and Scale may carry the help
	// desk's satisfaction rating).
	Ticket         string        // the help desk's ticket id
	Status         TicketStatus  // opened, replied, solved
	TicketChannel  TicketChannel // how the ticket came in
	TicketCategory string        // optional, bounded: MaxTicketCategory
	Subject        string        // optional, bounded: MaxTicketSubject

	// Enrichment.
	Browser        string
	BrowserVersion string
	OS             string
	OSVersion      string
	Device         DeviceClass
	Bot            bool
	Country        string // ISO 3166-1 alpha-2
	Region         string // ISO 3166-2 subdivision code
	City           string // English name
	Channel        Channel
	UTM            UTM
	IPPrefix       string // truncated network (/24, /48), only when configured

	// Transient inputs: never stored.
	ClientIP  netip.Addr
	UserAgent string
}

// Reset clears tp for reuse, keeping the capacity of Props.
func (tp *Touchpoint) Reset() {
	props := tp.Props[:0]
	*tp = Touchpoint{Results: -1, Props: props}
}

// Time returns the derived time of tp.
func (tp *Touchpoint) Time() time.Time { return time.UnixMicro(tp.Derived).UTC() }

// Prop returns the value of the custom property key, or "".
func (tp *Touchpoint) Prop(key string) string {
	for _, p := range tp.Props {
		if p.Key == key {
			return p.Value
		}
	}
	return ""
}

// SkewTolerance is the apparent clock skew (Received − Sent, which also
// holds the request's latency) below which DeriveTime keeps the client's
// own time: correcting by a few milliseconds that differ from request to
// request would reorder a visitor's events sent moments apart in two
// requests (a checkout step before its page view), while a clock off by
// less than this misplaces nothing in a journey. Beyond it the client's
// clock is wrong and is corrected.
const SkewTolerance int64 = 2e6 // µs

// DeriveTime sets Received to now and Derived to TS corrected by the client's
// clock skew, as Snowplow does: TS + (Received − Sent), unless the skew is
// within SkewTolerance, where TS itself is kept (even when a clock a little
// fast puts it after Received: clamping it to the arrival would reorder it
// too). Without Sent the skew is unknown and TS is kept; without TS the
// arrival time is used. Otherwise Derived never lies after Received: an
// event cannot have happened after it arrived.
func (tp *Touchpoint) DeriveTime(now int64) {
	tp.Received = now
	switch {
	case tp.TS == 0:
		tp.Derived = now
		return
	case tp.Sent != 0 && now-tp.Sent < SkewTolerance && tp.Sent-now < SkewTolerance:
		tp.Derived = tp.TS
		if tp.TS <= tp.Sent { // else it claims to have happened after it was sent
			return
		}
	case tp.Sent == 0:
		tp.Derived = tp.TS
	default:
		tp.Derived = tp.TS + (now - tp.Sent)
	}
	if tp.Derived > now {
		tp.Derived = now
	}
}

// DeriveTimeTrusted is DeriveTime for a sender whose clock is trusted (a
// backend with a write key, on NTP): Derived is TS itself, which keeps the
// sender's own order exactly; request latency would otherwise jitter events
// of different batches. Derived still never lies after Received.
func (tp *Touchpoint) DeriveTimeTrusted(now int64) {
	tp.Received = now
	tp.Derived = tp.TS
	if tp.TS == 0 || tp.Derived > now {
		tp.Derived = now
	}
}

// Less orders touchpoints as trails are: by derived time, then seq.
func Less(a, b *Touchpoint) bool {
	if a.Derived != b.Derived {
		return a.Derived < b.Derived
	}
	return a.Seq < b.Seq
}
