package journey

import (
	"errors"
	"fmt"
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
	// StageRules map URL paths to stages, first match wins; a path under a
	// locale prefix ("/ar/faq") also matches the rules without it. nil means
	// the defaults (DefaultStageRules): /help*, /faq*, /support* → ask;
	// /checkout*, /cart*, /pricing* → buy; /account*, /app*, /dashboard* →
	// use. StageRulesFor puts a site's own rules before them.
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
	// attribution (and the purchase of ticket_after_purchase). Default
	// (nil): checkout_step CheckoutLastStep.
	Conversion *Step
	// SelfServiceWindow is how long after a search or a help page a chat
	// or a ticket counts against self-service. Default: 24 hours.
	SelfServiceWindow time.Duration
	// RepeatTicketWindow: two tickets opened within it are repeat_ticket.
	// Default: 7 days.
	RepeatTicketWindow time.Duration
	// QuickExit and QuickExitScroll define a quick exit: a page view whose
	// engagement report says fewer than QuickExit engaged and less than
	// QuickExitScroll percent scrolled. On a help page and followed by a
	// search, chat or ticket it is the friction signal quick_exit_help.
	// Defaults: 10 seconds, 25 %.
	QuickExit       time.Duration
	QuickExitScroll int
}

// StageRule maps URL paths matching Pattern to Stage. Pattern is a
// path.Match glob on the URL path as sent (browsers percent-encode non-ASCII
// letters; StageRulesFor adds that form of a site's own patterns); a
// trailing "*" also matches deeper paths ("/help*"
// matches "/help", "/helpdesk" and "/help/returns"). A path whose first
// segment is a locale ("/ar/", "/ro-RO/", "/en/", "/zh-Hant-TW/") that no
// rule matches is tried again without that segment: "/help*" also matches
// "/en/help/returns".
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

// DefaultStageRules returns the default stage rules, in a slice the caller
// may modify.
func DefaultStageRules() []StageRule {
	return append([]StageRule(nil), defaultStageRules...)
}

// StageRulesFor returns the rules for a site's own rules: they come first,
// then the defaults, so that a site's rule wins where both match; with
// replace, its own rules alone (none at all when own is empty). A pattern
// written with non-ASCII letters ("/ro/întrebări*") is followed by its
// percent-encoded twin ("/ro/%C3%AEntreb%C4%83ri*"), which is how browsers
// send such a path.
func StageRulesFor(own []StageRule, replace bool) []StageRule {
	rules := make([]StageRule, 0, 2*len(own)+len(defaultStageRules))
	for _, r := range own {
		rules = append(rules, r)
		if esc := escapeNonASCII(r.Pattern); esc != r.Pattern {
			rules = append(rules, StageRule{Pattern: esc, Stage: r.Stage})
		}
	}
	if replace {
		return rules
	}
	return append(rules, defaultStageRules...)
}

// escapeNonASCII percent-encodes the bytes of s above 0x7f, in upper case
// as browsers do.
func escapeNonASCII(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 {
			if b == nil {
				b = append(make([]byte, 0, len(s)+16), s[:i]...)
			}
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else if b != nil {
			b = append(b, c)
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

// ErrBadStageRule is wrapped by the errors of Validate about a stage rule.
var ErrBadStageRule = errors.New("bad stage rule")

// Validate reports the first stage rule that can never work: a pattern that
// does not start with "/", that is not a valid glob (an unclosed "[", a
// trailing "\"), or an unknown stage. Call it at start-up: matching treats
// a malformed pattern as matching nothing.
func (c Config) Validate() error {
	for i, r := range c.StageRules {
		var why string
		switch _, err := path.Match(r.Pattern, "/"); {
		case !strings.HasPrefix(r.Pattern, "/"):
			why = `a pattern is a URL path and starts with "/"`
		case err != nil:
			why = `malformed glob: an unclosed "[" or a trailing "\"`
		case r.Stage >= stageCount:
			why = "unknown stage: want discover, explore, buy, use, ask or engage"
		default:
			continue
		}
		return fmt.Errorf("%w %d {pattern %q, stage %s}: %s (for example {\"pattern\": \"/docs*\", \"stage\": \"use\"})",
			ErrBadStageRule, i+1, r.Pattern, r.Stage, why)
	}
	return nil
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

		SelfServiceWindow:  24 * time.Hour,
		RepeatTicketWindow: 7 * 24 * time.Hour,
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
	if c.SelfServiceWindow <= 0 {
		c.SelfServiceWindow = 24 * time.Hour
	}
	if c.RepeatTicketWindow <= 0 {
		c.RepeatTicketWindow = 7 * 24 * time.Hour
	}
	if c.QuickExit <= 0 {
		c.QuickExit = 10 * time.Second
	}
	if c.QuickExitScroll <= 0 {
		c.QuickExitScroll = 25
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

// urlStage returns the stage of the first rule matching the URL path p, else
// of the first rule matching p without its locale prefix.
func (c *Config) urlStage(p string) (Stage, bool) {
	if s, ok := c.ruleStage(p); ok {
		return s, true
	}
	if rest, ok := cutLocale(p); ok {
		return c.ruleStage(rest)
	}
	return 0, false
}

// ruleStage returns the stage of the first rule matching the URL path p.
func (c *Config) ruleStage(p string) (Stage, bool) {
	for i := range c.StageRules {
		if matchPath(c.StageRules[i].Pattern, p) {
			return c.StageRules[i].Stage, true
		}
	}
	return 0, false
}

// cutLocale returns the URL path p without its first segment when that
// segment has the shape of a language tag: a language of 2 or 3 letters,
// then subtags of 2 to 8 letters or digits joined by "-" or "_" ("ar",
// "ro-RO", "pt_BR", "es-419", "zh-Hant-TW"). "/ar" alone leaves "/". It
// returns a substring of p.
func cutLocale(p string) (string, bool) {
	if len(p) < 3 || p[0] != '/' {
		return "", false
	}
	end := strings.IndexByte(p[1:], '/') + 1
	if end == 0 {
		end = len(p)
	}
	seg := p[1:end]
	n := 0 // letters of the language
	for n < len(seg) && isLetter(seg[n]) {
		n++
	}
	if n < 2 || n > 3 {
		return "", false
	}
	for i := n; i < len(seg); {
		if seg[i] != '-' && seg[i] != '_' {
			return "", false
		}
		j := i + 1
		for j < len(seg) && (isLetter(seg[j]) || seg[j] >= '0' && seg[j] <= '9') {
			j++
		}
		if j-i-1 < 2 || j-i-1 > 8 {
			return "", false
		}
		i = j
	}
	if end == len(p) {
		return "/", true
	}
	return p[end:], true
}

func isLetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

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
