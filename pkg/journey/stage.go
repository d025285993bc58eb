package journey

import (
	"fmt"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Stage is a step of the customer lifecycle.
type Stage uint8

// The lifecycle stages site owners use, in order.
const (
	StageDiscover Stage = iota
	StageExplore
	StageBuy
	StageUse
	StageAsk
	StageEngage
	stageCount
)

var stageNames = [stageCount]string{"discover", "explore", "buy", "use", "ask", "engage"}

// String returns the stage's name: "discover", "explore", "buy", "use",
// "ask" or "engage".
func (s Stage) String() string {
	if s < stageCount {
		return stageNames[s]
	}
	return fmt.Sprintf("stage(%d)", uint8(s))
}

// ParseStage returns the stage named s.
func ParseStage(s string) (Stage, error) {
	for i, n := range stageNames {
		if n == s {
			return Stage(i), nil
		}
	}
	return 0, fmt.Errorf("unknown stage %q: want discover, explore, buy, use, ask or engage", s)
}

// MarshalText writes the stage's name (JSON: a string).
func (s Stage) MarshalText() ([]byte, error) {
	if s >= stageCount {
		return nil, fmt.Errorf("unknown stage %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a stage's name.
func (s *Stage) UnmarshalText(b []byte) error {
	st, err := ParseStage(string(b))
	if err == nil {
		*s = st
	}
	return err
}

// external reports whether a visit through ch came from outside the site
// and was not typed in: search, social, email, paid or referral.
func external(ch event.Channel) bool {
	switch ch {
	case event.ChannelSearch, event.ChannelSocial, event.ChannelEmail, event.ChannelPaid, event.ChannelReferral:
		return true
	}
	return false
}

// StageOf maps a touchpoint to its stage. first says tp is the first page
// view of its journey. cfg's zero fields mean the defaults. The rules:
//
//	checkout_step                          buy
//	chat_open, ticket                      ask
//	feedback                               engage
//	identify                               use
//	search on an ask page (StageRules)     ask; other searches explore
//	the first page view, external channel  discover (how the visitor found the site, whatever the page)
//	other page views                       the first matching StageRule, else explore
//	custom                                 the first matching StageRule, else engage
func StageOf(tp *event.Touchpoint, cfg Config, first bool) Stage {
	if cfg.StageRules == nil {
		cfg.StageRules = defaultStageRules
	}
	return stageOf(tp, &cfg, first)
}

func stageOf(tp *event.Touchpoint, cfg *Config, first bool) Stage {
	switch tp.Type {
	case event.TypeCheckoutStep:
		return StageBuy
	case event.TypeChatOpen, event.TypeTicket:
		return StageAsk
	case event.TypeFeedback:
		return StageEngage
	case event.TypeIdentify:
		return StageUse
	case event.TypeSearch:
		if tp.URL != "" && cfg.isHelpPage(urlPath(tp.URL)) {
			return StageAsk
		}
		return StageExplore
	case event.TypePageview:
		if first && external(tp.Channel) {
			return StageDiscover
		}
		if s, ok := cfg.urlStage(urlPath(tp.URL)); ok {
			return s
		}
		return StageExplore
	}
	if tp.URL != "" {
		if s, ok := cfg.urlStage(urlPath(tp.URL)); ok {
			return s
		}
	}
	return StageEngage
}

// Stages returns the stage sequence of a trail (in trail order) with
// consecutive repeats collapsed: "discover explore buy".
func Stages(trail []event.Touchpoint, cfg Config) []Stage {
	cfg = cfg.withDefaults()
	return appendStages(nil, trail, &cfg, true)
}

// appendStages appends the collapsed stages of trail to dst; firstPV says
// the trail holds the journey's first page view.
func appendStages(dst []Stage, trail []event.Touchpoint, cfg *Config, firstPV bool) []Stage {
	n := len(dst)
	for i := range trail {
		tp := &trail[i]
		if tp.Type == event.TypeEngagement {
			continue // a report on a page view, not a step
		}
		s := stageOf(tp, cfg, firstPV && tp.Type == event.TypePageview)
		if tp.Type == event.TypePageview {
			firstPV = false
		}
		if len(dst) == n || dst[len(dst)-1] != s {
			dst = append(dst, s)
		}
	}
	return dst
}
