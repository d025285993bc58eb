package journey

import (
	"path"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Config holds the rules of the journey model. Zero fields mean the
// documented defaults (DefaultConfig spells them out). A Config is read,
// never modified, by the functions and accumulators of this package.
type Config struct {
	// SessionGap splits sessions on inactivity: a gap of SessionGap or
	// more starts a new session. Default: 30 minutes.
	SessionGap time.Duration
	// StageRules map URL paths to stages, first match wins. nil means the
	// defaults: /help*, /faq*, /support* → ask; /checkout*, /cart*,
	// /pricing* → buy; /account*, /app*, /dashboard* → use.
	StageRules []StageRule
	// CheckoutLastStep is the checkout step that completes a purchase.
	// Default: 3.
	CheckoutLastStep uint32
	// LowFeedback is the score/scale ratio below which feedback is a
	// friction signal. Default: 0.6 (2 of 5 is low, 3 of 5 is not).
	LowFeedback float64
	// RepeatedSearches is how many searches in one session are friction.
	// Default: 3.
	RepeatedSearches int
	// LapsedAfter is the absence after which a returning visitor is lapsed.
	// Default: 30 days.
	LapsedAfter time.Duration
	// Conversion is the touchpoint that counts as a conversion for
	// attribution. Default (nil): checkout_step CheckoutLastStep.
	Conversion *Step
}

// StageRule maps URL paths matching Pattern to Stage. Pattern is a
// path.Match glob on the URL path; a trailing "*" also matches deeper
// paths ("/help*" matches "/help", "/helpdesk" and "/help/returns").
type StageRule struct {
	Pattern string `json:"pattern"`
	Stage   Stage  `json:"stage"`
}

// defaultStageRules is shared by every defaulted Config: never modify it.
var defaultStageRules = []StageRule{
	{"/help*", StageAsk}, {"/faq*", StageAsk}, {"/support*", StageAsk},
	{"/checkout*", StageBuy}, {"/cart*", StageBuy}, {"/pricing*", StageBuy},
	{"/account*", StageUse}, {"/app*", StageUse}, {"/dashboard*", StageUse},
}

// DefaultConfig returns the documented defaults, in a Config the caller
// may modify.
func DefaultConfig() Config {
	return Config{
		SessionGap:       30 * time.Minute,
		StageRules:       append([]StageRule(nil), defaultStageRules...),
		CheckoutLastStep: 3,
		LowFeedback:      0.6,
		RepeatedSearches: 3,
		LapsedAfter:      30 * 24 * time.Hour,
	}
}

// withDefaults fills zero fields. It does not allocate: functions called
// once per visitor may call it.
func (c Config) withDefaults() Config {
	if c.SessionGap <= 0 {
		c.SessionGap = 30 * time.Minute
	}
	if c.StageRules == nil {
		c.StageRules = defaultStageRules
	}
	if c.CheckoutLastStep == 0 {
		c.CheckoutLastStep = 3
	}
	if c.LowFeedback <= 0 {
		c.LowFeedback = 0.6
	}
	if c.RepeatedSearches <= 0 {
		c.RepeatedSearches = 3
	}
	if c.LapsedAfter <= 0 {
		c.LapsedAfter = 30 * 24 * time.Hour
	}
	return c
}

// conversion returns the conversion step.
func (c *Config) conversion() Step {
	if c.Conversion != nil {
		return *c.Conversion
	}
	return Step{Type: event.TypeCheckoutStep, Number: c.CheckoutLastStep}
}

// urlStage returns the stage of the first rule matching the URL path p.
func (c *Config) urlStage(p string) (Stage, bool) {
	for i := range c.StageRules {
		if matchPath(c.StageRules[i].Pattern, p) {
			return c.StageRules[i].Stage, true
		}
	}
	return 0, false
}

// isHelpPage reports whether the URL path p is an ask page by the rules.
func (c *Config) isHelpPage(p string) bool {
	s, ok := c.urlStage(p)
	return ok && s == StageAsk
}

// urlPath returns the path of an absolute or relative URL, without query
// or fragment; "/" when there is none. It returns a substring of u.
func urlPath(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		j := 0
		for j < len(u) && u[j] != '/' && u[j] != '?' && u[j] != '#' {
			j++
		}
		u = u[j:]
	}
	for i := 0; i < len(u); i++ {
		if u[i] == '?' || u[i] == '#' {
			u = u[:i]
			break
		}
	}
	if u == "" {
		return "/"
	}
	return u
}

// matchPath reports whether p matches the glob pattern; a trailing "*" also
// matches any deeper path ("/help*" matches "/help/returns"). Patterns
// whose only wildcard is a trailing "*" (the usual ones) are a prefix test.
func matchPath(pattern, p string) bool {
	prefix, star := strings.CutSuffix(pattern, "*")
	if literal(prefix) {
		if star {
			return strings.HasPrefix(p, prefix)
		}
		return p == pattern
	}
	if star && strings.HasPrefix(p, prefix) {
		return true
	}
	ok, _ := path.Match(pattern, p)
	return ok
}

// literal reports whether s has no glob syntax.
func literal(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			return false
		}
	}
	return true
}
