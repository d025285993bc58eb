package badger

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// mappedTables is the resident size of the process's mappings of dir's
// table files (/proc/self/smaps).
func mappedTables(t *testing.T, dir string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = strings.HasSuffix(line, ".sst") && strings.Contains(line, dir)
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); in && ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			total += kb << 10
		}
	}
	return total
}

// The store's mapped tables leave the resident set at a trim, and every
// touchpoint reads back the same afterwards.
func TestTrimTablesDropsMappedPages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatal("needs /proc/self/smaps (linux)")
	}
	dir, _ := filepath.Abs(t.TempDir())
	log := slog.New(slog.DiscardHandler)
	s, err := Open(Config{Dir: dir, DiskReserve: -1, MemTableSize: 1 << 20}, log)
	if err != nil {
		t.Fatal(err)
	}
	v := event.VisitorID{15: 9}
	const n = 6000
	var recs []store.Record
	for i := range n {
		tp := event.Touchpoint{ID: fmt.Sprintf("%032x", i+1), Type: event.TypePageview, Site: "s1", Visitor: v, Seq: uint32(i),
			URL: fmt.Sprintf("https://shop.example/products/%d?color=%d", i, i*7919%1000), Title: strings.Repeat("Product ", 1+i%9), Results: -1}
		tp.Derived = time.Now().Add(time.Duration(i-n) * time.Second).UnixMicro()
		tp.Received = tp.Derived
		var slab []byte
		recs = append(recs, store.NewRecord(&tp, &slab))
	}
	for i := 0; i < n; i += 500 {
		if _, err := s.Write(t.Context(), recs[i:i+500]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil { // the memtables become tables
		t.Fatal(err)
	}
	if s, err = Open(Config{Dir: dir, DiskReserve: -1, MemTableSize: 1 << 20}, log); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	read := func() {
		t.Helper()
		page, err := s.Trail(t.Context(), "s1", v, store.TrailQuery{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Touchpoints) != n || page.Touchpoints[n-1].ID != fmt.Sprintf("%032x", n) {
			t.Fatalf("read %d touchpoints back, want %d", len(page.Touchpoints), n)
		}
	}
	read()
	resident := mappedTables(t, dir)
	if len(s.db.Tables()) == 0 || resident == 0 {
		t.Fatalf("%d tables, %d bytes of them resident: nothing to trim", len(s.db.Tables()), resident)
	}
	advised, err := s.trimTables()
	if err != nil {
		t.Fatal(err)
	}
	after := mappedTables(t, dir)
	t.Logf("%d tables: %d bytes resident, %d advised, %d resident after the trim", len(s.db.Tables()), resident, advised, after)
	if advised == 0 || after >= resident/4 {
		t.Errorf("trim advised %d bytes; resident %d → %d", advised, resident, after)
	}
	read()
}

func TestParseMapsLine(t *testing.T) {
	start, end, path, ok := parseMapsLine("7f1c2a400000-7f1c2a600000 r--s 00000000 fd:01 3932167                    /data/my store/000012.sst")
	if !ok || start != 0x7f1c2a400000 || end != 0x7f1c2a600000 || path != "/data/my store/000012.sst" {
		t.Errorf("got %x %x %q %v", start, end, path, ok)
	}
	for _, l := range []string{
		"7f1c2a400000-7f1c2a600000 r--s 00000000 fd:01 3932167 /data/000012.sst (deleted)",
		"7f1c2a400000-7f1c2a600000 rw-p 00000000 00:00 0",
		"00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon",
	} {
		if _, _, _, ok := parseMapsLine(l); ok {
			t.Errorf("%q taken as a table", l)
		}
	}
}
