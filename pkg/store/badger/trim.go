package badger

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
)

// Badger v4 maps every table file into memory and has no file-I/O mode:
// the pages of each table written (a compaction writes its output through
// the mapping) or read stay in the process's resident set until the table
// is deleted — up to the whole store, 600 MiB of a 3M-touchpoint store in
// a long run, on top of the Go heap. trimTables tells the kernel, every
// trimEvery, that the store no longer needs those pages mapped
// (madvise(MADV_DONTNEED) on the tables' mappings, which for a shared file
// mapping keeps every byte in the file and the page cache: the next access
// maps the page again from the cache, a minor fault). So the resident set
// holds what the last second touched, as it would with file I/O.
//
// A mapping is trimmed only while Badger cannot unmap it: an iterator
// holds a reference to every table of the levels, and only tables listed
// in the levels before and after it was made are trimmed (a table leaves
// the levels once, so those were in them when it was made).
const trimEvery = time.Second

func (s *Store) trimTablesEvery() {
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if _, err := s.trimTables(); err != nil {
			s.log.Debug("mapped tables not trimmed", "err", err)
		}
	}
}

// trimTables drops the store's table mappings from the resident set and
// returns how many bytes of mappings it advised.
func (s *Store) trimTables() (int64, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.closed.Load() || s.dir == "" {
		return 0, nil
	}
	dir, err := filepath.Abs(s.dir)
	if err != nil {
		return 0, fmt.Errorf("trim: %w", err)
	}
	before := tableNames(s.db)
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	it := txn.NewIterator(bdg.IteratorOptions{}) // holds every table of the levels: none is unmapped meanwhile
	defer it.Close()
	held := map[string]bool{}
	for name := range tableNames(s.db) {
		if before[name] {
			held[name] = true
		}
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("trim: %w", err)
	}
	defer f.Close()
	var advised int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		start, end, path, ok := parseMapsLine(sc.Text())
		if !ok || filepath.Dir(path) != dir || !held[filepath.Base(path)] {
			continue
		}
		if err := dropMapping(start, end-start); err != nil {
			return advised, fmt.Errorf("trim %s: %w", path, err)
		}
		advised += int64(end - start)
	}
	return advised, sc.Err()
}

// tableNames lists the file names of the tables in Badger's levels.
func tableNames(db *bdg.DB) map[string]bool {
	infos := db.Tables()
	names := make(map[string]bool, len(infos))
	for _, t := range infos {
		names[fmt.Sprintf("%06d.sst", t.ID)] = true
	}
	return names
}

// parseMapsLine reads "start-end perms offset dev inode path" of
// /proc/self/maps.
func parseMapsLine(line string) (start, end uintptr, path string, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 6 || !strings.HasSuffix(line, ".sst") {
		return 0, 0, "", false
	}
	lo, hi, found := strings.Cut(fields[0], "-")
	if !found {
		return 0, 0, "", false
	}
	a, err1 := strconv.ParseUint(lo, 16, 64)
	b, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || b <= a {
		return 0, 0, "", false
	}
	// The path is what follows the fifth field (it may hold spaces).
	rest := line
	for range 5 {
		rest = strings.TrimLeft(rest, " ")
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return 0, 0, "", false
		}
		rest = rest[i:]
	}
	return uintptr(a), uintptr(b), strings.TrimSpace(rest), true
}
