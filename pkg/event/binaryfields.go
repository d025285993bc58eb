package event

import "encoding/binary"

// The storage encoding's layout, for a store that keeps some fields of a
// touchpoint apart (the Badger store's format 3 keeps a visitor's device,
// place and page origin once, and each touchpoint's other fields): the
// header, the bits of the presence bitmap, and the length of each field's
// encoding. The fields follow the header in bit order, so an encoding can
// be cut into fields and put back together byte for byte.

// Bits of the presence bitmap that a store needs by name.
const (
	BinaryBitSeq      = bSeq
	BinaryBitURL      = bURL
	BinaryBitReferrer = bReferrer
	// BinaryBits is the number of bits in use: fields are bits 0 to
	// BinaryBits-1.
	BinaryBits = bitCount
)

// BinaryContextBits are the fields that come from the visitor's device and
// place (user agent and address), not from the touchpoint: the same for
// every touchpoint a visitor sends from one browser and network.
const BinaryContextBits = 1<<bBrowser | 1<<bBrowserVersion | 1<<bOS | 1<<bOSVersion | 1<<bDevice |
	1<<bCountry | 1<<bRegion | 1<<bCity | 1<<bBot | 1<<bIPPrefix

// BinaryBotBit is the bot flag's bit: a field of no bytes.
const BinaryBotBit = 1 << bBot

// BinaryVersionFor is the version byte AppendBinary writes for a bitmap.
func BinaryVersionFor(bits uint64) byte {
	if bits&v2Bits != 0 {
		return BinaryVersion2
	}
	return BinaryVersion
}

// SplitBinaryHeader reads the header of an encoding: its type byte,
// derived time and presence bitmap, and where the first field starts. ok
// is false for bytes AppendBinary cannot have written (DecodeBinary says
// what is wrong with them).
func SplitBinaryHeader(b []byte) (typ byte, derived int64, bits uint64, body int, ok bool) {
	if len(b) < 2 || (b[0] != BinaryVersion && b[0] != BinaryVersion2) {
		return 0, 0, 0, 0, false
	}
	d, n := binary.Varint(b[2:])
	if n <= 0 {
		return 0, 0, 0, 0, false
	}
	body = 2 + n
	bits, n = binary.Uvarint(b[body:])
	if n <= 0 || bits>>bitCount != 0 || b[0] != BinaryVersionFor(bits) {
		return 0, 0, 0, 0, false
	}
	return b[1], d, bits, body + n, true
}

// BinaryFieldLen returns the length of the encoding of field bit (a bit of
// the presence bitmap) at the start of b, or -1 when b is too short for it.
func BinaryFieldLen(bit int, b []byte) int {
	switch bit {
	case bBot:
		return 0 // the bit alone
	case bIDHex:
		return fixed(b, 16)
	case bValue:
		return fixed(b, 8)
	case bDevice, bChannel, bStatus, bTicketChannel:
		return fixed(b, 1)
	case bSeq, bResults, bStep, bTS, bSent, bReceived, bScore, bScale:
		return varintLen(b) // a varint and a uvarint end alike
	case bProps:
		count, n := binary.Uvarint(b)
		if n <= 0 {
			return -1
		}
		pos := n
		for range 2 * min(count, uint64(len(b))) {
			m := strLen(b[pos:])
			if m < 0 {
				return -1
			}
			pos += m
		}
		if count > uint64(len(b)) {
			return -1
		}
		return pos
	}
	if bit < 0 || bit >= bitCount {
		return -1
	}
	return strLen(b)
}

func fixed(b []byte, n int) int {
	if len(b) < n {
		return -1
	}
	return n
}

func varintLen(b []byte) int {
	for i := 0; i < len(b) && i < binary.MaxVarintLen64; i++ {
		if b[i] < 0x80 {
			return i + 1
		}
	}
	return -1
}

func strLen(b []byte) int {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return -1
	}
	return n + int(l)
}
