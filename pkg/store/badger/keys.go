package badger

import (
	"encoding/binary"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/cespare/xxhash/v2"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Key prefixes.
const (
	pTrail    = 't'
	pID       = 'i'
	pDay      = 'v'
	pUser     = 'u'
	pUserRev  = 'w'
	pErased   = 'e'
	saltPrefx = "s/salt/"
)

// suffixLen is the derived time, seq and id hash that end a trail key.
const suffixLen = 8 + 4 + 8

// v1SuffixLen ended the trail keys of format 1 (no id hash): see migrate.go.
const v1SuffixLen = 8 + 4

// appendSitePrefix appends "<p>/<site>/".
func appendSitePrefix(dst []byte, p byte, site string) []byte {
	dst = append(dst, p, '/')
	dst = append(dst, site...)
	return append(dst, '/')
}

// trailPrefix is t/<site>/<visitor>.
func trailPrefix(dst []byte, site string, v event.VisitorID) []byte {
	return append(appendSitePrefix(dst, pTrail, site), v[:]...)
}

// appendSuffix appends the derived time and seq of a trail key: the start
// of its suffix, and a seek position before every key of that time and seq.
func appendSuffix(dst []byte, derived int64, seq uint32) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(derived)^(1<<63)) // sign flip: negative times sort first
	return binary.BigEndian.AppendUint32(dst, seq)
}

// idHash is the 8-byte hash of an event id that ends its trail key and its
// id-index key: two events have one trail key only if the id index already
// takes them for one event.
func idHash(id string) uint64 { return xxhash.Sum64String(id) }

func parseSuffix(b []byte) (derived int64, seq uint32) {
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), binary.BigEndian.Uint32(b[8:])
}

// trailKey is t/<site>/<visitor><derived><seq><xxhash64 of id>: unique per
// event whatever its time and seq say, and ordered by derived time, seq,
// then id hash.
func trailKey(dst []byte, site string, v event.VisitorID, derived int64, seq uint32, id string) []byte {
	dst = appendSuffix(trailPrefix(dst, site, v), derived, seq)
	return binary.BigEndian.AppendUint64(dst, idHash(id))
}

// idKey is i/<site>/<visitor><xxhash64 of id>: 8 bytes whatever the id's
// length (the snippet's are 32 characters). Two ids of one visitor share a
// hash with odds of about n²/2⁶⁵ for n events: far below any disk's error
// rate.
func idKey(dst []byte, site string, v event.VisitorID, id string) []byte {
	dst = append(appendSitePrefix(dst, pID, site), v[:]...)
	return binary.BigEndian.AppendUint64(dst, idHash(id))
}

// dayOf is the UTC day number of a Unix µs time.
func dayOf(us int64) uint32 {
	d := us / 86_400_000_000
	if us < 0 && us%86_400_000_000 != 0 {
		d--
	}
	return uint32(d)
}

// dayKey is v/<site>/<day><visitor>.
func dayKey(dst []byte, site string, day uint32, v event.VisitorID) []byte {
	dst = binary.BigEndian.AppendUint32(appendSitePrefix(dst, pDay, site), day)
	return append(dst, v[:]...)
}

// userKey is u/<site>/<user>\x00<visitor>.
func userKey(dst []byte, site, user string, v event.VisitorID) []byte {
	dst = append(appendSitePrefix(dst, pUser, site), user...)
	dst = append(dst, 0)
	return append(dst, v[:]...)
}

// userRevKey is w/<site>/<visitor><user>.
func userRevKey(dst []byte, site string, v event.VisitorID, user string) []byte {
	dst = append(appendSitePrefix(dst, pUserRev, site), v[:]...)
	return append(dst, user...)
}

// eachKey calls fn with every key under prefix, in order, without reading
// values. k is valid only during the call.
func eachKey(txn *bdg.Txn, prefix []byte, fn func(k []byte)) {
	opts := bdg.DefaultIteratorOptions
	opts.Prefix = prefix
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
		fn(it.Item().Key())
	}
}
