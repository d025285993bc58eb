package journey

import (
	"path"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Config holds the rules of the journey model. DefaultConfig gives the
// documented defaults.
type Config struct {
	// SessionGap splits sessions on inactivity. Default: 30 minutes.
	SessionGap time.Duration
	// StageRules map URL paths to stages, first match wins. Default:
	// /help*, /faq*, /support* → ask; /checkout*, /cart*, /pricing* → buy;
	// /account*, /app*, /dashboard* → use.
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
	// attribution. Default: checkout_step CheckoutLastStep.
	Conversion *Step
}

// StageRule maps URL paths matching Pattern (a path.Match glob, where a
// trailing "*" also matches deeper paths) to Stage.
type StageRule struct {
	Pattern string `json:"pattern"`
	Stage   Stage  `json:"stage"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		SessionGap: 30 * time.Minute,
		StageRules: []StageRule{
			{"/help*", StageAsk}, {"/faq*", StageAsk}, {"/support*", StageAsk},
			{"/checkout*", StageBuy}, {"/cart*", StageBuy}, {"/pricing*", StageBuy},
			{"/account*", StageUse}, {"/app*", StageUse}, {"/dashboard*", StageUse},
		},
		CheckoutLastStep: 3,
		LowFeedback:      0.6,
		RepeatedSearches: 3,
		LapsedAfter:      30 * 24 * time.Hour,
	}
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SessionGap <= 0 {
		c.SessionGap = d.SessionGap
	}
	if c.StageRules == nil {
		c.StageRules = d.StageRules
	}
	if c.CheckoutLastStep == 0 {
		c.CheckoutLastStep = d.CheckoutLastStep
	}
	if c.LowFeedback <= 0 {
		c.LowFeedback = d.LowFeedback
	}
	if c.RepeatedSearches <= 0 {
		c.RepeatedSearches = d.RepeatedSearches
	}
	if c.LapsedAfter <= 0 {
		c.LapsedAfter = d.LapsedAfter
	}
	if c.Conversion == nil {
		c.Conversion = &Step{Type: event.TypeCheckoutStep, Number: c.CheckoutLastStep}
	}
	return c
}

// urlPath returns the path of an absolute or relative URL, without query
// or fragment; "/" when there is none.
func urlPath(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.IndexByte(u, '/'); j >= 0 {
			u = u[j:]
		} else {
			u = "/"
		}
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if u == "" {
		return "/"
	}
	return u
}

// matchPath reports whether p matches the glob pattern; a trailing "*" also
// matches any deeper path ("/help*" matches "/help/returns").
func matchPath(pattern, p string) bool {
	if strings.HasSuffix(pattern, "*") && strings.HasPrefix(p, strings.TrimSuffix(pattern, "*")) {
		return true
	}
	ok, _ := path.Match(pattern, p)
	return ok
}
