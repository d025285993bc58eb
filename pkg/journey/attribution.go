package journey

import (
	"maps"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Touch is the channel and campaign of an attributed touch.
type Touch struct {
	Channel  string `json:"channel"`
	Campaign string `json:"campaign,omitempty"` // "source/campaign"
}

// isTouch reports whether tp says how the visitor arrived: a page view
// through a known channel other than internal (direct counts).
func isTouch(tp *event.Touchpoint) bool {
	return tp.Type == event.TypePageview && tp.Channel != event.ChannelUnknown && tp.Channel != event.ChannelInternal
}

func touchOf(tp *event.Touchpoint) Touch {
	return Touch{Channel: tp.Channel.String(), Campaign: campaign(&tp.UTM)}
}

// direct is the touch of a conversion without any touch before it.
var direct = Touch{Channel: event.ChannelDirect.String()}

// Attribute returns the first and last touch before the trail's first
// conversion (Config.Conversion): the first and last page views through a
// channel other than internal or unknown, from the start of the trail up
// to the conversion ("direct" without any). at indexes the conversion in
// the trail; it is -1, and ok false, without one.
func Attribute(trail []event.Touchpoint, cfg Config) (first, last Touch, at int, ok bool) {
	cfg = cfg.withDefaults()
	conv := cfg.conversion()
	return attribute(trail, &conv, -1<<63)
}

// attribute is Attribute for the first conversion at or after from (µs).
func attribute(trail []event.Touchpoint, conv *Step, from int64) (first, last Touch, at int, ok bool) {
	f, l := -1, -1
	for i := range trail {
		tp := &trail[i]
		if tp.Derived >= from && conv.Match(tp) {
			if f < 0 {
				return direct, direct, i, true
			}
			return touchOf(&trail[f]), touchOf(&trail[l]), i, true
		}
		if isTouch(tp) {
			if f < 0 {
				f = i
			}
			l = i
		}
	}
	return first, last, -1, false
}

// AttributionResult counts conversions by first- and last-touch channel
// and campaign. Conversions without a campaign are not in the campaign
// maps.
type AttributionResult struct {
	Conversions   int            `json:"conversions"`
	FirstChannel  map[string]int `json:"first_touch_channel"`
	LastChannel   map[string]int `json:"last_touch_channel"`
	FirstCampaign map[string]int `json:"first_touch_campaign"`
	LastCampaign  map[string]int `json:"last_touch_campaign"`
}

// Attribution accumulates first- and last-touch attribution, one
// conversion per visitor: its first conversion in the range. It keeps
// counts only; it is not safe for concurrent use.
type Attribution struct {
	// Scope, when set, restricts the counts to some visitors and to
	// conversions in its range; the touches may lie before it. Add is then
	// given whole trails.
	Scope Scope

	conv Step
	r    AttributionResult
}

// NewAttribution returns an empty accumulator.
func NewAttribution(cfg Config) *Attribution {
	cfg = cfg.withDefaults()
	return &Attribution{conv: cfg.conversion(), r: AttributionResult{FirstChannel: map[string]int{},
		LastChannel: map[string]int{}, FirstCampaign: map[string]int{}, LastCampaign: map[string]int{}}}
}

// Add counts one visitor's trail (in trail order, with its history: the
// first touch may lie long before) if it converted at or after from (zero:
// any time) and within the Scope.
func (a *Attribution) Add(trail []event.Touchpoint, from time.Time) {
	lo := int64(-1 << 63)
	if !from.IsZero() {
		lo = from.UnixMicro()
	}
	if a.Scope != (Scope{}) {
		if _, _, ok := a.Scope.Apply(trail); !ok {
			return
		}
		slo, shi := bounds(a.Scope.From, a.Scope.To)
		lo = max(lo, slo)
		trail = window(trail, -1<<63, shi)
	}
	first, last, _, ok := attribute(trail, &a.conv, lo)
	if !ok {
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

// Result returns the counts; the result shares nothing with a.
func (a *Attribution) Result() AttributionResult {
	return AttributionResult{Conversions: a.r.Conversions, FirstChannel: maps.Clone(a.r.FirstChannel),
		LastChannel: maps.Clone(a.r.LastChannel), FirstCampaign: maps.Clone(a.r.FirstCampaign),
		LastCampaign: maps.Clone(a.r.LastCampaign)}
}
