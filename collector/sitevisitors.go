package collector

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/cluster"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// The visitors list across stores: each store answers the first limit+1
// visitor-days of its share after the cursor, in the store's order (day,
// then visitor id); the query node merges them in that order, keeps
// limit, and makes the cursor a single store would have made of the last
// one it keeps, so that the next page resumes there on every store.

// visitorShare is one visitor-day of a store's share.
type visitorShare struct {
	Visitor  event.VisitorID `json:"v"`
	Day      int64           `json:"d"` // Unix seconds of the UTC midnight
	LastSeen int64           `json:"l"` // Unix µs
	Count    uint32          `json:"c"`
}

// visitorsShare is a store's answer to a scattered visitors list: the
// visitor-days of the partitions asked for, at most limit+1 (one more
// says that there is a next page).
func (s *Server) visitorsShare(ctx context.Context, q siteQuery, owns func(string, event.VisitorID) bool) ([]byte, error) {
	limit := store.ClampLimit(q.Limit)
	var out []visitorShare
	vq := store.VisitorQuery{From: q.From, To: q.To, Limit: store.MaxLimit, Cursor: q.Cursor}
	for len(out) <= limit {
		page, err := s.store.Visitors(ctx, q.Site, vq)
		if err != nil {
			return nil, err
		}
		for _, vd := range page.Visitors {
			if owns(q.Site, vd.Visitor) && len(out) <= limit {
				out = append(out, visitorShare{vd.Visitor, vd.Day.Unix(), vd.LastSeen.UnixMicro(), vd.Count})
			}
		}
		if page.Next == "" {
			break
		}
		vq.Cursor = page.Next
	}
	return json.Marshal(out)
}

// visitorsCursor is the store's cursor after a visitor-day (the store's
// format: base64url of 'v', the day number and the visitor id).
func visitorsCursor(day int64, v event.VisitorID) string {
	b := binary.BigEndian.AppendUint32([]byte{'v'}, uint32(day/86400))
	return base64.RawURLEncoding.EncodeToString(append(b, v[:]...))
}

func validVisitorsCursor(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == 1+4+16 && b[0] == 'v'
}

// scatterVisitors is the visitors list of a query node.
func (s *Server) scatterVisitors(qc context.Context, q siteQuery) (store.VisitorPage, cluster.Missing, error) {
	var page store.VisitorPage
	if q.Cursor != "" && !validVisitorsCursor(q.Cursor) {
		return page, nil, store.ErrBadCursor
	}
	body, err := json.Marshal(q)
	if err != nil {
		return page, nil, fmt.Errorf("BUG: visitors query: %w", err)
	}
	var all []visitorShare
	missing, err := s.scatter.Scatter(qc, body, func(b []byte) error {
		var share []visitorShare
		if err := json.Unmarshal(b, &share); err != nil {
			return err
		}
		all = append(all, share...)
		return nil
	})
	if err != nil {
		return page, missing, err
	}
	slices.SortFunc(all, func(a, b visitorShare) int {
		if a.Day != b.Day {
			return int(a.Day - b.Day)
		}
		return bytes.Compare(a.Visitor[:], b.Visitor[:])
	})
	limit := store.ClampLimit(q.Limit)
	if len(all) > limit {
		all = all[:limit]
		last := all[limit-1]
		page.Next = visitorsCursor(last.Day, last.Visitor)
	}
	for _, v := range all {
		page.Visitors = append(page.Visitors, store.VisitorDay{Visitor: v.Visitor, Day: time.Unix(v.Day, 0).UTC(),
			LastSeen: time.UnixMicro(v.LastSeen).UTC(), Count: v.Count})
	}
	return page, missing, nil
}

// visitorsPage reads a page of the visitors list: from the node's store,
// or scattered over the cluster's.
func (s *Server) visitorsPage(qc context.Context, ctx *fasthttp.RequestCtx, site string) (store.VisitorPage, cluster.Missing, error) {
	from, to, limit, cursor, err := rangeArgs(ctx)
	if err != nil {
		return store.VisitorPage{}, nil, err
	}
	if s.scatter == nil {
		page, err := s.store.Visitors(qc, site, store.VisitorQuery{From: from, To: to, Limit: limit, Cursor: cursor})
		return page, nil, err
	}
	return s.scatterVisitors(qc, siteQuery{Kind: "visitors", Site: site, From: from, To: to, Limit: limit, Cursor: cursor})
}
