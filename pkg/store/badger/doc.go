// Package badger implements store.Store on github.com/dgraph-io/badger/v4.
//
// # Key layout
//
// Integers are big-endian, so byte order is time order; site ids are
// checked with store.ValidSite (never "/"), so a site's prefix is its own:
//
//	t/<site>/<visitor 16B>\x00<h 4B>               → a context: device, place, page origin
//	t/<site>/<visitor 16B><derived µs 8B><seq 4B><xxhash64(id) 8B>
//	                                               → the touchpoint (the trail; the time
//	                                                  with its sign bit flipped)
//	v/<site>/<day 4B><visitor 16B>                 → last seen µs 8B + count 4B (active visitors)
//	u/<site>/<user>\x00<visitor 16B>               → ∅ (identity stitching)
//	w/<site>/<visitor 16B><user>                   → ∅ (reverse of u/, so erase finds it)
//	e/<site>/<visitor 16B>                         → erase time (tombstone)
//	s/salt/<day 8B>                                → cookieless salt of that day
//	s/format                                       → the store format (3)
//
// Format 3 (format3.go) keeps what repeats across a visitor's touchpoints
// once: the fields of its device and place (browser, OS, device class, bot,
// country, region, city, IP prefix) and the origin of its page URLs go into
// a context record, named by the top 32 bits of its xxhash64, which sorts
// before the visitor's touchpoints (a trail read takes it in the same
// prefix scan; erase's DropPrefix takes it with the trail). A touchpoint's
// value names its context and holds the rest: no derived time or seq (the
// key has them), its URL and referrer relative to the context's origin when
// they are on it. Reads put the event encoding back together byte for byte,
// so they return what was written.
//
// There is no id index: the trail key ends with the id's hash, so "is this
// id stored" is a point read of the key a re-send usually has (same derived
// time and seq), else a key-only scan of the visitor's trail — and only for
// a "maybe" of the Bloom filter (about 0.1 % of new ids, and re-sends). Two
// ids of one visitor collide with odds of about n²/2⁶⁵ for n events of that
// visitor. Formats 1 and 2 (an id index i/<site>/<visitor><hash>, the event
// encoding whole as the value) are migrated at Open (migrate.go).
//
// Every key of a touchpoint expires (Badger TTL) Retention after the
// touchpoint's derived time; a day-index entry when the last touchpoint of
// its day does.
//
// # Writes
//
// A group (one Write, usually one store.Writer group) is deduplicated under
// a lock — a Bloom filter of stored ids answers "certainly new" for almost
// every event, so the trail is read only for a "maybe"; ids of groups
// still being committed count too — and handed to Badger with
// Txn.CommitWith without waiting, split into several transactions on
// ErrTxnTooBig. The next group is prepared while this one is fsynced, and
// Badger folds concurrent commits into one write. The write transactions
// read nothing, so they never conflict (Badger's conflict detection is off).
// The day index is written with a visitor's first touchpoint of a day; its
// count and last-seen time are then counted in memory and written in bulk
// (days.go).
//
// # Sizing
//
// Badger's defaults (5 × 64 MB memtables, 256 MB block cache, 1 GB value
// log files) suit a database server. An embedded collector gets:
//
//   - 3 × 16 MB memtables (MemTableSize), flushed to level 0 sooner; at
//     most 5 level-0 tables before compaction (with random visitor keys
//     each level-0 compaction rewrites level 1 whole, so it pays to take
//     more tables at once), stalling writes at 16;
//   - a 32 MB block cache (BlockCacheSize) and a 16 MB index cache
//     (IndexCacheSize): the working set is recent trails;
//   - ValueThreshold 1 MB (Badger's ceiling): every touchpoint value, at
//     most a few KB, stays in the LSM tree, so a trail read is one prefix
//     scan with no value-log seeks and the value log is only a write-ahead
//     log that needs no value-log GC;
//   - 64 MB value log files, so the write-ahead log is recycled in small
//     steps;
//   - ZSTD level 1 compression on 16 KB blocks: our values are small and
//     repetitive (same URLs, browsers, countries), and larger blocks let
//     ZSTD find the repeats (about 70–80 bytes a touchpoint on disk in
//     format 3, indexes included);
//   - one version per key, 2 compactors, no expvar metrics.
//
// # Usage
//
//	st, err := badger.Open(badger.Config{Dir: "./data/badger", SyncWrites: true}, log)
//	w := store.NewWriter(st, store.WriterConfig{}, log)
//	…
//	w.Close(ctx) // drains the writer first
//	st.Close()
//
// Operations:
//
//	err = st.Backup(f)  // while serving
//	err = st2.Restore(f) // into an empty store, before serving
package badger
