package bench

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
)

// UserAgents are real browsers' user agents: desktop, mobile and tablet.
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

// Mix is the share (percent) of each touchpoint type the generator makes.
var Mix = []struct {
	Type    string
	Percent int
}{
	{"pageview", 60},
	{"search", 15},
	{"checkout_step", 15},
	{"chat_open", 5},
	{"feedback", 5},
}

// The shop the generator replays.
var (
	categories = []string{"shoes", "jackets", "bags", "socks", "hats", "sale"}
	helpPages  = []string{"shipping", "returns", "sizes", "payment", "contact"}
	queries    = []string{"blue shoes", "rain jacket", "return label", "size guide", "gift card", "leather bag",
		"wool socks", "delivery time", "discount code", "kids shoes", "waterproof", "black friday"}
	referrers = []string{"https://www.google.com/", "https://www.google.com/", "https://www.bing.com/",
		"https://duckduckgo.com/", "https://www.facebook.com/", "https://t.co/x1", "https://news.example/best-shops"}
	campaigns = []string{"?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
		"?utm_source=google&utm_medium=cpc&utm_campaign=brand", "?utm_source=instagram&utm_medium=social"}
	stepNames  = []string{"cart", "shipping", "payment", "confirm"}
	currencies = []string{"EUR", "EUR", "USD", "GBP"}
	widgets    = []string{"intercom", "zendesk"}
)

// Generator makes the request bodies of one load worker: touchpoints in the
// proportions of Mix from a pool of visitors, each visitor with its own
// user agent, client IP and per-visitor seq, each event with a random
// 32-hex id (as the snippet and the SDK make them). The output depends
// only on the seed and the clock. Not safe for concurrent use: one per
// worker.
type Generator struct {
	r        *rand.Rand
	visitors []visitor
	now      func() int64 // Unix ms
	first    int          // visitor of the last batch's first event
}

type visitor struct {
	id  [32]byte // hex
	ua  string
	ip  string
	seq uint32
}

// NewGenerator returns worker w's generator over its own n visitors,
// deterministic for (seed, w). now gives the events' time in Unix ms.
func NewGenerator(seed uint64, w, n int, now func() int64) *Generator {
	g := &Generator{r: rand.New(rand.NewPCG(seed, uint64(w))), now: now}
	g.visitors = make([]visitor, max(n, 1))
	for i := range g.visitors {
		v := &g.visitors[i]
		var id [16]byte
		g.fill(id[:])
		hex.Encode(v.id[:], id[:])
		v.ua = UserAgents[g.r.IntN(len(UserAgents))]
		v.ip = string(g.appendIP(nil))
	}
	return g
}

func (g *Generator) fill(b []byte) {
	for i := 0; i < len(b); i += 8 {
		x := g.r.Uint64()
		for j := i; j < len(b) && j < i+8; j++ {
			b[j] = byte(x)
			x >>= 8
		}
	}
}

// appendIP appends an address from a spread of public IPv4 networks.
func (g *Generator) appendIP(b []byte) []byte {
	b = strconv.AppendInt(b, int64(1+g.r.IntN(220)), 10)
	for range 3 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(g.r.IntN(256)), 10)
	}
	return b
}

// kind draws the type of the next event from Mix.
func (g *Generator) kind() string {
	x := g.r.IntN(100)
	for _, m := range Mix {
		if x < m.Percent {
			return m.Type
		}
		x -= m.Percent
	}
	return Mix[0].Type
}

func (g *Generator) pick(s []string) string { return s[g.r.IntN(len(s))] }

const shop = "https://shop.example"

// AppendEvent appends one event's JSON, of a visitor drawn from the pool;
// withIP adds the visitor's "ip" (as a backend batching many visitors'
// events sends it).
func (g *Generator) AppendEvent(b []byte, withIP bool) []byte {
	return g.appendEvent(b, g.r.IntN(len(g.visitors)), withIP)
}

func (g *Generator) appendEvent(b []byte, vi int, withIP bool) []byte {
	v := &g.visitors[vi]
	v.seq++
	kind := g.kind()
	var id [16]byte
	g.fill(id[:])
	ts := g.now()
	b = append(b, `{"id":"`...)
	b = hex.AppendEncode(b, id[:])
	b = append(b, `","type":"`...)
	b = append(b, kind...)
	b = append(b, `","visitor":"`...)
	b = append(b, v.id[:]...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, uint64(v.seq), 10)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"sent":`...)
	b = strconv.AppendInt(b, ts, 10)
	switch kind {
	case "pageview":
		b = g.appendPage(b)
	case "search":
		b = append(b, `,"url":"`+shop+`/search","query":"`...)
		b = append(b, g.pick(queries)...)
		b = append(b, `","results":`...)
		results := 0
		if g.r.IntN(5) > 0 { // one search in five finds nothing: a friction signal
			results = 1 + g.r.IntN(40)
		}
		b = strconv.AppendInt(b, int64(results), 10)
	case "checkout_step":
		step := g.r.IntN(len(stepNames))
		b = append(b, `,"url":"`+shop+`/checkout/`...)
		b = append(b, stepNames[step]...)
		b = append(b, `","step":`...)
		b = strconv.AppendInt(b, int64(step+1), 10)
		b = append(b, `,"name":"`...)
		b = append(b, stepNames[step]...)
		b = append(b, `","value":`...)
		b = strconv.AppendFloat(b, float64(990+g.r.IntN(40000))/100, 'f', 2, 64)
		b = append(b, `,"currency":"`...)
		b = append(b, g.pick(currencies)...)
		b = append(b, '"')
	case "chat_open":
		b = append(b, `,"url":"`+shop+`/help/`...)
		b = append(b, g.pick(helpPages)...)
		b = append(b, `","widget":"`...)
		b = append(b, g.pick(widgets)...)
		b = append(b, '"')
	case "feedback":
		b = append(b, `,"url":"`+shop+`/help/`...)
		b = append(b, g.pick(helpPages)...)
		b = append(b, `","score":`...)
		b = strconv.AppendInt(b, int64(1+g.r.IntN(5)), 10)
		b = append(b, `,"scale":5`...)
		if g.r.IntN(4) == 0 {
			b = append(b, `,"comment":"could not find the return form"`...)
		}
	}
	b = append(b, `,"ua":"`...)
	b = append(b, v.ua...)
	b = append(b, '"')
	if withIP {
		b = append(b, `,"ip":"`...)
		b = append(b, v.ip...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendPage appends a page view's url, title and referrer: product,
// category, home, help and blog pages; a search engine, social or
// campaign arrival now and then, else a page of the shop itself.
func (g *Generator) appendPage(b []byte) []byte {
	b = append(b, `,"url":"`+shop...)
	switch x := g.r.IntN(100); {
	case x < 45:
		n := g.r.IntN(500)
		b = append(b, "/products/"...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = g.campaign(b)
		b = append(b, `","title":"Product `...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ` – Shop Example`...)
	case x < 70:
		c := g.pick(categories)
		b = append(b, "/c/"...)
		b = append(b, c...)
		b = g.campaign(b)
		b = append(b, `","title":"`...)
		b = append(b, c...)
		b = append(b, ` – Shop Example`...)
	case x < 85:
		b = append(b, '/')
		b = g.campaign(b)
		b = append(b, `","title":"Shop Example`...)
	case x < 95:
		h := g.pick(helpPages)
		b = append(b, "/help/"...)
		b = append(b, h...)
		b = append(b, `","title":"Help: `...)
		b = append(b, h...)
	default:
		b = append(b, `/blog/how-to-choose-running-shoes","title":"How to choose running shoes`...)
	}
	b = append(b, `","referrer":"`...)
	if g.r.IntN(4) == 0 {
		b = append(b, g.pick(referrers)...)
	} else {
		b = append(b, shop+"/c/"...)
		b = append(b, g.pick(categories)...)
	}
	return append(b, '"')
}

// campaign appends UTM parameters to one landing in ten.
func (g *Generator) campaign(b []byte) []byte {
	if g.r.IntN(10) == 0 {
		b = append(b, g.pick(campaigns)...)
	}
	return b
}

// AppendBatch appends a request body of n events for site. A one-event
// body is what the snippet sends for one visitor (the client IP goes in
// the request's header: see IP); in a larger batch, of many visitors as
// a backend sends them, every event carries its visitor's "ip".
func (g *Generator) AppendBatch(b []byte, site string, n int) []byte {
	b = append(b, `{"site":"`...)
	b = append(b, site...)
	b = append(b, `","events":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		vi := g.r.IntN(len(g.visitors))
		if i == 0 {
			g.first = vi
		}
		b = g.appendEvent(b, vi, n > 1)
	}
	return append(b, ']', '}')
}

// IP is the client IP of the last batch's first visitor: the value of the
// trusted X-Touchtrail-Client-IP header.
func (g *Generator) IP() string { return g.visitors[g.first].ip }
