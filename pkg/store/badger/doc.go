// Package badger implements store.Store on github.com/dgraph-io/badger/v4.
//
// # Key layout
//
// Integers are big-endian, so byte order is time order:
//
//	t/<site>/<visitor 16B><derived µs 8B><seq 4B>  → event.AppendBinary value (the trail;
//	                                                  the time with its sign bit flipped)
//	i/<site>/<visitor 16B><xxhash64(id) 8B>       → ∅ (dedupe: an id is stored once)
//	v/<site>/<day 4B><visitor 16B>                 → last seen µs 8B + count 4B (active visitors)
//	u/<site>/<user>\x00<visitor 16B>               → ∅ (identity stitching)
//	w/<site>/<visitor 16B><user>                   → ∅ (reverse of u/, so erase finds it)
//	s/salt/<day 8B>                                → cookieless salt of that day
//
// Every touchpoint key expires (Badger TTL) Retention after the
// touchpoint's derived time.
//
// # Sizing
//
// Badger's defaults (5 × 64 MB memtables, 256 MB block cache, 1 GB value
// log files) suit a database server. An embedded collector gets 3 × 16 MB
// memtables, a 32 MB block cache, a 16 MB index cache, 64 MB value log files
// and ZSTD block compression (our values are small and repetitive: the
// compression is what brings a touchpoint near 80 bytes on disk).
//
// # Usage
//
//	st, err := badger.Open(badger.Config{Dir: "./data/badger", SyncWrites: true}, log)
//	w := store.NewWriter(st, store.WriterConfig{}, log)
//	…
//	w.Close(ctx)
//	st.Close()
package badger
