package collector

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/touchtrail/touchtrail/collector/ui"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// newUI builds the journey-map pages (collector/ui) served under /ui/,
// unless Config.DisableUI. They read the store and the journey model
// directly (on a cluster node: across the stores, clusterscan.go), and
// sign in with the query tokens.
func (s *Server) newUI() (fasthttp.RequestHandler, error) {
	if s.cfg.DisableUI {
		return nil, nil
	}
	sites := make([]string, 0, len(s.sites))
	for id := range s.sites {
		sites = append(sites, id)
	}
	slices.Sort(sites)
	var st store.Store = s.store
	scanSlot := s.scanSlot
	if rt, ok := s.scatter.(store.Store); ok {
		// A cluster node (its router): trails, users, erasures and whole
		// trails across the stores, the visitors list scattered; the
		// stores' own slots bound the scans (a store or all node's share
		// of its own page's scan needs one of its slots).
		st, scanSlot = clusterReads{Store: rt, s: s}, nil
	}
	u, err := ui.New(ui.Config{Timeout: time.Duration(s.cfg.QueryTimeout), MaxRange: time.Duration(s.cfg.MaxRange)}, ui.Deps{
		Store: st, Journey: s.journeyCfg, Sites: sites, Log: s.log, Now: s.now,
		ScanSlot:   scanSlot,
		CountError: func(status int) { s.metrics.errors.WithLabelValues("ui", strconv.Itoa(status)).Inc() },
		Authenticate: func(token []byte) (ui.Identity, bool) {
			t := s.tokens.lookup(token)
			if t == nil || !t.read {
				return ui.Identity{}, false
			}
			return ui.Identity{Name: t.name, Admin: t.admin, Sites: slices.Clone(t.sites)}, true
		},
	})
	if err != nil {
		return nil, fmt.Errorf("journey map pages: %w", err)
	}
	return fasthttpadaptor.NewFastHTTPHandler(u.Handler()), nil
}
