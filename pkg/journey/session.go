package journey

import (
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Session is a run of touchpoints of one journey. A touchpoint starts a new
// session when
//
//   - it comes SessionGap or more after the previous one (a gap of exactly
//     SessionGap splits; midnight does not), or
//   - it carries a UTM campaign (source and campaign) other than the
//     session's: a campaign landing starts a session, or
//   - it is a page view through an external channel (search, social,
//     email, paid, referral) other than the channel of the session's first
//     page view: the visitor left and came back another way. Internal,
//     direct and unknown channels never split.
type Session struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Duration is End − Start in seconds.
	Duration float64 `json:"duration_seconds"`
	// EntryPage and ExitPage are the URL paths of the first and last page
	// views ("" without page views).
	EntryPage string `json:"entry_page,omitempty"`
	ExitPage  string `json:"exit_page,omitempty"`
	// Channel is the channel of the first page view (else of the first
	// touchpoint); Campaign the session's UTM campaign as "source/campaign".
	Channel  string `json:"channel,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	// Counts counts the touchpoints by type name ("pageview": 3).
	Counts map[string]int `json:"counts"`
	// Stages is the session's stage sequence, consecutive repeats collapsed.
	Stages []Stage `json:"stages"`
	// First and Last index the session's first and last touchpoints in the
	// trail (inclusive).
	First int `json:"first"`
	Last  int `json:"last"`
}

// campaign names a touchpoint's UTM campaign as "source/campaign", or "".
func campaign(u *event.UTM) string {
	if u.Source == "" && u.Campaign == "" {
		return ""
	}
	return u.Source + "/" + u.Campaign
}

// splitter applies the session rules touchpoint by touchpoint, without
// allocating.
type splitter struct {
	gap     int64 // µs
	started bool
	prev    int64
	src     string // the session's campaign: UTM source and campaign
	camp    string
	hasCamp bool
	channel event.Channel // of the session's first page view
	hasPV   bool
}

func newSplitter(cfg *Config) splitter { return splitter{gap: cfg.SessionGap.Microseconds()} }

// next takes tp, the next touchpoint of the trail, and reports whether it
// starts a new session (the first touchpoint does).
func (s *splitter) next(tp *event.Touchpoint) bool {
	hasCamp := tp.UTM.Source != "" || tp.UTM.Campaign != ""
	split := !s.started || tp.Derived-s.prev >= s.gap ||
		hasCamp && (!s.hasCamp || tp.UTM.Source != s.src || tp.UTM.Campaign != s.camp) ||
		tp.Type == event.TypePageview && s.hasPV && external(tp.Channel) && tp.Channel != s.channel
	if split {
		*s = splitter{gap: s.gap, started: true}
	}
	s.prev = tp.Derived
	if hasCamp && !s.hasCamp {
		s.src, s.camp, s.hasCamp = tp.UTM.Source, tp.UTM.Campaign, true
	}
	if tp.Type == event.TypePageview && !s.hasPV {
		s.channel, s.hasPV = tp.Channel, true
	}
	return split
}

// Sessionize splits a trail (in trail order) into sessions. Their strings
// may share memory with the trail's.
func Sessionize(trail []event.Touchpoint, cfg Config) []Session {
	cfg = cfg.withDefaults()
	var out []Session
	sp := newSplitter(&cfg)
	start := 0
	for i := range trail {
		if sp.next(&trail[i]) && i > 0 {
			out = append(out, Session{First: start, Last: i - 1})
			start = i
		}
	}
	if len(trail) > 0 {
		out = append(out, Session{First: start, Last: len(trail) - 1})
	}
	// One backing array for every session's stages.
	stages := make([]Stage, 0, min(len(trail), 4*len(out)))
	firstPV := true
	for k := range out {
		s := &out[k]
		n := len(stages)
		stages = fillSession(s, trail, stages, &cfg, &firstPV)
		s.Stages = stages[n:len(stages):len(stages)]
	}
	return out
}

// fillSession fills s from its touchpoints and appends its stages to
// stages. firstPV says no page view came before the session; it is
// updated.
func fillSession(s *Session, trail []event.Touchpoint, stages []Stage, cfg *Config, firstPV *bool) []Stage {
	first, last := &trail[s.First], &trail[s.Last]
	s.Start, s.End = first.Time(), last.Time()
	s.Duration = s.End.Sub(s.Start).Seconds()
	s.Channel = first.Channel.String()
	var counts [16]int
	for i := s.First; i <= s.Last; i++ {
		tp := &trail[i]
		counts[tp.Type&15]++
		if tp.Type == event.TypePageview {
			p := urlPath(tp.URL)
			if s.EntryPage == "" {
				s.EntryPage = p
				s.Channel = tp.Channel.String()
			}
			s.ExitPage = p
		}
		if s.Campaign == "" {
			s.Campaign = campaign(&tp.UTM)
		}
	}
	s.Counts = make(map[string]int, 4)
	for t, n := range counts {
		if n > 0 {
			s.Counts[event.Type(t).String()] = n
		}
	}
	stages = appendStages(stages, trail[s.First:s.Last+1], cfg, *firstPV)
	if s.EntryPage != "" {
		*firstPV = false
	}
	return stages
}
