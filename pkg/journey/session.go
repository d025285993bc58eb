package journey

import (
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Session is a run of touchpoints without a gap of SessionGap or more and
// without a new campaign.
type Session struct {
	Start     time.Time      `json:"start"`
	End       time.Time      `json:"end"`
	Duration  float64        `json:"duration_seconds"`
	EntryPage string         `json:"entry_page,omitempty"`
	ExitPage  string         `json:"exit_page,omitempty"`
	Channel   string         `json:"channel,omitempty"`
	Campaign  string         `json:"campaign,omitempty"`
	Counts    map[string]int `json:"counts"`
	Stages    []Stage        `json:"stages"`
	// First and Last index the session's touchpoints in the trail.
	First int `json:"first"`
	Last  int `json:"last"`
}

// campaign names a touchpoint's UTM campaign ("source/campaign"), or "".
func campaign(tp *event.Touchpoint) string {
	if tp.UTM.Source == "" && tp.UTM.Campaign == "" {
		return ""
	}
	return tp.UTM.Source + "/" + tp.UTM.Campaign
}

// splits reports whether tp starts a new session after prev: a gap of
// SessionGap or more, or a page view that brings a campaign other than the
// session's.
func splits(prev, tp *event.Touchpoint, sessionCampaign string, gap time.Duration) bool {
	if tp.Derived-prev.Derived >= gap.Microseconds() {
		return true
	}
	c := campaign(tp)
	return tp.Type == event.TypePageview && c != "" && c != sessionCampaign
}

// Sessionize splits a trail (in trail order) into sessions.
func Sessionize(trail []event.Touchpoint, cfg Config) []Session {
	cfg = cfg.withDefaults()
	var out []Session
	start, camp := 0, ""
	for i := range trail {
		if i > 0 && splits(&trail[i-1], &trail[i], camp, cfg.SessionGap) {
			out = append(out, makeSession(trail, start, i-1, cfg))
			start, camp = i, ""
		}
		if c := campaign(&trail[i]); c != "" && camp == "" {
			camp = c
		}
	}
	if len(trail) > 0 {
		out = append(out, makeSession(trail, start, len(trail)-1, cfg))
	}
	return out
}

func makeSession(trail []event.Touchpoint, first, last int, cfg Config) Session {
	s := Session{First: first, Last: last, Counts: map[string]int{},
		Start: trail[first].Time(), End: trail[last].Time()}
	s.Duration = s.End.Sub(s.Start).Seconds()
	seenPV := first > 0 // only the journey's very first page view may be discover
	for i := first; i <= last; i++ {
		tp := &trail[i]
		s.Counts[tp.Type.String()]++
		if tp.Type == event.TypePageview {
			p := urlPath(tp.URL)
			if s.EntryPage == "" {
				s.EntryPage = p
				s.Channel = tp.Channel.String()
			}
			s.ExitPage = p
		}
		if c := campaign(tp); c != "" && s.Campaign == "" {
			s.Campaign = c
		}
		st := StageOf(tp, cfg, !seenPV && tp.Type == event.TypePageview)
		if tp.Type == event.TypePageview {
			seenPV = true
		}
		if len(s.Stages) == 0 || s.Stages[len(s.Stages)-1] != st {
			s.Stages = append(s.Stages, st)
		}
	}
	return s
}
