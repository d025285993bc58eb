package event

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
)

// BinaryVersion is the version byte that starts stored touchpoints.
//
// Version 1 holds the fields up to the IP prefix (bits 0..37 of the
// bitmap). Version 2 is version 1 plus the ticket fields (bits 38..42),
// appended after the IP prefix; it is written only for touchpoints that
// have one, so everything else still encodes to the same version 1 bytes
// as before, and DecodeBinary reads both.
const (
	BinaryVersion  = 1
	BinaryVersion2 = 2
)

// ErrCorrupt is returned by DecodeBinary for bytes it cannot read.
var ErrCorrupt = errors.New("corrupt touchpoint encoding")

// Field bits of the presence bitmap, commonest first so the bitmap's varint
// stays short. Stored: from the first release on, only append.
const (
	bID    = iota
	bIDHex // the ID is 32 lowercase hex characters, stored as its 16 bytes
	bSeq
	bTS
	bSent
	bReceived
	bURL
	bTitle
	bReferrer
	bBrowser
	bBrowserVersion
	bOS
	bOSVersion
	bDevice
	bCountry
	bRegion
	bCity
	bChannel
	bSession
	bName
	bQuery
	bResults
	bWidget
	bStep
	bValue
	bCurrency
	bUser
	bScore
	bScale
	bComment
	bProps
	bBot
	bUTMSource
	bUTMMedium
	bUTMCampaign
	bUTMTerm
	bUTMContent
	bIPPrefix
	bitCountV1 // fields of version 1 end here

	// Version 2.
	bTicket = iota - 1
	bStatus
	bTicketChannel
	bTicketCategory
	bSubject
	bitCount
)

// v2Bits are the bitmap bits that need version 2.
const v2Bits = (uint64(1)<<bitCount - 1) &^ (uint64(1)<<bitCountV1 - 1)

// AppendBinary appends the storage encoding of tp to dst: a version byte, the
// type, the derived time, a presence bitmap and the present fields as
// varints and length-prefixed strings. Site and Visitor are not encoded: the
// store key carries them. ClientIP and UserAgent are never encoded.
func AppendBinary(dst []byte, tp *Touchpoint) []byte {
	var bits uint64
	set := func(b int, ok bool) {
		if ok {
			bits |= 1 << b
		}
	}
	idHex := isHex32(tp.ID)
	set(bID, tp.ID != "" && !idHex)
	set(bIDHex, idHex)
	set(bSeq, tp.Seq != 0)
	set(bTS, tp.TS != 0)
	set(bSent, tp.Sent != 0)
	set(bReceived, tp.Received != 0)
	set(bURL, tp.URL != "")
	set(bTitle, tp.Title != "")
	set(bReferrer, tp.Referrer != "")
	set(bBrowser, tp.Browser != "")
	set(bBrowserVersion, tp.BrowserVersion != "")
	set(bOS, tp.OS != "")
	set(bOSVersion, tp.OSVersion != "")
	set(bDevice, tp.Device != DeviceUnknown)
	set(bCountry, tp.Country != "")
	set(bRegion, tp.Region != "")
	set(bCity, tp.City != "")
	set(bChannel, tp.Channel != ChannelUnknown)
	set(bSession, tp.Session != "")
	set(bName, tp.Name != "")
	set(bQuery, tp.Query != "")
	set(bResults, tp.Results >= 0)
	set(bWidget, tp.Widget != "")
	set(bStep, tp.Step != 0)
	set(bValue, tp.Value != 0)
	set(bCurrency, tp.Currency != "")
	set(bUser, tp.User != "")
	set(bScore, tp.Score != 0)
	set(bScale, tp.Scale != 0)
	set(bComment, tp.Comment != "")
	set(bProps, len(tp.Props) > 0)
	set(bBot, tp.Bot)
	set(bUTMSource, tp.UTM.Source != "")
	set(bUTMMedium, tp.UTM.Medium != "")
	set(bUTMCampaign, tp.UTM.Campaign != "")
	set(bUTMTerm, tp.UTM.Term != "")
	set(bUTMContent, tp.UTM.Content != "")
	set(bIPPrefix, tp.IPPrefix != "")
	set(bTicket, tp.Ticket != "")
	set(bStatus, tp.Status != TicketStatusUnknown)
	set(bTicketChannel, tp.TicketChannel != TicketChannelUnknown)
	set(bTicketCategory, tp.TicketCategory != "")
	set(bSubject, tp.Subject != "")

	version := byte(BinaryVersion)
	if bits&v2Bits != 0 {
		version = BinaryVersion2
	}
	dst = append(dst, version, byte(tp.Type))
	dst = binary.AppendVarint(dst, tp.Derived)
	dst = binary.AppendUvarint(dst, bits)
	str := func(b int, s string) {
		if bits&(1<<b) != 0 {
			dst = binary.AppendUvarint(dst, uint64(len(s)))
			dst = append(dst, s...)
		}
	}
	delta := func(b int, v int64) {
		if bits&(1<<b) != 0 {
			dst = binary.AppendVarint(dst, v-tp.Derived)
		}
	}
	str(bID, tp.ID)
	if idHex {
		dst, _ = hex.AppendDecode(dst, []byte(tp.ID))
	}
	if bits&(1<<bSeq) != 0 {
		dst = binary.AppendUvarint(dst, uint64(tp.Seq))
	}
	delta(bTS, tp.TS)
	delta(bSent, tp.Sent)
	delta(bReceived, tp.Received)
	str(bURL, tp.URL)
	str(bTitle, tp.Title)
	str(bReferrer, tp.Referrer)
	str(bBrowser, tp.Browser)
	str(bBrowserVersion, tp.BrowserVersion)
	str(bOS, tp.OS)
	str(bOSVersion, tp.OSVersion)
	if bits&(1<<bDevice) != 0 {
		dst = append(dst, byte(tp.Device))
	}
	str(bCountry, tp.Country)
	str(bRegion, tp.Region)
	str(bCity, tp.City)
	if bits&(1<<bChannel) != 0 {
		dst = append(dst, byte(tp.Channel))
	}
	str(bSession, tp.Session)
	str(bName, tp.Name)
	str(bQuery, tp.Query)
	if bits&(1<<bResults) != 0 {
		dst = binary.AppendUvarint(dst, uint64(tp.Results))
	}
	str(bWidget, tp.Widget)
	if bits&(1<<bStep) != 0 {
		dst = binary.AppendUvarint(dst, uint64(tp.Step))
	}
	if bits&(1<<bValue) != 0 {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(tp.Value))
	}
	str(bCurrency, tp.Currency)
	str(bUser, tp.User)
	if bits&(1<<bScore) != 0 {
		dst = binary.AppendVarint(dst, int64(tp.Score))
	}
	if bits&(1<<bScale) != 0 {
		dst = binary.AppendVarint(dst, int64(tp.Scale))
	}
	str(bComment, tp.Comment)
	if bits&(1<<bProps) != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(tp.Props)))
		for _, p := range tp.Props {
			dst = binary.AppendUvarint(dst, uint64(len(p.Key)))
			dst = append(dst, p.Key...)
			dst = binary.AppendUvarint(dst, uint64(len(p.Value)))
			dst = append(dst, p.Value...)
		}
	}
	str(bUTMSource, tp.UTM.Source)
	str(bUTMMedium, tp.UTM.Medium)
	str(bUTMCampaign, tp.UTM.Campaign)
	str(bUTMTerm, tp.UTM.Term)
	str(bUTMContent, tp.UTM.Content)
	str(bIPPrefix, tp.IPPrefix)
	str(bTicket, tp.Ticket)
	if bits&(1<<bStatus) != 0 {
		dst = append(dst, byte(tp.Status))
	}
	if bits&(1<<bTicketChannel) != 0 {
		dst = append(dst, byte(tp.TicketChannel))
	}
	str(bTicketCategory, tp.TicketCategory)
	str(bSubject, tp.Subject)
	return dst
}

// isHex32 reports whether s is 32 lowercase hex characters: the snippet's
// and the SDK's event ids, stored in 16 bytes.
func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// binReader reads the encoding; its strings are substrings of one copy of
// the input, so decoding allocates once however many fields there are.
type binReader struct {
	b   []byte
	s   string // string(b), made once
	pos int
	err error
}

func (r *binReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s at byte %d", ErrCorrupt, what, r.pos)
	}
}

func (r *binReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 || n > 1 && r.b[r.pos+n-1] == 0 { // overflow, truncated or overlong
		r.fail(what)
		return 0
	}
	r.pos += n
	return v
}

func (r *binReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.pos:])
	if n <= 0 || n > 1 && r.b[r.pos+n-1] == 0 {
		r.fail(what)
		return 0
	}
	r.pos += n
	return v
}

func (r *binReader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.fail(what)
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *binReader) str(what string) string {
	n := r.uvarint(what)
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)-r.pos) {
		r.fail(what)
		return ""
	}
	s := r.s[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s
}

// DecodeBinary decodes what AppendBinary wrote into tp, which it resets
// first (keeping the capacity of Props). Site and Visitor are left empty for
// the caller to fill from the key. The strings of tp do not alias b.
//
// Only the canonical encoding is accepted (minimal varints, no field marked
// present with its zero value), so whatever decodes re-encodes to b itself;
// anything else is ErrCorrupt.
func DecodeBinary(b []byte, tp *Touchpoint) error {
	tp.Reset()
	if len(b) < 2 {
		return fmt.Errorf("%w: %d bytes", ErrCorrupt, len(b))
	}
	version := b[0]
	if version != BinaryVersion && version != BinaryVersion2 {
		return fmt.Errorf("%w: unknown version %d", ErrCorrupt, b[0])
	}
	tp.Type = Type(b[1])
	if !tp.Type.Valid() {
		return fmt.Errorf("%w: unknown type %d", ErrCorrupt, b[1])
	}
	r := binReader{b: b, s: string(b), pos: 2}
	tp.Derived = r.varint("derived time")
	bits := r.uvarint("bitmap")
	switch {
	case bits>>bitCount != 0,
		version == BinaryVersion && bits&v2Bits != 0,  // a version 1 has no such field
		version == BinaryVersion2 && bits&v2Bits == 0: // written as version 1
		r.fail("bitmap")
	}
	has := func(bit int) bool { return r.err == nil && bits&(1<<bit) != 0 }
	str := func(bit int, dst *string, what string) {
		if has(bit) {
			if *dst = r.str(what); *dst == "" {
				r.fail(what)
			}
		}
	}
	delta := func(bit int, dst *int64, what string) {
		if has(bit) {
			if *dst = tp.Derived + r.varint(what); *dst == 0 {
				r.fail(what)
			}
		}
	}
	// nonzero fails on a present field holding its zero value, which
	// AppendBinary leaves out.
	nonzero := func(ok bool, what string) {
		if !ok {
			r.fail(what)
		}
	}
	str(bID, &tp.ID, "id")
	if has(bID) && isHex32(tp.ID) {
		r.fail("id") // stored as its 16 bytes
	}
	if has(bIDHex) {
		if has(bID) || len(b)-r.pos < 16 {
			r.fail("id")
		} else {
			tp.ID = hex.EncodeToString(b[r.pos : r.pos+16])
			r.pos += 16
		}
	}
	if has(bSeq) {
		seq := r.uvarint("seq")
		nonzero(seq != 0 && seq <= math.MaxUint32, "seq")
		tp.Seq = uint32(seq)
	}
	delta(bTS, &tp.TS, "ts")
	delta(bSent, &tp.Sent, "sent")
	delta(bReceived, &tp.Received, "received")
	str(bURL, &tp.URL, "url")
	str(bTitle, &tp.Title, "title")
	str(bReferrer, &tp.Referrer, "referrer")
	str(bBrowser, &tp.Browser, "browser")
	str(bBrowserVersion, &tp.BrowserVersion, "browser version")
	str(bOS, &tp.OS, "os")
	str(bOSVersion, &tp.OSVersion, "os version")
	if has(bDevice) {
		tp.Device = DeviceClass(r.byte("device"))
		nonzero(tp.Device != DeviceUnknown, "device")
	}
	str(bCountry, &tp.Country, "country")
	str(bRegion, &tp.Region, "region")
	str(bCity, &tp.City, "city")
	if has(bChannel) {
		tp.Channel = Channel(r.byte("channel"))
		nonzero(tp.Channel != ChannelUnknown, "channel")
	}
	str(bSession, &tp.Session, "session")
	str(bName, &tp.Name, "name")
	str(bQuery, &tp.Query, "query")
	if has(bResults) {
		n := r.uvarint("results")
		if n > math.MaxInt32 {
			r.fail("results")
		}
		tp.Results = int32(n)
	}
	str(bWidget, &tp.Widget, "widget")
	if has(bStep) {
		n := r.uvarint("step")
		nonzero(n != 0 && n <= math.MaxUint32, "step")
		tp.Step = uint32(n)
	}
	if has(bValue) {
		if len(b)-r.pos < 8 {
			r.fail("value")
		} else {
			tp.Value = math.Float64frombits(binary.LittleEndian.Uint64(b[r.pos:]))
			r.pos += 8
			if tp.Value == 0 || math.IsNaN(tp.Value) || math.IsInf(tp.Value, 0) {
				r.fail("value") // never encoded: the decoder refuses them
			}
		}
	}
	str(bCurrency, &tp.Currency, "currency")
	str(bUser, &tp.User, "user")
	if has(bScore) {
		n := r.varint("score")
		nonzero(n != 0 && n == int64(int32(n)), "score")
		tp.Score = int32(n)
	}
	if has(bScale) {
		n := r.varint("scale")
		nonzero(n != 0 && n == int64(int32(n)), "scale")
		tp.Scale = int32(n)
	}
	str(bComment, &tp.Comment, "comment")
	if has(bProps) {
		n := r.uvarint("props")
		if n == 0 || n > uint64(len(b)-r.pos)/2 {
			r.fail("props")
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			k := r.str("prop key")
			v := r.str("prop value")
			tp.Props = append(tp.Props, Prop{Key: k, Value: v})
		}
	}
	tp.Bot = has(bBot)
	str(bUTMSource, &tp.UTM.Source, "utm_source")
	str(bUTMMedium, &tp.UTM.Medium, "utm_medium")
	str(bUTMCampaign, &tp.UTM.Campaign, "utm_campaign")
	str(bUTMTerm, &tp.UTM.Term, "utm_term")
	str(bUTMContent, &tp.UTM.Content, "utm_content")
	str(bIPPrefix, &tp.IPPrefix, "ip prefix")
	str(bTicket, &tp.Ticket, "ticket")
	if has(bStatus) {
		tp.Status = TicketStatus(r.byte("status"))
		nonzero(tp.Status != TicketStatusUnknown, "status")
	}
	if has(bTicketChannel) {
		tp.TicketChannel = TicketChannel(r.byte("ticket channel"))
		nonzero(tp.TicketChannel != TicketChannelUnknown, "ticket channel")
	}
	str(bTicketCategory, &tp.TicketCategory, "ticket category")
	str(bSubject, &tp.Subject, "subject")
	if r.err == nil && r.pos != len(b) {
		r.fail("trailing bytes")
	}
	return r.err
}
