package enrich

import (
	"hash/maphash"
	"net/netip"

	lru "github.com/hashicorp/golang-lru/v2"
)

// numShards splits each cache so that concurrent requests with different
// keys rarely wait on the same lock (an LRU's Get updates recency, so each
// shard takes an exclusive lock). A cache smaller than minSharded entries
// stays whole, so that its bound is exact.
const (
	numShards  = 16
	minSharded = 1024
)

// shardedLRU is a bounded LRU cut into shards by the key's hash. Safe for
// concurrent use.
type shardedLRU[K comparable, V any] struct {
	shards []*lru.Cache[K, V]
	hash   func(K) uint64
}

func newShardedLRU[K comparable, V any](size int, hash func(K) uint64) *shardedLRU[K, V] {
	n := numShards
	if size < minSharded {
		n = 1
	}
	c := &shardedLRU[K, V]{hash: hash, shards: make([]*lru.Cache[K, V], n)}
	for i := range c.shards {
		s, err := lru.New[K, V](max(1, size/n))
		if err != nil {
			panic("BUG: " + err.Error()) // size is validated positive
		}
		c.shards[i] = s
	}
	return c
}

func (c *shardedLRU[K, V]) shard(k K) *lru.Cache[K, V] {
	if len(c.shards) == 1 {
		return c.shards[0]
	}
	return c.shards[c.hash(k)%uint64(len(c.shards))]
}

func (c *shardedLRU[K, V]) Get(k K) (V, bool) { return c.shard(k).Get(k) }

func (c *shardedLRU[K, V]) Add(k K, v V) { c.shard(k).Add(k, v) }

// Len is the entries in all shards.
func (c *shardedLRU[K, V]) Len() int {
	n := 0
	for _, s := range c.shards {
		n += s.Len()
	}
	return n
}

var shardSeed = maphash.MakeSeed()

func hashString(s string) uint64 { return maphash.String(shardSeed, s) }

func hashAddr(a netip.Addr) uint64 {
	b := a.As16()
	return maphash.Bytes(shardSeed, b[:])
}
