package collector

import (
	"context"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// journeyMap answers GET /v1/sites/{site}/map?from=&to=&segment=&channel=&top=:
// the journey map (journey.Map) over the visitors active in [from, to).
func (s *Server) journeyMap(qc context.Context, ctx *fasthttp.RequestCtx, site string) error {
	return s.siteWide(qc, ctx, site, "map")
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
