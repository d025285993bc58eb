package badger

import (
	"bytes"
	"fmt"

	"github.com/bits-and-blooms/bloom/v3"
	bdg "github.com/dgraph-io/badger/v4"
)

// seenIDs is a scalable Bloom filter (github.com/bits-and-blooms/bloom)
// over the id-index keys of the touchpoints stored (i/<site>/<visitor><id
// hash>, built in memory: format 3 stores no id index): "certainly new"
// for almost every event lets Write skip the dedupe read, which was the
// largest cost of the write path. A "maybe" (a re-sent event, or a 0.1 %
// false positive) still reads the store, so it never decides alone: the
// trail key a re-send usually has, else the visitor's trail keys (a scan
// that grows with the trail — hence 0.1 % rather than 1 %). Layers double
// in capacity as the store grows (about 1.8 MB a million ids). Used under
// Store.writeMu.
type seenIDs struct {
	layers []*bloom.BloomFilter
	n, cap uint // ids in, and capacity of, the last layer
}

const seenFalsePositive = 0.001

func newSeenIDs(capacity uint) *seenIDs {
	return &seenIDs{layers: []*bloom.BloomFilter{bloom.NewWithEstimates(capacity, seenFalsePositive)}, cap: capacity}
}

func (s *seenIDs) maybe(key []byte) bool {
	for _, l := range s.layers {
		if l.Test(key) {
			return true
		}
	}
	return false
}

func (s *seenIDs) add(key []byte) {
	if s.n >= s.cap {
		s.cap *= 2
		s.layers = append(s.layers, bloom.NewWithEstimates(s.cap, seenFalsePositive))
		s.n = 0
	}
	s.layers[len(s.layers)-1].Add(key)
	s.n++
}

// loadSeen fills the filter with the id-index keys of the stored
// touchpoints: one key-only pass over the trails at Open (their keys end
// with the id hash; format 3 has no id index), and over the id index of a
// store written in format 2.
func loadSeen(db *bdg.DB) (*seenIDs, error) {
	s := newSeenIDs(1 << 20)
	var ikey []byte
	err := db.View(func(txn *bdg.Txn) error {
		eachKey(txn, []byte{pID, '/'}, s.add)
		eachKey(txn, []byte{pTrail, '/'}, func(k []byte) {
			slash := bytes.IndexByte(k[2:], '/') // site ids hold no '/'
			if slash < 0 || len(k)-(2+slash+1) != 16+suffixLen {
				return // a context, or a format-1 key
			}
			vp := k[:2+slash+1+16] // t/<site>/<visitor>
			ikey = append(append(append(ikey[:0], pID), vp[1:]...), k[len(k)-8:]...)
			s.add(ikey)
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load the id filter: %w", err)
	}
	return s, nil
}
