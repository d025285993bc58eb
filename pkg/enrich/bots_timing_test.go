package enrich

import (
	"strings"
	"testing"

	"github.com/mssola/useragent"
)

// BenchmarkBotCheck compares, per user agent and without caches, the
// maintained list's matcher with the user-agent parse it sits next to
// (useragent.New and what parseDevice asks of it) and with our own token
// check, over the browser and crawler tables.
func BenchmarkBotCheck(b *testing.B) {
	m := crawlers()
	uas := append(append([]string{}, realBrowsers...), realCrawlers...)
	run := func(name string, f func(ua string)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f(uas[i%len(uas)])
				i++
			}
		})
	}
	run("list-matcher", func(ua string) { m.match(ua) })
	run("ua-parse", func(ua string) {
		u := useragent.New(ua)
		u.Browser()
		u.OSInfo()
		u.Mobile()
		u.Bot()
	})
	run("whole-isBot", func(ua string) { isBot(useragent.New(ua), ua, strings.ToLower(ua)) })
	run("browsers-only-list-matcher", func(ua string) { m.match(realBrowsers[len(ua)%len(realBrowsers)]) })
}

// BenchmarkSpamCheck is the referrer-spam check of one referrer: a host
// and its parents looked up in the set.
func BenchmarkSpamCheck(b *testing.B) {
	s := builtinSpam()
	b.ReportAllocs()
	for b.Loop() {
		s.has(referrerHost("https://www.news.example.co.uk/some/article?x=1"))
	}
}
