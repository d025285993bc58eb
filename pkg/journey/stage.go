package journey

import (
	"encoding/json"
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

func (s Stage) String() string {
	if s < stageCount {
		return stageNames[s]
	}
	return fmt.Sprintf("stage(%d)", uint8(s))
}

// MarshalJSON writes the stage's name.
func (s Stage) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a stage's name.
func (s *Stage) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	for i, n := range stageNames {
		if n == name {
			*s = Stage(i)
			return nil
		}
	}
	return fmt.Errorf("unknown stage %q", name)
}

// StageOf maps a touchpoint to its stage. first says it is the first page
// view of its journey. The rules, in order: checkout steps are buy, chat
// opens ask, feedback engage, identify use; then the URL rules; then the
// first page view arriving from outside (search, social, email, paid,
// referral) is discover; other page views and searches explore; custom
// events engage.
func StageOf(tp *event.Touchpoint, cfg Config, first bool) Stage {
	switch tp.Type {
	case event.TypeCheckoutStep:
		return StageBuy
	case event.TypeChatOpen:
		return StageAsk
	case event.TypeFeedback:
		return StageEngage
	case event.TypeIdentify:
		return StageUse
	}
	if tp.URL != "" {
		p := urlPath(tp.URL)
		for _, r := range cfg.StageRules {
			if matchPath(r.Pattern, p) {
				return r.Stage
			}
		}
	}
	switch tp.Type {
	case event.TypePageview:
		if first {
			switch tp.Channel {
			case event.ChannelSearch, event.ChannelSocial, event.ChannelEmail, event.ChannelPaid, event.ChannelReferral:
				return StageDiscover
			}
		}
		return StageExplore
	case event.TypeSearch:
		return StageExplore
	}
	return StageEngage
}

// Stages returns the stage sequence of a trail with consecutive repeats
// collapsed.
func Stages(trail []event.Touchpoint, cfg Config) []Stage {
	cfg = cfg.withDefaults()
	var out []Stage
	firstPV := true
	for i := range trail {
		tp := &trail[i]
		s := StageOf(tp, cfg, firstPV && tp.Type == event.TypePageview)
		if tp.Type == event.TypePageview {
			firstPV = false
		}
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}
