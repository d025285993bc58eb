package collector

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/touchtrail/touchtrail/collector/ui"
)

// newUI builds the journey-map pages (collector/ui) served under /ui/,
// unless Config.DisableUI. They read the store and the journey model
// directly, and sign in with the query tokens.
func (s *Server) newUI() (fasthttp.RequestHandler, error) {
	if s.cfg.DisableUI {
		return nil, nil
	}
	sites := make([]string, 0, len(s.sites))
	for id := range s.sites {
		sites = append(sites, id)
	}
	slices.Sort(sites)
	u, err := ui.New(ui.Config{Timeout: s.cfg.QueryTimeout, MaxRange: s.cfg.MaxRange}, ui.Deps{
		Store: s.store, Journey: s.journeyCfg, Sites: sites, Log: s.log, Now: s.now,
		ScanSlot:   s.scanSlot,
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
