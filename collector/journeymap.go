package collector

import (
	"context"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// journeyMap answers GET /v1/sites/{site}/map?from=&to=&segment=&channel=&top=:
// the journey map (journey.Map) over the visitors active in [from, to).
func (s *Server) journeyMap(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	a, err := s.readScanArgs(ctx)
	if err != nil {
		return err
	}
	args := ctx.QueryArgs()
	ch, err := parseChannelArg(string(args.Peek("channel")))
	if err != nil {
		return errStatus(fasthttp.StatusBadRequest, "%v", err)
	}
	top := 5
	if t := args.Peek("top"); len(t) > 0 {
		if top, err = strconv.Atoi(string(t)); err != nil || top < 1 || top > 50 {
			return errStatus(fasthttp.StatusBadRequest, "top: want 1..50")
		}
	}
	m := journey.NewMap(s.journeyCfg)
	m.Scope = journey.Scope{From: a.from, To: a.to, Segment: a.segment, LapsedAfter: s.journeyCfg.LapsedAfter}
	m.Channel = ch
	release, err := s.scanSlot()
	if err != nil {
		return err
	}
	defer release()
	err = s.store.ScanTrails(qc, site, a.from, a.to, func(_ event.VisitorID, trail []event.Touchpoint) error {
		m.Add(trail)
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(ctx, fasthttp.StatusOK, struct {
		Site    string `json:"site"`
		Segment string `json:"segment"`
		Channel string `json:"channel,omitempty"`
		journey.MapResult
	}{site, a.segment.String(), ch.String(), m.Result(top)})
}

// parseChannelArg reads a channel filter: "" (any) or a channel name
// other than internal.
func parseChannelArg(s string) (event.Channel, error) {
	if s == "" {
		return event.ChannelUnknown, nil
	}
	ch := event.ParseChannel(s)
	if ch == event.ChannelUnknown || ch == event.ChannelInternal {
		return ch, fmt.Errorf("channel %q: want direct, search, social, email, paid or referral", s)
	}
	return ch, nil
}
