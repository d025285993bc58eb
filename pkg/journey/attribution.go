package journey

import (
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Touch is the channel and campaign of an attributed touch.
type Touch struct {
	Channel  string `json:"channel"`
	Campaign string `json:"campaign,omitempty"`
}

// Attribute returns the first and last touch before the trail's first
// conversion: the first and last page views that say how the visitor
// arrived (a channel other than internal). at indexes the conversion in the
// trail; it is -1 (and ok false) without one.
func Attribute(trail []event.Touchpoint, cfg Config) (first, last Touch, at int, ok bool) {
	cfg = cfg.withDefaults()
	var touches []int
	for i := range trail {
		tp := &trail[i]
		if cfg.Conversion.Match(tp) {
			if len(touches) == 0 {
				return Touch{Channel: "direct"}, Touch{Channel: "direct"}, i, true
			}
			f, l := &trail[touches[0]], &trail[touches[len(touches)-1]]
			return Touch{f.Channel.String(), campaign(f)}, Touch{l.Channel.String(), campaign(l)}, i, true
		}
		if tp.Type == event.TypePageview && tp.Channel != event.ChannelUnknown && tp.Channel != event.ChannelInternal {
			touches = append(touches, i)
		}
	}
	return first, last, -1, false
}

// AttributionResult counts conversions by first- and last-touch channel
// and campaign.
type AttributionResult struct {
	Conversions   int            `json:"conversions"`
	FirstChannel  map[string]int `json:"first_touch_channel"`
	LastChannel   map[string]int `json:"last_touch_channel"`
	FirstCampaign map[string]int `json:"first_touch_campaign"`
	LastCampaign  map[string]int `json:"last_touch_campaign"`
}

// Attribution accumulates first- and last-touch attribution.
type Attribution struct {
	cfg Config
	r   AttributionResult
}

// NewAttribution returns an empty accumulator.
func NewAttribution(cfg Config) *Attribution {
	return &Attribution{cfg: cfg.withDefaults(), r: AttributionResult{FirstChannel: map[string]int{},
		LastChannel: map[string]int{}, FirstCampaign: map[string]int{}, LastCampaign: map[string]int{}}}
}

// Add counts one visitor's trail (its whole history: the first touch may
// lie long before) if its first conversion happened at or after from.
func (a *Attribution) Add(trail []event.Touchpoint, from time.Time) {
	first, last, at, ok := Attribute(trail, a.cfg)
	if !ok || (!from.IsZero() && trail[at].Derived < from.UnixMicro()) {
		return
	}
	a.r.Conversions++
	a.r.FirstChannel[first.Channel]++
	a.r.LastChannel[last.Channel]++
	if first.Campaign != "" {
		a.r.FirstCampaign[first.Campaign]++
	}
	if last.Campaign != "" {
		a.r.LastCampaign[last.Campaign]++
	}
}

// Result returns the counts.
func (a *Attribution) Result() AttributionResult { return a.r }
