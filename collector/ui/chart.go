package ui

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"slices"
	"strconv"
	"strings"

	"github.com/touchtrail/touchtrail/pkg/journey"
)

// Charts are SVG drawn here, on the server: no script. Each has a <title>
// and a <desc> naming it for screen readers (role="img"), a <title> on
// every mark (a tooltip), and a data table beside it on the page. Right to
// left pages get mirrored charts: x runs from the right, and the text
// anchors follow the SVG's direction.

// Colours, chosen for contrast on white (≥ 4.5:1 for text).
const (
	colInk    = "#1d2733"
	colMuted  = "#4f5d6b"
	colGo     = "#0b6e69" // went on, conversion
	colLeft   = "#c2571a" // ended here, drop-off
	colFlow   = "#2f5f98"
	colBack   = "#8a4fa3"
	colGrid   = "#d5dce3"
	colBand   = "#6f93bd"
	fontStack = "system-ui, sans-serif"
)

// canvas writes one SVG of width w (user units), mirroring x for RTL.
type canvas struct {
	b   strings.Builder
	w   float64
	rtl bool
	n   int // marks written
}

func newCanvas(id string, w, h float64, rtl bool, title, desc string) *canvas {
	c := &canvas{w: w, rtl: rtl}
	dir := "ltr"
	if rtl {
		dir = "rtl"
	}
	fmt.Fprintf(&c.b, `<svg class="chart" id="%s" width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-labelledby="%s-t %s-d" direction="%s" font-family="%s" font-size="12">`,
		id, w, h, w, h, id, id, dir, fontStack)
	fmt.Fprintf(&c.b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(title), id, esc(desc))
	return c
}

func esc(s string) string { return html.EscapeString(s) }

// x maps an LTR x coordinate; for a box of width bw pass it to get its
// mirrored left edge.
func (c *canvas) x(x, bw float64) float64 {
	if c.rtl {
		return c.w - x - bw
	}
	return x
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func (c *canvas) rect(x, y, w, h float64, fill, tip string) {
	if w <= 0 || h <= 0 {
		return
	}
	c.n++
	fmt.Fprintf(&c.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s">`, f1(c.x(x, w)), f1(y), f1(w), f1(h), fill)
	if tip != "" {
		fmt.Fprintf(&c.b, `<title>%s</title>`, esc(tip))
	}
	c.b.WriteString(`</rect>`)
}

// text writes s at x (LTR coordinates); anchor is start, middle or end in
// the text's direction, so it need not change when mirrored.
func (c *canvas) text(x, y float64, anchor, fill, s string, extra string) {
	fmt.Fprintf(&c.b, `<text x="%s" y="%s" text-anchor="%s" fill="%s"%s>%s</text>`, f1(c.x(x, 0)), f1(y), anchor, fill, extra, esc(s))
}

func (c *canvas) line(x1, y1, x2, y2 float64, stroke string, dash bool) {
	d := ""
	if dash {
		d = ` stroke-dasharray="4 4"`
	}
	fmt.Fprintf(&c.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"%s/>`, f1(c.x(x1, 0)), f1(y1), f1(c.x(x2, 0)), f1(y2), stroke, d)
}

func (c *canvas) html() template.HTML {
	c.b.WriteString(`</svg>`)
	return template.HTML(c.b.String()) //nolint:gosec // every text is escaped by esc
}

// slot is the centre of stage column i of 6 over width w.
func slot(i int, w float64) float64 { return w / float64(journey.StageCount) * (float64(i) + 0.5) }

// stageBarsChart draws, per stage, its visitors split into those who went
// on and those who ended there.
func stageBarsChart(r *journey.MapResult, l *locale) template.HTML {
	const w, h, top, base = 600.0, 200.0, 40.0, 170.0
	c := newCanvas("chart-stages", w, h, l.RTL(), l.T("map.bars"), l.T("map.wenton")+" / "+l.T("map.ended"))
	peak := 1
	for _, st := range r.Stages {
		peak = max(peak, st.Visitors)
	}
	c.line(0, base, w, base, colGrid, false)
	for i, st := range r.Stages {
		cx := slot(i, w)
		hGo := (base - top) * float64(st.Continued) / float64(peak)
		hLeft := (base - top) * float64(st.Left) / float64(peak)
		name := l.Stage(st.Stage)
		c.rect(cx-24, base-hGo, 48, hGo, colGo, fmt.Sprintf("%s: %s %s", name, l.T("map.wenton"), l.N(st.Continued)))
		c.rect(cx-24, base-hGo-hLeft, 48, hLeft, colLeft, fmt.Sprintf("%s: %s %s", name, l.T("map.ended"), l.N(st.Left)))
		c.text(cx, base-hGo-hLeft-6, "middle", colInk, l.N(st.Visitors), ` font-weight="600"`)
		c.text(cx, base+18, "middle", colMuted, name, "")
	}
	// legend
	c.rect(4, 4, 10, 10, colGo, "")
	c.text(18, 13, "start", colInk, l.T("map.wenton"), "")
	c.rect(124, 4, 10, 10, colLeft, "")
	c.text(138, 13, "start", colInk, l.T("map.ended"), "")
	return c.html()
}

// curveChart draws the feedback curve: the average rating of each stage
// as a share of its scale, points joined across the stages that have one.
func curveChart(r *journey.MapResult, l *locale) template.HTML {
	const w, h, top, base = 600.0, 150.0, 14.0, 124.0
	c := newCanvas("chart-curve", w, h, l.RTL(), l.T("map.curve"), l.T("map.curvedesc"))
	for _, v := range []int{0, 50, 100} {
		y := base - (base-top)*float64(v)/100
		c.line(48, y, w, y, colGrid, v == 50)
		c.text(44, y+4, "end", colMuted, l.p.Sprintf("%d%%", v), "")
	}
	var pts []string
	for i, st := range r.Stages {
		c.text(slot(i, w), base+20, "middle", colMuted, l.Stage(st.Stage), "")
		if st.Feedback.Average == nil {
			continue
		}
		x, y := c.x(slot(i, w), 0), base-(base-top)**st.Feedback.Average
		pts = append(pts, f1(x)+","+f1(y))
	}
	if len(pts) > 1 {
		fmt.Fprintf(&c.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="3"/>`, strings.Join(pts, " "), colFlow)
	}
	for i, st := range r.Stages {
		if st.Feedback.Average == nil {
			continue
		}
		a := *st.Feedback.Average
		x, y := c.x(slot(i, w), 0), base-(base-top)*a
		tip := fmt.Sprintf("%s: %s", l.Stage(st.Stage), l.T("map.score", 100*a, st.Feedback.Responses))
		fill := colGo
		if a < 0.6 {
			fill = colLeft
		}
		c.n++
		fmt.Fprintf(&c.b, `<circle cx="%s" cy="%s" r="7" fill="%s"><title>%s</title></circle>`, f1(x), f1(y), fill, esc(tip))
		c.text(slot(i, w), y-12, "middle", colInk, l.Pct(a), ` font-weight="600"`)
	}
	return c.html()
}

// flowChart draws the flows between stages as arcs: forward above the
// stage line, back below; width by visitors. At most 14 flows.
func flowChart(r *journey.MapResult, l *locale) template.HTML {
	const w, h, mid = 600.0, 230.0, 115.0
	c := newCanvas("chart-flows", w, h, l.RTL(), l.T("map.flows"), l.T("map.flowsdesc"))
	peak := 1
	for _, f := range r.Flows {
		peak = max(peak, f.Visitors)
	}
	for i, f := range r.Flows {
		if i == 14 {
			break
		}
		x1, x2 := c.x(slot(int(f.From), w), 0), c.x(slot(int(f.To), w), 0)
		forward := f.To > f.From
		rad := (x2 - x1) / 2
		if rad < 0 {
			rad = -rad
		}
		sweep := 0
		if (x2 > x1) == forward {
			sweep = 1
		}
		col := colFlow
		if !forward {
			col = colBack
		}
		sw := 1.5 + 8*float64(f.Visitors)/float64(peak)
		tip := fmt.Sprintf("%s%s%s: %s", l.Stage(f.From), l.Arrow(), l.Stage(f.To), l.T("map.visitors", f.Visitors))
		c.n++
		fmt.Fprintf(&c.b, `<path d="M%s %s A%s %s 0 0 %d %s %s" fill="none" stroke="%s" stroke-opacity="0.5" stroke-width="%s"><title>%s</title></path>`,
			f1(x1), f1(mid), f1(rad), f1(min(rad, mid-14)), sweep, f1(x2), f1(mid), col, f1(sw), esc(tip))
	}
	for i := range journey.StageCount {
		cx := slot(i, w)
		fmt.Fprintf(&c.b, `<circle cx="%s" cy="%s" r="5" fill="%s"/>`, f1(c.x(cx, 0)), f1(mid), colInk)
	}
	for i := range journey.StageCount {
		c.text(slot(i, w), h-4, "middle", colMuted, l.Stage(journey.Stage(i)), "")
	}
	return c.html()
}

// hbar is one row of a horizontal bar chart.
type hbar struct {
	label string
	value float64 // 0..1 of the bar's full width
	drop  float64 // 0..1: a drop-off drawn after the value, in colLeft
	dropT string  // the drop-off's tooltip
	text  string  // the figure written after the bar
	tip   string
	color string
}

// barsChart draws horizontal bars, each with its label above it and its
// figure after it. It is narrow, so that phones scale it little.
func barsChart(id, title, desc string, rows []hbar, l *locale) template.HTML {
	const w, rowH, textW = 440.0, 44.0, 110.0
	h := rowH*float64(len(rows)) + 4
	c := newCanvas(id, w, h, l.RTL(), title, desc)
	barW := w - textW
	for i, r := range rows {
		y := 2 + rowH*float64(i)
		c.text(0, y+14, "start", colInk, clip(r.label, 44), ` font-size="14"`)
		c.rect(0, y+20, barW, 17, "#eef2f5", "")
		c.rect(0, y+20, barW*r.value, 17, cmp.Or(r.color, colGo), r.tip)
		c.rect(barW*r.value, y+20, barW*r.drop, 17, colLeft, r.dropT)
		c.text(barW*(r.value+r.drop)+6, y+34, "start", colInk, r.text, ` font-size="14" font-weight="600"`)
	}
	return c.html()
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// sankeyChart draws the next steps from the paths' start: one column per
// depth, the 5 most followed touchpoints of each (the rest as "other"),
// and bands for the transitions between them.
func sankeyChart(p *journey.PathsResult, start string, l *locale) template.HTML {
	const w, h, nodeW, padTop, avail = 820.0, 320.0, 12.0, 10.0, 250.0
	c := newCanvas("chart-sankey", w, h, l.RTL(), l.T("paths.chart", start), l.T("paths.desc"))
	if p.Visitors == 0 {
		return c.html()
	}
	depth := 0
	for _, t := range p.Transitions {
		depth = max(depth, t.Depth+1)
	}
	other := l.T("paths.other")
	type node struct {
		label  string
		n      int
		y      float64
		in     float64 // next free y of incoming bands
		outOff float64
	}
	cols := make([][]*node, depth+1)
	find := func(col int, label string) *node {
		if col == 0 {
			return cols[0][0] // the start: one node, whatever label matched it
		}
		for _, nd := range cols[col] {
			if nd.label == label {
				return nd
			}
		}
		for _, nd := range cols[col] {
			if nd.label == other {
				return nd
			}
		}
		return nil
	}
	cols[0] = []*node{{label: start, n: p.Visitors}}
	for d := 1; d <= depth; d++ {
		sums := map[string]int{}
		for _, t := range p.Transitions {
			if t.Depth == d-1 {
				sums[t.To] += t.Visitors
			}
		}
		labels := make([]string, 0, len(sums))
		for k := range sums {
			labels = append(labels, k)
		}
		slices.SortFunc(labels, func(a, b string) int { return cmp.Or(cmp.Compare(sums[b], sums[a]), cmp.Compare(a, b)) })
		rest := 0
		for i, k := range labels {
			if i < 5 {
				cols[d] = append(cols[d], &node{label: k, n: sums[k]})
			} else {
				rest += sums[k]
			}
		}
		if rest > 0 {
			cols[d] = append(cols[d], &node{label: other, n: rest})
		}
	}
	scale := avail / float64(p.Visitors)
	const labelRoom = 160 // right of the last column, for its labels
	colX := func(d int) float64 { return 8 + float64(d)*(w-16-nodeW-labelRoom)/float64(max(depth, 1)) }
	for _, col := range cols {
		y := padTop
		for _, nd := range col {
			nd.y, nd.in, nd.outOff = y, y, y
			y += float64(nd.n)*scale + 8
		}
	}
	// Bands in the transitions' order: by depth, most visitors first.
	type band struct {
		from, to *node
		d, n     int
	}
	var bands []*band
	byEnds := map[[2]*node]*band{}
	for _, t := range p.Transitions {
		from, to := find(t.Depth, t.From), find(t.Depth+1, t.To)
		if from == nil || to == nil {
			continue
		}
		if b, ok := byEnds[[2]*node{from, to}]; ok {
			b.n += t.Visitors
			continue
		}
		b := &band{from: from, to: to, d: t.Depth, n: t.Visitors}
		byEnds[[2]*node{from, to}] = b
		bands = append(bands, b)
	}
	for _, b := range bands {
		bh := float64(b.n) * scale
		x0, x1 := colX(b.d)+nodeW, colX(b.d+1)
		y0, y1 := b.from.outOff, b.to.in
		b.from.outOff += bh
		b.to.in += bh
		xm := (x0 + x1) / 2
		X := func(x float64) string { return f1(c.x(x, 0)) }
		tip := fmt.Sprintf("%s%s%s: %s", l.Label(b.from.label), l.Arrow(), l.Label(b.to.label), l.T("map.visitors", b.n))
		c.n++
		fmt.Fprintf(&c.b, `<path d="M%s %s C%s %s %s %s %s %s L%s %s C%s %s %s %s %s %s Z" fill="%s" fill-opacity="0.45"><title>%s</title></path>`,
			X(x0), f1(y0), X(xm), f1(y0), X(xm), f1(y1), X(x1), f1(y1),
			X(x1), f1(y1+bh), X(xm), f1(y1+bh), X(xm), f1(y0+bh), X(x0), f1(y0+bh), colBand, esc(tip))
	}
	for d, col := range cols {
		for _, nd := range col {
			nh := max(float64(nd.n)*scale, 1)
			name := l.Label(nd.label)
			c.rect(colX(d), nd.y, nodeW, nh, colInk, fmt.Sprintf("%s: %s", name, l.T("map.visitors", nd.n)))
			c.text(colX(d)+nodeW+4, nd.y+min(nh/2, 12)+4, "start", colInk, clip(name, 24)+" · "+l.N(nd.n), ` font-size="11"`)
		}
	}
	return c.html()
}

// sessionsChart draws a page of sessions as bands in time order, one slot
// each (a linear time axis would crush a week's sessions next to a month's
// gap), orange when a touchpoint in it marks friction; under few bands,
// their days.
func sessionsChart(sessions []tlSession, l *locale) template.HTML {
	const w, h, x0, x1, y, bh = 760.0, 60.0, 4.0, 756.0, 6.0, 26.0
	c := newCanvas("chart-sessions", w, h, l.RTL(), l.T("tl.chart"), l.T("tl.chartdesc"))
	n := len(sessions)
	if n == 0 {
		return c.html()
	}
	slotW := (x1 - x0) / float64(n)
	for i, s := range sessions {
		col := colFlow
		var sig []string
		for _, tc := range s.Touches {
			for _, sg := range tc.Signals {
				col = colLeft
				sig = append(sig, l.Signal(sg))
			}
		}
		tip := l.T("tl.session", s.N) + " · " + l.Time(s.Start) + " · " + l.T("tl.count", len(s.Touches))
		if len(sig) > 0 {
			tip += " · " + strings.Join(sig, ", ")
		}
		x := x0 + slotW*float64(i)
		c.rect(x+slotW*0.08, y, max(slotW*0.84, 1), bh, col, tip)
		if n <= 8 {
			c.text(x+slotW/2, h-10, "middle", colMuted, l.Date(s.Start), "")
		}
	}
	if n > 8 {
		c.text(x0, h-10, "start", colMuted, l.Date(sessions[0].Start), "")
		c.text(x1, h-10, "end", colMuted, l.Date(sessions[n-1].Start), "")
	}
	return c.html()
}
