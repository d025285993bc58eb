package badger_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/touchtrail/touchtrail/bench"
	"github.com/touchtrail/touchtrail/pkg/enrich"
	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
	"github.com/touchtrail/touchtrail/pkg/store/badger"
)

// places are what the geo fixture of the generated traffic resolves to:
// every public /8 the generator draws addresses from maps to one of them.
var places = []geotest.City{
	{Country: "DE", Region: "BE", City: "Berlin"}, {Country: "GB", Region: "ENG", City: "London"},
	{Country: "FR", Region: "IDF", City: "Paris"}, {Country: "US", Region: "CA", City: "San Francisco"},
	{Country: "US", Region: "NY", City: "New York"}, {Country: "SE", Region: "E", City: "Linköping"},
	{Country: "RO", Region: "B", City: "Bucharest"}, {Country: "NL", Region: "NH", City: "Amsterdam"},
	{Country: "ES", Region: "MD", City: "Madrid"}, {Country: "JP", Region: "13", City: "Tokyo"},
	{Country: "NZ"}, {Country: "BR", Region: "SP", City: "São Paulo"},
}

// generatedEnricher enriches the generator's traffic with a real user-agent
// parser and a geo database that places every address it makes.
func generatedEnricher(t testing.TB) *enrich.Enricher {
	t.Helper()
	nets := map[string]geotest.City{}
	for n := 1; n <= 223; n++ {
		if n == 10 || n == 127 {
			continue
		}
		nets[fmt.Sprintf("%d.0.0.0/8", n)] = places[n%len(places)]
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	geotest.WriteCityDB(t, path, nets)
	en, err := enrich.New(enrich.Config{GeoDB: path}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { en.Close() })
	return en
}

// generated returns n records of the bench generator's shop traffic as the
// steady phases' history holds it: 100-event batches, 100,000 touchpoints
// a day from 8,000 visitors (a dozen each; fewer visitors for fewer
// touchpoints), decoded, enriched and encoded as the collector does.
func generated(t testing.TB, en *enrich.Enricher, n int) []store.Record {
	return generatedFrom(t, en, n, 0)
}

// generatedFrom is generated with as many visitors a day (0: a dozen
// touchpoints each).
func generatedFrom(t testing.TB, en *enrich.Enricher, n, visitors int) []store.Record {
	t.Helper()
	const perDay = 100_000
	begin := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	done := 0
	clock := func() int64 { return begin + int64(done)*86_400_000/perDay }
	var (
		d    event.Decoder
		b    event.Batch
		body []byte
		slab []byte
		recs = make([]store.Record, 0, n)
		g    *bench.Generator
	)
	for done < n {
		if done%perDay == 0 {
			// 8,000 visitors a day (fewer for fewer touchpoints: a
			// dozen each, as in a day of the history).
			if visitors == 0 {
				visitors = max(100, 8000*min(n, perDay)/perDay)
			}
			g = bench.NewGenerator(1, done/perDay, visitors, clock)
		}
		body = g.AppendBatch(body[:0], "test", min(100, n-done))
		if err := d.Decode(body, &b); err != nil {
			t.Fatal(err)
		}
		now := clock() * 1000
		for i := range b.Events {
			tp := &b.Events[i]
			if b.Errs[i] != nil {
				t.Fatal(b.Errs[i])
			}
			tp.Site = "test"
			tp.DeriveTimeTrusted(now + 1000)
			if err := en.Enrich(tp); err != nil && err != enrich.ErrBot {
				t.Fatal(err)
			}
			tp.ClientIP, tp.UserAgent = netip.Addr{}, ""
			recs = append(recs, store.NewRecord(tp, &slab))
		}
		done += len(b.Events)
	}
	return recs
}

// writeAll writes recs in groups of 4,096, as the history builder does.
func writeAll(t testing.TB, s *badger.Store, recs []store.Record) {
	t.Helper()
	for i := 0; i < len(recs); i += 4096 {
		res, err := s.Write(ctx, recs[i:min(i+4096, len(recs))])
		if err != nil {
			t.Fatal(err)
		}
		if res.Duplicates != 0 || res.Erased != 0 {
			t.Fatalf("write: %+v", res)
		}
	}
}

// want is what a read must give back for recs: each record's touchpoint
// decoded from the encoding it was handed over in, by visitor, in trail
// order.
func want(t testing.TB, recs []store.Record) map[event.VisitorID][]event.Touchpoint {
	t.Helper()
	out := map[event.VisitorID][]event.Touchpoint{}
	for _, r := range recs {
		var tp event.Touchpoint
		if err := event.DecodeBinary(r.Value, &tp); err != nil {
			t.Fatal(err)
		}
		tp.Site, tp.Visitor = r.Site, r.Visitor
		out[r.Visitor] = append(out[r.Visitor], tp)
	}
	for _, tps := range out {
		sortTrail(tps)
	}
	return out
}

func sortTrail(tps []event.Touchpoint) {
	for i := 1; i < len(tps); i++ { // insertion sort: trails come almost in order
		for j := i; j > 0 && event.Less(&tps[j], &tps[j-1]); j-- {
			tps[j], tps[j-1] = tps[j-1], tps[j]
		}
	}
}

// sameTrail compares two trails field by field and says where they differ.
func sameTrail(t testing.TB, what string, got, want []event.Touchpoint) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d touchpoints, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if len(g.Props) == 0 && len(w.Props) == 0 {
			g.Props, w.Props = nil, nil
		}
		if !reflect.DeepEqual(g, w) {
			gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
			for f := range gv.NumField() {
				if !reflect.DeepEqual(gv.Field(f).Interface(), wv.Field(f).Interface()) {
					t.Errorf("%s #%d (%s): %s = %#v, want %#v", what, i, w.ID, gv.Type().Field(f).Name, gv.Field(f).Interface(), wv.Field(f).Interface())
				}
			}
			t.FailNow()
		}
	}
}

// readAll reads every visitor's trail of s with Trail (in pages of 7, so
// that the cursors skip the contexts too) and with ScanTrails, and checks
// both against want.
func readAll(t testing.TB, s *badger.Store, site string, want map[event.VisitorID][]event.Touchpoint) {
	t.Helper()
	for v, tps := range want {
		var got []event.Touchpoint
		q := store.TrailQuery{Limit: 7}
		for {
			page, err := s.Trail(ctx, site, v, q)
			if err != nil {
				t.Fatalf("trail of %s: %v", v, err)
			}
			got = append(got, page.Touchpoints...)
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		sameTrail(t, "trail of "+v.String(), got, tps)
		// From a time within the trail: the contexts are read all the same.
		if len(tps) > 1 {
			from := time.UnixMicro(tps[len(tps)/2].Derived)
			page, err := s.Trail(ctx, site, v, store.TrailQuery{From: from, Limit: store.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			var tail []event.Touchpoint
			for _, tp := range tps {
				if tp.Derived >= from.UnixMicro() {
					tail = append(tail, tp)
				}
			}
			sameTrail(t, "trail from "+from.String(), page.Touchpoints, tail)
		}
	}
	seen := 0
	err := s.ScanTrails(ctx, site, time.Time{}, time.Time{}, func(v event.VisitorID, trail []event.Touchpoint) error {
		sameTrail(t, "scanned trail of "+v.String(), trail, want[v])
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Fatalf("ScanTrails: %d visitors, want %d", seen, len(want))
	}
}

// edgeCases are touchpoints whose URLs, contexts and fields test the cut:
// another origin, a bare origin, a look-alike host, a relative URL, no URL,
// a referrer on the origin, props, ticket fields (encoding version 2), a
// bot, no context at all, seq 0.
func edgeCases() []store.Record {
	v := event.VisitorID{0: 0xed, 15: 1}
	var recs []store.Record
	var slab []byte
	add := func(i int, f func(tp *event.Touchpoint)) {
		tp := event.Touchpoint{ID: fmt.Sprintf("edge-%d", i), Type: event.TypePageview, Site: "edge", Visitor: v, Seq: uint32(i), Results: -1,
			Browser: "Chrome", BrowserVersion: "124.0", OS: "Android", OSVersion: "14", Device: event.DeviceMobile, Country: "RO", Region: "B", City: "Bucharest"}
		tp.Derived = base.Add(time.Duration(i) * time.Minute).UnixMicro()
		tp.TS, tp.Received = tp.Derived-5, tp.Derived+700
		tp.URL = "https://shop.example/p/" + fmt.Sprint(i)
		f(&tp)
		recs = append(recs, store.NewRecord(&tp, &slab))
	}
	add(0, func(tp *event.Touchpoint) { tp.Seq = 0; tp.Referrer = "https://shop.example/" })
	add(1, func(tp *event.Touchpoint) { tp.URL, tp.Referrer = "https://shop.example", "https://shop.example?x=1" })
	add(2, func(tp *event.Touchpoint) {
		tp.URL, tp.Referrer = "https://shop.example.evil/p", "https://shop.example#top"
	})
	add(3, func(tp *event.Touchpoint) { tp.URL = "/relative/path" })
	add(4, func(tp *event.Touchpoint) { tp.URL = ""; tp.Type, tp.User = event.TypeIdentify, "user-9" })
	add(5, func(tp *event.Touchpoint) { tp.URL, tp.Referrer = "https://help.example/a", "https://shop.example/p/4" })
	add(6, func(tp *event.Touchpoint) {
		tp.Props = []event.Prop{{Key: "k", Value: "v"}, {Key: "empty", Value: ""}}
		tp.UTM = event.UTM{Source: "s", Campaign: "c"}
		tp.IPPrefix = "81.2.69.0/24"
	})
	add(7, func(tp *event.Touchpoint) {
		tp.Type, tp.Ticket, tp.Status, tp.TicketChannel, tp.Subject = event.TypeTicket, "T-1", event.TicketOpened, event.TicketEmail, "where is my parcel"
	})
	add(8, func(tp *event.Touchpoint) { tp.Bot = true; tp.Browser = "Googlebot" })
	add(9, func(tp *event.Touchpoint) {
		tp.Browser, tp.BrowserVersion, tp.OS, tp.OSVersion, tp.Device, tp.Country, tp.Region, tp.City = "", "", "", "", 0, "", "", ""
		tp.URL = "mailto:x"
	})
	add(10, func(tp *event.Touchpoint) {
		tp.Country, tp.City = "FR", "Paris"
		tp.Type, tp.Query, tp.Results = event.TypeSearch, "q", 0
	})
	add(11, func(tp *event.Touchpoint) {
		tp.URL = "https://shop.example/p/11"
		tp.Value, tp.Step, tp.Currency = 9.5, 2, "EUR"
	})
	return recs
}

// TestFormat3RoundTrip writes realistic generated traffic and the edge
// cases into a format-3 store and a format-2 store, and reads both back
// whole, field by field, by Trail (paged, and from a time) and ScanTrails:
// exactly the touchpoints handed over, in trail order; also after a reopen
// and through Backup and Restore.
func TestFormat3RoundTrip(t *testing.T) {
	recs := generated(t, generatedEnricher(t), 5000)
	edges := edgeCases()
	wantGen, wantEdge := want(t, recs), want(t, edges)
	dir := t.TempDir()
	s3 := open(t, dir)
	s2 := open(t, "")
	badger.WriteFormat2(s2)
	for _, s := range []*badger.Store{s3, s2} {
		writeAll(t, s, recs)
		writeAll(t, s, edges)
		readAll(t, s, "test", wantGen)
		readAll(t, s, "edge", wantEdge)
	}
	// The format-3 store holds context records and format-3 values.
	if ctxs, f3, other := census(t, s3); ctxs == 0 || f3 < len(recs) || other != 0 {
		t.Errorf("format-3 store: %d contexts, %d format-3 values, %d others", ctxs, f3, other)
	}
	if ctxs, f3, _ := census(t, s2); ctxs != 0 || f3 != 0 {
		t.Errorf("format-2 store: %d contexts, %d format-3 values", ctxs, f3)
	}
	var backup bytes.Buffer
	if err := s3.Backup(&backup); err != nil {
		t.Fatal(err)
	}
	if err := s3.Close(); err != nil {
		t.Fatal(err)
	}
	s3 = open(t, dir)
	readAll(t, s3, "test", wantGen)
	r := open(t, "")
	if err := r.Restore(&backup); err != nil {
		t.Fatal(err)
	}
	readAll(t, r, "test", wantGen)
	readAll(t, r, "edge", wantEdge)
}

// census counts a store's context records and its touchpoint values by
// format.
func census(t testing.TB, s *badger.Store) (ctxs, format3, other int) {
	t.Helper()
	return censusDB(t, s.DB())
}

func censusDB(t testing.TB, db *bdg.DB) (ctxs, format3, other int) {
	t.Helper()
	err := db.View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = []byte("t/")
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			tail := k[bytes.IndexByte(k[2:], '/')+3+16:]
			if len(tail) == 5 && tail[0] == 0 {
				ctxs++
				continue
			}
			err := it.Item().Value(func(v []byte) error {
				if v[0] == 0xF3 {
					format3++
				} else {
					other++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ctxs, format3, other
}

// TestMigrateFormat2 opens a store written in format 2 (migrated at Open),
// and one whose migration was cut short (some of a visitor's touchpoints
// in format 3, the rest in 2, the format record still 2): both read back
// exactly what was written, and a second Open changes nothing.
func TestMigrateFormat2(t *testing.T) {
	recs := generated(t, generatedEnricher(t), 3000)
	edges := edgeCases()
	wantGen, wantEdge := want(t, recs), want(t, edges)
	dir := t.TempDir()
	s, err := badger.Open(badger.Config{Dir: dir}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	badger.WriteFormat2(s)
	half := len(recs) / 2
	writeAll(t, s, recs[:half])
	writeAll(t, s, edges[:6])
	// The first half migrated, then the rest written as format 2 did:
	// what a migration stopped part-way leaves (ids stay deduped).
	if n, c, err := badger.MigrateValues(s); err != nil || n != half+6 || c == 0 {
		t.Fatalf("migrate: %d values, %d contexts, %v", n, c, err)
	}
	writeAll(t, s, recs[half:])
	writeAll(t, s, edges[6:])
	if ctxs, f3, other := census(t, s); ctxs == 0 || f3 != half+6 || other != len(recs)-half+len(edges)-6 {
		t.Fatalf("before Open: %d contexts, %d format-3 values, %d others", ctxs, f3, other)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	setFormat(t, dir, 2)
	for round := range 2 {
		s = open(t, dir)
		if ctxs, f3, other := census(t, s); f3 != len(recs)+len(edges) || other != 0 {
			t.Fatalf("round %d: %d contexts, %d format-3 values, %d others", round, ctxs, f3, other)
		}
		readAll(t, s, "test", wantGen)
		readAll(t, s, "edge", wantEdge)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// setFormat overwrites the store's format record, as an older release
// left it.
func setFormat(t testing.TB, dir string, v uint32) {
	t.Helper()
	db, err := bdg.Open(bdg.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *bdg.Txn) error { return txn.Set([]byte("s/format"), []byte{0, 0, 0, byte(v)}) })
	if err2 := db.Close(); err == nil {
		err = err2
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpenV2Fixture: a data directory written by the release before
// format 3 (testdata/v2, see its README) opens, is migrated, and reads back
// exactly what that release wrote (testdata/v2.json), field by field; a
// second Open finds format 3 and changes nothing; a backup of it restores
// (and is migrated) the same.
func TestOpenV2Fixture(t *testing.T) {
	b, err := os.ReadFile("testdata/v2.json")
	if err != nil {
		t.Fatal(err)
	}
	var tps []event.Touchpoint
	if err := json.Unmarshal(b, &tps); err != nil {
		t.Fatal(err)
	}
	wantV := map[event.VisitorID][]event.Touchpoint{}
	for _, tp := range tps {
		wantV[tp.Visitor] = append(wantV[tp.Visitor], tp)
	}
	if len(wantV) != 3 {
		t.Fatalf("fixture: %d visitors", len(wantV))
	}
	// A backup made by that release (Badger's backup of the directory).
	dir := t.TempDir()
	copyDir(t, "testdata/v2", dir)
	old, err := bdg.Open(bdg.DefaultOptions(dir).WithLogger(nil).WithReadOnly(true))
	if err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if _, err := old.Backup(&backup, 0); err != nil {
		t.Fatal(err)
	}
	old.Close()
	for round := range 2 {
		s, err := badger.Open(badger.Config{Dir: dir}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		if ctxs, f3, other := census(t, s); ctxs < 3 || f3 != len(tps) || other != 0 {
			t.Errorf("round %d: %d contexts, %d format-3 values, %d others", round, ctxs, f3, other)
		}
		readAll(t, s, "fixture", wantV)
		users, err := s.UserVisitors(ctx, "fixture", "user-2")
		if err != nil || len(users) != 1 || users[0] != (event.VisitorID{0: 0xf2, 15: 2}) {
			t.Errorf("user-2's visitors: %v %v", users, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	r := open(t, "")
	if err := r.Restore(&backup); err != nil {
		t.Fatal(err)
	}
	if ctxs, f3, other := census(t, r); ctxs < 3 || f3 != len(tps) || other != 0 {
		t.Errorf("restored: %d contexts, %d format-3 values, %d others", ctxs, f3, other)
	}
	readAll(t, r, "fixture", wantV)
}

// bytesOnDisk writes recs into a new store in dir (format 2 or 3), closes
// it and returns the bytes of its .sst and .vlog files per touchpoint.
func bytesOnDisk(t testing.TB, dir string, recs []store.Record, format2 bool) float64 {
	t.Helper()
	s, err := badger.Open(badger.Config{Dir: dir}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if format2 {
		badger.WriteFormat2(s)
	}
	writeAll(t, s, recs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return filesPerTouchpoint(t, dir, len(recs))
}

// filesPerTouchpoint is the bytes of the .sst and .vlog files in dir over n.
func filesPerTouchpoint(t testing.TB, dir string, count int) float64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".sst") || strings.HasSuffix(p, ".vlog") {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return float64(n) / float64(count)
}

// TestFormat3TakesFewerBytes writes the same 20,000 generated touchpoints
// (1,600 visitors) in format 2 and in format 3: format 3 takes at most 80 %
// of format 2's bytes on disk, and at most 80 bytes a touchpoint
// (BenchmarkBytesOnDisk measures larger stores).
func TestFormat3TakesFewerBytes(t *testing.T) {
	recs := generated(t, generatedEnricher(t), 20_000)
	f2 := bytesOnDisk(t, t.TempDir(), recs, true)
	f3 := bytesOnDisk(t, t.TempDir(), recs, false)
	t.Logf("bytes a touchpoint: format 2 %.1f, format 3 %.1f (%.0f %%)", f2, f3, 100*f3/f2)
	if f3 > 0.8*f2 || f3 > 80 {
		t.Errorf("format 3 takes %.1f bytes a touchpoint, format 2 %.1f: want at most 80 %% of it, and 80", f3, f2)
	}
}

// BenchmarkBytesOnDisk writes TOUCHTRAIL_BYTES_N generated touchpoints
// (default 100,000: a day of the history's shop, a dozen touchpoints a
// visitor; and the same number from the collector rows' 128,000 visitors)
// in format 2 and in format 3, each into a new store, closes it,
// and reports the bytes of its .sst and .vlog files a touchpoint, then the
// same after compacting the store into one level (as the steady phases'
// history is): the figures of bench/README.md's bytes section.
//
//	TOUCHTRAIL_BYTES_N=300000 go test -run '^$' -bench BytesOnDisk -benchtime 1x ./pkg/store/badger/
func BenchmarkBytesOnDisk(b *testing.B) {
	n := 100_000
	if s := os.Getenv("TOUCHTRAIL_BYTES_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("TOUCHTRAIL_BYTES_N=%q: want a positive number", s)
		}
	}
	en := generatedEnricher(b)
	history := generated(b, en, n)
	// The collector rows of make bench: 64 load workers of 2,000 visitors
	// each, so three or four touchpoints a visitor in 10 s.
	collector := generatedFrom(b, en, n, 128_000)
	for _, f := range []struct {
		name    string
		format2 bool
		recs    []store.Record
	}{{"history/format=2", true, history}, {"history/format=3", false, history},
		{"collector/format=2", true, collector}, {"collector/format=3", false, collector}} {
		recs := f.recs
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			var closed, flat float64
			for range b.N {
				dir := b.TempDir()
				closed = bytesOnDisk(b, dir, recs, f.format2)
				s, err := badger.Open(badger.Config{Dir: dir}, quiet)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.DB().Flatten(2); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				flat = filesPerTouchpoint(b, dir, len(recs))
			}
			b.ReportMetric(closed, "bytes/touchpoint")
			b.ReportMetric(flat, "bytes/touchpoint-flat")
		})
	}
}

// TestDedupeWithoutIDIndex: format 3 has no id index; a re-sent id is a
// duplicate whether its derived time is the stored one (one point read)
// or not (a clock correction moved it: the trail's keys are scanned), and
// after a reopen (the filter is loaded from the trail keys).
func TestDedupeWithoutIDIndex(t *testing.T) {
	dir := t.TempDir()
	s, err := badger.Open(badger.Config{Dir: dir}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		write(t, s, rec(t, vis(1), fmt.Sprintf("id-%d", i), time.Duration(i)*time.Second, uint32(i)))
	}
	check := func(s *badger.Store, n byte) {
		t.Helper()
		same := rec(t, vis(1), "id-7", 7*time.Second, 7)
		moved := rec(t, vis(1), "id-8", time.Hour, 99)
		other := rec(t, vis(n), "id-9", 9*time.Second, 9) // the id of another visitor is another touchpoint
		if res := write(t, s, same, moved, other); res.Duplicates != 2 || res.Stored != 1 {
			t.Errorf("re-sends: %+v, want 2 duplicates and 1 stored", res)
		}
	}
	check(s, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	check(s, 3)
	if err := s.DB().View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = []byte("i/")
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			t.Errorf("id index key %q in format 3", it.Item().Key())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	page, err := s.Trail(ctx, "s1", vis(1), store.TrailQuery{Limit: 100})
	if err != nil || len(page.Touchpoints) != 50 {
		t.Fatalf("trail: %d touchpoints, %v", len(page.Touchpoints), err)
	}
}

// TestTimeBeforeTheContexts: a touchpoint dated so early that its key
// sorts among the context keys is kept whole, and reads back with the
// visitor's other touchpoints.
func TestTimeBeforeTheContexts(t *testing.T) {
	s := open(t, "")
	recs := edgeCases()[:3]
	var tp event.Touchpoint
	if err := event.DecodeBinary(recs[2].Value, &tp); err != nil {
		t.Fatal(err)
	}
	tp.Site, tp.Visitor, tp.ID = "edge", recs[2].Visitor, "ancient"
	tp.Derived, tp.TS, tp.Received = -1<<63+5, 0, 0
	var slab []byte
	recs = append(recs, store.NewRecord(&tp, &slab))
	writeAll(t, s, recs)
	readAll(t, s, "edge", want(t, recs))
}

// TestMigrationCutShort: a migration from format 2 stopped part-way (after
// 40 of the visitors, what it had written committed, as a crash leaves it)
// fails that Open; the next Open finishes it, and everything reads back.
func TestMigrationCutShort(t *testing.T) {
	recs := generated(t, generatedEnricher(t), 3000)
	wantGen := want(t, recs)
	dir := t.TempDir()
	s, err := badger.Open(badger.Config{Dir: dir}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	badger.WriteFormat2(s)
	writeAll(t, s, recs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	setFormat(t, dir, 2)
	badger.StopMigrationAfter(40)
	_, err = badger.Open(badger.Config{Dir: dir}, quiet)
	badger.StopMigrationAfter(0)
	if err == nil || !strings.Contains(err.Error(), "migration stopped") {
		t.Fatalf("open with the migration stopped: %v", err)
	}
	db, err := bdg.Open(bdg.DefaultOptions(dir).WithLogger(nil).WithReadOnly(true))
	if err != nil {
		t.Fatal(err)
	}
	ctxs, f3, other := censusDB(t, db)
	db.Close()
	if ctxs == 0 || f3 == 0 || other == 0 {
		t.Fatalf("stopped migration: %d contexts, %d format-3 values, %d format 2: want some of each", ctxs, f3, other)
	}
	t.Logf("stopped migration: %d contexts, %d format-3 values, %d format 2", ctxs, f3, other)
	s = open(t, dir)
	if ctxs, f3, other := census(t, s); ctxs == 0 || f3 != len(recs) || other != 0 {
		t.Fatalf("after the second open: %d contexts, %d format-3 values, %d others", ctxs, f3, other)
	}
	readAll(t, s, "test", wantGen)
}

// TestRestoreV1Backup: a backup of the format-1 fixture (Badger's backup of
// that release's directory) restores into a new store migrated to format 3:
// its 15 touchpoints read back, their ids still dedupe.
func TestRestoreV1Backup(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "testdata/v1", dir)
	old, err := bdg.Open(bdg.DefaultOptions(dir).WithLogger(nil).WithReadOnly(true))
	if err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if _, err := old.Backup(&backup, 0); err != nil {
		t.Fatal(err)
	}
	old.Close()
	s := open(t, "")
	if err := s.Restore(&backup); err != nil {
		t.Fatal(err)
	}
	if ctxs, f3, other := census(t, s); ctxs != 3 || f3 != 15 || other != 0 {
		t.Errorf("restored: %d contexts, %d format-3 values, %d others; want 3, 15, 0", ctxs, f3, other)
	}
	for n := byte(1); n <= 3; n++ {
		page, err := s.Trail(ctx, "fixture", event.VisitorID{0: 0xf1, 15: n}, store.TrailQuery{})
		if err != nil || len(page.Touchpoints) != 5 {
			t.Fatalf("visitor %d: %d touchpoints, %v", n, len(page.Touchpoints), err)
		}
		for i, tp := range page.Touchpoints {
			if tp.URL != fmt.Sprintf("https://shop.example/p/%d", i) || tp.ID != fmt.Sprintf("v1-%c%d", 'a'+n, i) {
				t.Errorf("visitor %d #%d: %s %s", n, i, tp.ID, tp.URL)
			}
		}
	}
	again := eventAt(event.VisitorID{0: 0xf1, 15: 1}, "v1-b0", 0, 0)
	again.Site = "fixture"
	var slab []byte
	if res, err := s.Write(ctx, []store.Record{store.NewRecord(&again, &slab)}); err != nil || res.Duplicates != 1 {
		t.Errorf("re-sent fixture id: %+v %v, want a duplicate", res, err)
	}
}
