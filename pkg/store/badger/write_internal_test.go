package badger

import (
	"log/slog"
	"testing"

	bdg "github.com/dgraph-io/badger/v4"
)

// split cuts between units only, and needs several transactions for a
// group this large.
func TestSplitKeepsUnitsWhole(t *testing.T) {
	s, err := Open(Config{InMemory: true}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var entries []*bdg.Entry
	var units []int
	val := make([]byte, 300)
	for i := range 30_000 {
		units = append(units, len(entries))
		k := trailKey(nil, "s", [16]byte{1}, int64(i), 0, "id")
		k = k[:len(k):len(k)] // each append below copies
		entries = append(entries, bdg.NewEntry(k, val), bdg.NewEntry(append(k, 'i'), nil), bdg.NewEntry(append(k, 'u'), nil))
	}
	txns, err := s.split(entries, units)
	if err != nil {
		t.Fatal(err)
	}
	if len(txns) < 2 {
		t.Fatalf("%d transactions for %d entries", len(txns), len(entries))
	}
	// Commit only the first transaction, as if the next ones failed:
	// it holds whole units only.
	if err := txns[0].Commit(); err != nil {
		t.Fatal(err)
	}
	for _, txn := range txns[1:] {
		txn.Discard()
	}
	n := 0
	err = s.db.View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil || n == 0 || n%3 != 0 {
		t.Fatalf("the first transaction stored %d keys (%v): not whole units of 3", n, err)
	}
	t.Logf("%d entries in %d transactions", len(entries), len(txns))
}
