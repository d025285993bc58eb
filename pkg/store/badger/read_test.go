package badger_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/store"
)

func TestBadCursors(t *testing.T) {
	s := open(t, "")
	v := vis(1)
	for i := range 5 {
		write(t, s, rec(t, v, fmt.Sprint(i), time.Duration(i)*time.Hour, uint32(i)))
	}
	trail, _ := s.Trail(ctx, "s1", v, store.TrailQuery{Limit: 2})
	days, _ := s.Visitors(ctx, "s1", store.VisitorQuery{Limit: 1})
	if trail.Next == "" || days.Next == "" {
		t.Fatalf("no next page: %q %q", trail.Next, days.Next)
	}
	good, _ := base64.RawURLEncoding.DecodeString(trail.Next)
	for name, c := range map[string]string{
		"not base64":      "garbage!",
		"padded base64":   trail.Next + "=",
		"short":           base64.RawURLEncoding.EncodeToString(good[:len(good)-1]),
		"long":            base64.RawURLEncoding.EncodeToString(append(good, 0)),
		"a visitors page": days.Next,
	} {
		if _, err := s.Trail(ctx, "s1", v, store.TrailQuery{Cursor: c}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("trail, %s cursor: %v, want ErrBadCursor", name, err)
		}
	}
	if _, err := s.Visitors(ctx, "s1", store.VisitorQuery{Cursor: trail.Next}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("visitors, a trail cursor: %v, want ErrBadCursor", err)
	}
	// A cursor from before From does not reach back before From.
	page, err := s.Trail(ctx, "s1", v, store.TrailQuery{Cursor: trail.Next, From: base.Add(3 * time.Hour)})
	if err != nil || ids(page) != "3 4 " {
		t.Errorf("cursor before From: %q %v, want 3 4", ids(page), err)
	}
}

func TestInvalidSiteRefused(t *testing.T) {
	s := open(t, "")
	r := rec(t, vis(1), "a", 0, 1)
	r.Site = "a/b"
	if _, err := s.Write(ctx, []store.Record{r}); !errors.Is(err, store.ErrInvalidKey) {
		t.Errorf("write: %v, want ErrInvalidKey", err)
	}
	r = rec(t, vis(1), "", 0, 1)
	if _, err := s.Write(ctx, []store.Record{r}); !errors.Is(err, store.ErrInvalidKey) {
		t.Errorf("write without id: %v, want ErrInvalidKey", err)
	}
	for _, site := range []string{"", "a/b", string(make([]byte, 65))} {
		if _, err := s.Trail(ctx, site, vis(1), store.TrailQuery{}); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("trail of site %q: %v", site, err)
		}
		if _, err := s.Visitors(ctx, site, store.VisitorQuery{}); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("visitors of site %q: %v", site, err)
		}
		if _, err := s.UserVisitors(ctx, site, "u"); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("users of site %q: %v", site, err)
		}
		if err := s.EraseVisitor(ctx, site, vis(1)); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("erase in site %q: %v", site, err)
		}
	}
}

// A group larger than one Badger transaction is split and fully stored.
func TestWriteSplitsBigGroups(t *testing.T) {
	s := open(t, "")
	v := vis(1)
	// 16 MB memtables cap a transaction near 2.4 MB: 20,000 touchpoints of
	// ~300 bytes with their index keys are well over.
	pad := string(make([]byte, 200))
	var recs []store.Record
	var slab []byte
	for i := range 20_000 {
		tp := eventAt(v, fmt.Sprint(i), time.Duration(i)*time.Millisecond, uint32(i))
		tp.Title = pad
		recs = append(recs, store.NewRecord(&tp, &slab))
	}
	if res := write(t, s, recs...); res.Stored != len(recs) {
		t.Fatalf("%+v, want %d stored", res, len(recs))
	}
	n, q := 0, store.TrailQuery{Limit: store.MaxLimit}
	for {
		page, err := s.Trail(ctx, "s1", v, q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Touchpoints)
		if q.Cursor = page.Next; q.Cursor == "" {
			break
		}
	}
	if n != len(recs) {
		t.Fatalf("read %d touchpoints, wrote %d", n, len(recs))
	}
}
