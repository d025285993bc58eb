package bench

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
)

// UserAgents are real browsers' user agents, desktop, mobile and tablet.
var UserAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0",
	"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
}

// Generator makes the request bodies of one load worker: a realistic mix
// of touchpoints (page views 60 %, searches 15 %, checkout steps 15 %, chat
// opens 5 %, feedback 5 %) of a pool of visitors, each event with a unique
// id. Not safe for concurrent use: one per worker.
type Generator struct {
	r        *rand.Rand
	worker   string
	n        int
	visitors [][32]byte
	now      func() int64
}

// NewGenerator returns worker w's generator, deterministic for a seed.
func NewGenerator(seed uint64, w int, visitors int, now func() int64) *Generator {
	g := &Generator{r: rand.New(rand.NewPCG(seed, uint64(w))), worker: "w" + strconv.Itoa(w) + "-", now: now}
	g.visitors = make([][32]byte, visitors)
	for i := range g.visitors {
		var id [16]byte
		for j := range id {
			id[j] = byte(g.r.Uint32())
		}
		hex.Encode(g.visitors[i][:], id[:])
	}
	return g
}

// Kind is the type of the next event, for counting the mix.
func (g *Generator) kind() string {
	switch x := g.r.IntN(100); {
	case x < 60:
		return "pageview"
	case x < 75:
		return "search"
	case x < 90:
		return "checkout_step"
	case x < 95:
		return "chat_open"
	}
	return "feedback"
}

// AppendEvent appends one event's JSON.
func (g *Generator) AppendEvent(b []byte) []byte {
	g.n++
	kind := g.kind()
	v := g.visitors[g.r.IntN(len(g.visitors))]
	b = append(b, `{"id":"`...)
	b = append(b, g.worker...)
	b = strconv.AppendInt(b, int64(g.n), 10)
	b = append(b, `","type":"`...)
	b = append(b, kind...)
	b = append(b, `","visitor":"`...)
	b = append(b, v[:]...)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, int64(g.n), 10)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, g.now(), 10)
	b = append(b, `,"url":"https://shop.example/products/`...)
	b = strconv.AppendInt(b, int64(g.r.IntN(500)), 10)
	b = append(b, `?utm_source=news","referrer":"https://www.google.com/"`...)
	switch kind {
	case "search":
		b = append(b, `,"query":"blue shoes","results":`...)
		b = strconv.AppendInt(b, int64(g.r.IntN(20)), 10)
	case "checkout_step":
		b = append(b, `,"step":`...)
		b = strconv.AppendInt(b, int64(1+g.r.IntN(3)), 10)
		b = append(b, `,"value":49.5,"currency":"EUR"`...)
	case "chat_open":
		b = append(b, `,"widget":"intercom"`...)
	case "feedback":
		b = append(b, `,"score":`...)
		b = strconv.AppendInt(b, int64(1+g.r.IntN(5)), 10)
		b = append(b, `,"scale":5`...)
	}
	return append(b, '}')
}

// AppendBatch appends a request body of n events for site.
func (g *Generator) AppendBatch(b []byte, site string, n int) []byte {
	b = append(b, `{"site":"`...)
	b = append(b, site...)
	b = append(b, `","events":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.AppendEvent(b)
	}
	return append(b, ']', '}')
}

// ClientIP returns a client address from a spread of public networks.
func (g *Generator) ClientIP(b []byte) []byte {
	b = strconv.AppendInt(b, int64(1+g.r.IntN(220)), 10)
	for range 3 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(g.r.IntN(256)), 10)
	}
	return b
}

// UserAgent returns one of UserAgents.
func (g *Generator) UserAgent() string { return UserAgents[g.r.IntN(len(UserAgents))] }
