package badger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	mbits "math/bits"

	"github.com/cespare/xxhash/v2"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Format 3 keeps what repeats across a visitor's touchpoints once:
//
//   - A context record t/<site>/<visitor>\x00<h 4B> holds the device and
//     place fields (event.BinaryContextBits: browser, OS, device class,
//     bot, country, region, city, IP prefix) and the origin of the page URL
//     ("https://shop.example"); h is the top 32 bits of its xxhash64. It
//     sits in the visitor's trail key range and sorts before every
//     touchpoint (whose keys start with the derived time, sign-flipped, so
//     never with 0x00 for a time after year −290,000), so the one prefix
//     scan of a trail reads the contexts first, and erase's DropPrefix of
//     the trail removes them with it. It expires with the last touchpoint
//     that uses it (a day later at most).
//   - A touchpoint's value (valueFormat3) names its context by h and holds
//     its other fields, without the derived time and seq (the key has
//     them), with its URL and referrer relative to the context's origin
//     when they are on it (an URL of another origin stays whole).
//
// Reads put the event encoding back together byte for byte (rebuild) and
// decode it as before, so what a read returns does not change. A value the
// write path cannot cut up (not an encoding AppendBinary writes, or a
// derived time or seq that differ from the key's) is stored as it came, and
// every read still takes such a value (as formats 1 and 2 stored all).
//
// The layout of a touchpoint value:
//
//	0xF3, flags, [h 4B if flagContext], type, uvarint bitmap, fields in bit order

const (
	valueFormat3 = 0xF3 // first byte of a format-3 touchpoint value (event encodings start with 1 or 2)

	flagContext     = 1 << 0 // a context is named, and its bits left out
	flagURLRel      = 1 << 1 // the URL is a path under the context's origin
	flagReferrerRel = 1 << 2 // the referrer is

	ctxSuffixLen = 1 + 4 // 0x00, h
)

// ctxKey is t/<site>/<visitor>\x00<h>.
func ctxKey(dst []byte, site string, v event.VisitorID, h uint32) []byte {
	dst = append(trailPrefix(dst, site, v), 0)
	return binary.BigEndian.AppendUint32(dst, h)
}

// isCtxSuffix reports whether the part of a trail key after the visitor is
// a context's.
func isCtxSuffix(s []byte) bool { return len(s) == ctxSuffixLen && s[0] == 0 }

// split3 is a touchpoint's encoding cut for format 3.
type split3 struct {
	val []byte // the touchpoint value (appended to the caller's buffer)
	ctx []byte // the context record's value, nil without one (in the caller's buffer)
	sum uint64 // xxhash64 of ctx

	dst, cdst []byte // the caller's buffers, grown
}

// h is the context's key part.
func (s *split3) h() uint32 { return uint32(s.sum >> 32) }

// cut3 cuts the event encoding v of a touchpoint with the key's derived
// time and seq into a format-3 value, appended to dst, and its context,
// appended to cdst. ok is false when v is not an encoding AppendBinary
// writes with that time and seq: the caller then stores v as it is.
// inline keeps the context's fields in the value (no context record: when
// the record's key is taken by another context). It allocates only to grow
// dst or cdst.
func cut3(dst, cdst, v []byte, derived int64, seq uint32, inline bool) (sp split3, ok bool) {
	typ, d, bits, pos, ok := event.SplitBinaryHeader(v)
	if !ok || d != derived {
		return sp, false
	}
	var at [event.BinaryBits + 1]int32 // start of each present field; at[BinaryBits]: the end
	for bit := range event.BinaryBits {
		at[bit] = int32(pos)
		if bits&(1<<bit) == 0 {
			continue
		}
		n := event.BinaryFieldLen(bit, v[pos:])
		if n < 0 {
			return sp, false
		}
		pos += n
	}
	if pos != len(v) {
		return sp, false
	}
	at[event.BinaryBits] = int32(pos)
	field := func(bit int) []byte { return v[at[bit]:at[bit+1]] }
	var vseq uint64
	if bits&(1<<event.BinaryBitSeq) != 0 {
		vseq, _ = binary.Uvarint(field(event.BinaryBitSeq))
	}
	if vseq != uint64(seq) {
		return sp, false
	}
	str := func(f []byte) []byte { _, n := binary.Uvarint(f); return f[n:] }
	var origin []byte
	if bits&(1<<event.BinaryBitURL) != 0 {
		origin = originOf(str(field(event.BinaryBitURL)))
	}
	cbits := bits & event.BinaryContextBits
	var flags byte
	if !inline && (cbits != 0 || len(origin) > 0) {
		flags |= flagContext
		start := len(cdst)
		cdst = binary.AppendUvarint(cdst, cbits)
		for bit := range event.BinaryBits {
			if cbits&(1<<bit) != 0 {
				cdst = append(cdst, field(bit)...)
			}
		}
		cdst = binary.AppendUvarint(cdst, uint64(len(origin)))
		cdst = append(cdst, origin...)
		sp.ctx = cdst[start:len(cdst):len(cdst)]
		sp.sum = xxhash.Sum64(sp.ctx)
	}
	sp.cdst = cdst
	tbits := bits &^ (1 << event.BinaryBitSeq)
	if flags&flagContext != 0 {
		tbits &^= cbits
	}
	rel := func(bit int, flag byte) []byte {
		if flags&flagContext == 0 || len(origin) == 0 || bits&(1<<bit) == 0 {
			return nil
		}
		if r, ok := under(str(field(bit)), origin); ok {
			flags |= flag
			return r
		}
		return nil
	}
	urlRel := rel(event.BinaryBitURL, flagURLRel)
	refRel := rel(event.BinaryBitReferrer, flagReferrerRel)
	start := len(dst)
	dst = append(dst, valueFormat3, flags)
	if flags&flagContext != 0 {
		dst = binary.BigEndian.AppendUint32(dst, uint32(sp.sum>>32))
	}
	dst = append(dst, typ)
	dst = binary.AppendUvarint(dst, tbits)
	for bit := range event.BinaryBits {
		switch {
		case tbits&(1<<bit) == 0:
		case bit == event.BinaryBitURL && flags&flagURLRel != 0:
			dst = binary.AppendUvarint(dst, uint64(len(urlRel)))
			dst = append(dst, urlRel...)
		case bit == event.BinaryBitReferrer && flags&flagReferrerRel != 0:
			dst = binary.AppendUvarint(dst, uint64(len(refRel)))
			dst = append(dst, refRel...)
		default:
			dst = append(dst, field(bit)...)
		}
	}
	sp.val = dst[start:len(dst):len(dst)]
	sp.dst = dst
	return sp, true
}

// originOf returns the scheme and host of an absolute URL
// ("https://shop.example" of "https://shop.example/p?q"), or nil.
func originOf(u []byte) []byte {
	i := bytes.Index(u, []byte("://"))
	if i <= 0 {
		return nil
	}
	j := i + 3
	for j < len(u) && u[j] != '/' && u[j] != '?' && u[j] != '#' {
		j++
	}
	if j == i+3 {
		return nil
	}
	return u[:j]
}

// under returns the rest of u after origin when u is on it (the rest is
// empty or starts with '/', '?' or '#').
func under(u, origin []byte) ([]byte, bool) {
	if len(u) < len(origin) || string(u[:len(origin)]) != string(origin) {
		return nil, false
	}
	r := u[len(origin):]
	if len(r) > 0 && r[0] != '/' && r[0] != '?' && r[0] != '#' {
		return nil, false // "https://shop.example.evil" is not on "https://shop.example"
	}
	return r, true
}

// visitorCtx is a context record as the read path keeps it: its bitmap, the
// encoding of its fields, and the origin.
type visitorCtx struct {
	h      uint32
	bits   uint64
	fields []byte
	origin []byte
}

// parseContext reads a context record's value (which it aliases).
func parseContext(h uint32, v []byte) (visitorCtx, error) {
	c := visitorCtx{h: h}
	bits, n := binary.Uvarint(v)
	if n <= 0 || bits&^event.BinaryContextBits != 0 {
		return c, fmt.Errorf("%w: context bitmap", event.ErrCorrupt)
	}
	c.bits = bits
	pos := n
	for bit := range event.BinaryBits {
		if bits&(1<<bit) != 0 {
			m := event.BinaryFieldLen(bit, v[pos:])
			if m < 0 {
				return c, fmt.Errorf("%w: context field %d", event.ErrCorrupt, bit)
			}
			pos += m
		}
	}
	c.fields = v[n:pos]
	l, m := binary.Uvarint(v[pos:])
	if m <= 0 || l != uint64(len(v)-pos-m) {
		return c, fmt.Errorf("%w: context origin", event.ErrCorrupt)
	}
	c.origin = v[pos+m:]
	return c, nil
}

// contexts are the contexts of the visitor being read.
type contexts []visitorCtx

// add keeps a copy of a context record read from the store.
func (cs *contexts) add(h uint32, v []byte) error {
	c, err := parseContext(h, append([]byte(nil), v...))
	if err != nil {
		return fmt.Errorf("context %08x: %w", h, err)
	}
	*cs = append(*cs, c)
	return nil
}

func (cs contexts) find(h uint32) (*visitorCtx, bool) {
	for i := range cs {
		if cs[i].h == h {
			return &cs[i], true
		}
	}
	return nil, false
}

// decodeValue decodes a stored touchpoint value of any format into tp,
// with the derived time and seq of its key and the visitor's contexts;
// buf is scratch space, returned grown.
func decodeValue(buf, v []byte, derived int64, seq uint32, cs contexts, tp *event.Touchpoint) ([]byte, error) {
	if len(v) == 0 || v[0] != valueFormat3 {
		return buf, event.DecodeBinary(v, tp)
	}
	buf, err := rebuild(buf[:0], v, derived, seq, cs)
	if err != nil {
		return buf, err
	}
	return buf, event.DecodeBinary(buf, tp)
}

// cbitsWithBytes are the context bits of b whose fields take bytes (the
// bot flag is the bit alone).
func cbitsWithBytes(b uint64) uint64 { return b & event.BinaryContextBits &^ event.BinaryBotBit }

// rebuild appends the event encoding of the format-3 value v to dst.
func rebuild(dst, v []byte, derived int64, seq uint32, cs contexts) ([]byte, error) {
	bad := func(what string) ([]byte, error) {
		return dst, fmt.Errorf("%w: format-3 %s", event.ErrCorrupt, what)
	}
	if len(v) < 4 {
		return bad("value")
	}
	flags, pos := v[1], 2
	var c *visitorCtx
	if flags&flagContext != 0 {
		if len(v) < 8 {
			return bad("value")
		}
		h := binary.BigEndian.Uint32(v[2:])
		var ok bool
		if c, ok = cs.find(h); !ok {
			return dst, fmt.Errorf("%w: context %08x of the touchpoint not stored", event.ErrCorrupt, h)
		}
		pos = 6
	} else if flags&(flagURLRel|flagReferrerRel) != 0 {
		return bad("flags")
	}
	typ := v[pos]
	tbits, n := binary.Uvarint(v[pos+1:])
	if n <= 0 || tbits>>event.BinaryBits != 0 || tbits&(1<<event.BinaryBitSeq) != 0 {
		return bad("bitmap")
	}
	pos += 1 + n
	bits := tbits
	if seq != 0 {
		bits |= 1 << event.BinaryBitSeq
	}
	var cfields, origin []byte
	if c != nil {
		if c.bits&tbits != 0 {
			return bad("bitmap")
		}
		bits |= c.bits
		cfields, origin = c.fields, c.origin
	}
	dst = append(dst, event.BinaryVersionFor(bits), typ)
	dst = binary.AppendVarint(dst, derived)
	dst = binary.AppendUvarint(dst, bits)
	// Past the last context field and the relative URLs, the rest of the
	// value is the rest of the encoding: copied in one go.
	last := event.BinaryBitReferrer
	if cb := cbitsWithBytes(bits &^ tbits); cb != 0 {
		last = max(last, 63-mbits.LeadingZeros64(cb))
	}
	cpos := 0
	for bit := range event.BinaryBits {
		if bit > last {
			dst = append(dst, v[pos:]...)
			pos = len(v)
			break
		}
		switch {
		case bit == event.BinaryBitSeq:
			if seq != 0 {
				dst = binary.AppendUvarint(dst, uint64(seq))
			}
		case tbits&(1<<bit) != 0:
			if bit == event.BinaryBitURL && flags&flagURLRel != 0 || bit == event.BinaryBitReferrer && flags&flagReferrerRel != 0 {
				l, m := binary.Uvarint(v[pos:])
				if m <= 0 || l > uint64(len(v)-pos-m) {
					return bad("relative URL")
				}
				dst = binary.AppendUvarint(dst, uint64(len(origin))+l)
				dst = append(dst, origin...)
				dst = append(dst, v[pos+m:pos+m+int(l)]...)
				pos += m + int(l)
				continue
			}
			m := event.BinaryFieldLen(bit, v[pos:])
			if m < 0 {
				return bad("field")
			}
			dst = append(dst, v[pos:pos+m]...)
			pos += m
		case c != nil && c.bits&(1<<bit) != 0:
			m := event.BinaryFieldLen(bit, cfields[cpos:])
			if m < 0 {
				return bad("context field")
			}
			dst = append(dst, cfields[cpos:cpos+m]...)
			cpos += m
		}
	}
	if pos != len(v) {
		return bad("value: trailing bytes")
	}
	return dst, nil
}
