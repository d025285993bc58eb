package enrich

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// The crawler patterns are the npm package crawler-user-agents (MIT, see
// lists/crawler-user-agents.LICENSE), vendored as it ships; `make lists`
// refreshes the copy.
//
//go:embed lists/crawler-user-agents.json
var crawlersJSON []byte

// crawlerEntry is one record of crawler-user-agents.json.
type crawlerEntry struct {
	Pattern   string   `json:"pattern"`
	Instances []string `json:"instances"`
}

// A crawlerMatcher matches a user agent against every pattern of the list
// at once. Most patterns are, or contain, a literal of three bytes or more:
// the matcher indexes those literals (one per branch of an alternation)
// by their first three bytes, slides over the user agent once, and runs a
// pattern's regular expression only when one of its literals occurs. The few patterns without such a literal form one
// alternation, run on every user agent. Safe for concurrent use.
type crawlerMatcher struct {
	// filter has a bit set for each 3-byte key (hashed) that starts a
	// literal: most positions of a browser's user agent are rejected by
	// one load.
	filter [filterWords]uint64
	byKey  map[uint32][]int32 // 3-byte key → literals starting with it
	lits   []crawlerLiteral
	rest   *regexp.Regexp // patterns without a literal; nil if none
	n      int            // patterns
}

const filterWords = 1 << 12 // 256 Kbit

type crawlerLiteral struct {
	lit string
	re  *regexp.Regexp // nil: the pattern is the literal itself
}

func key3(s string, i int) uint32 { return uint32(s[i])<<16 | uint32(s[i+1])<<8 | uint32(s[i+2]) }

func filterBit(k uint32) (int, uint64) {
	h := k * 0x9E3779B1 >> 14 // 18 bits
	return int(h >> 6), 1 << (h & 63)
}

// crawlers is the matcher of the vendored list, built on first use.
var crawlers = sync.OnceValue(func() *crawlerMatcher {
	m, err := newCrawlerMatcher(crawlersJSON)
	if err != nil {
		panic("BUG: vendored crawler list: " + err.Error())
	}
	return m
})

func newCrawlerMatcher(data []byte) (*crawlerMatcher, error) {
	var list []crawlerEntry
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("crawler list: %w", err)
	}
	m := &crawlerMatcher{byKey: map[uint32][]int32{}, n: len(list)}
	var rest []string
	for _, c := range list {
		re, err := syntax.Parse(c.Pattern, syntax.Perl)
		if err != nil {
			return nil, fmt.Errorf("crawler pattern %q: %w", c.Pattern, err)
		}
		re = re.Simplify()
		lits := requiredLiterals(re)
		if lits == nil {
			rest = append(rest, "(?:"+c.Pattern+")")
			continue
		}
		var full *regexp.Regexp // nil: the pattern is its one literal
		if re.Op != syntax.OpLiteral || re.Flags&syntax.FoldCase != 0 {
			full = regexp.MustCompile(c.Pattern)
		}
		for _, lit := range lits {
			k := key3(lit, 0)
			w, bit := filterBit(k)
			m.filter[w] |= bit
			m.byKey[k] = append(m.byKey[k], int32(len(m.lits)))
			m.lits = append(m.lits, crawlerLiteral{lit: lit, re: full})
		}
	}
	if len(rest) > 0 {
		re, err := regexp.Compile(strings.Join(rest, "|"))
		if err != nil {
			return nil, fmt.Errorf("crawler patterns without a literal: %w", err)
		}
		m.rest = re
	}
	return m, nil
}

// requiredLiterals returns case-sensitive literals of three bytes or more
// of which every match of re contains at least one (the longest such for
// a sequence, one per branch for an alternation), or nil when there are
// none.
func requiredLiterals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || len(string(re.Rune)) < 3 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		// The sub-expression whose shortest literal is longest.
		var best []string
		bestLen := 0
		for _, s := range re.Sub {
			ls := requiredLiterals(s)
			if ls == nil {
				continue
			}
			short := len(ls[0])
			for _, l := range ls {
				short = min(short, len(l))
			}
			if short > bestLen {
				best, bestLen = ls, short
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, s := range re.Sub {
			ls := requiredLiterals(s)
			if ls == nil {
				return nil
			}
			all = append(all, ls...)
		}
		return all
	}
	return nil
}

// match reports whether ua matches a pattern of the list. It does not
// allocate.
func (m *crawlerMatcher) match(ua string) bool {
	for i := 0; i+3 <= len(ua); i++ {
		k := key3(ua, i)
		w, bit := filterBit(k)
		if m.filter[w]&bit == 0 {
			continue
		}
		for _, j := range m.byKey[k] {
			l := &m.lits[j]
			if !strings.HasPrefix(ua[i:], l.lit) {
				continue
			}
			if l.re == nil || l.re.MatchString(ua) {
				return true
			}
		}
	}
	return m.rest != nil && m.rest.MatchString(ua)
}
