package ui

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey"
)

// sampleMap is a small map with feedback in two stages and hostile labels.
func sampleMap() journey.MapResult {
	avg1, avg2 := 0.4, 0.9
	r := journey.MapResult{Visitors: 10, Stages: make([]journey.MapStage, journey.StageCount)}
	for i := range r.Stages {
		r.Stages[i] = journey.MapStage{Stage: journey.Stage(i), Visitors: 10 - i, Continued: 8 - i, Left: 2,
			Top: []journey.LabelCount{{Touchpoint: `pageview /<script>&"`, Visitors: 3}}}
	}
	r.Stages[journey.StageExplore].Feedback = journey.StageFeedback{Responses: 4, Average: &avg1}
	r.Stages[journey.StageEngage].Feedback = journey.StageFeedback{Responses: 2, Average: &avg2}
	r.Flows = []journey.StageFlow{{From: journey.StageDiscover, To: journey.StageExplore, Visitors: 7},
		{From: journey.StageBuy, To: journey.StageExplore, Visitors: 3}}
	return r
}

// rects returns the x of each <rect> with a <title> (the marks) and checks
// that the SVG is well-formed XML with a title and a description.
func marks(t *testing.T, svg string) []float64 {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var xs []float64
	var stack []string
	titled := map[string]bool{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if len(stack) == 1 && (e.Name.Local == "title" || e.Name.Local == "desc") {
				titled[e.Name.Local] = true
			}
			if e.Name.Local == "rect" || e.Name.Local == "circle" {
				for _, a := range e.Attr {
					if a.Name.Local == "x" || a.Name.Local == "cx" {
						x, _ := strconv.ParseFloat(a.Value, 64)
						xs = append(xs, x)
					}
				}
			}
			stack = append(stack, e.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if !titled["title"] || !titled["desc"] {
		t.Errorf("chart without its title or description: %.200s", svg)
	}
	return xs
}

// Every chart is well-formed, named and described, escapes its labels,
// and mirrors right to left: each mark's x runs from the other side.
func TestChartsMirror(t *testing.T) {
	m := sampleMap()
	paths := journey.PathsResult{Visitors: 10, Depth: 2, Transitions: []journey.Transition{
		{Depth: 0, From: "pageview /pricing", To: `pageview /<b>`, Visitors: 6}, {Depth: 1, From: `pageview /<b>`, To: "checkout_step 1", Visitors: 4}}}
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	sessions := []tlSession{
		{N: 1, Session: journey.Session{Start: t0, End: t0.Add(10 * time.Minute)}, Touches: []tlTouch{{Signals: []string{journey.SignalLowFeedback}}}},
		{N: 2, Session: journey.Session{Start: t0.Add(5 * time.Hour), End: t0.Add(5 * time.Hour)}},
	}
	rows := []hbar{{label: "a <b>", value: 1, text: "10"}, {label: "b", value: 0.25, text: "2"}}
	charts := map[string]struct {
		draw func(l *locale) string
		w    float64
	}{
		"stages":   {func(l *locale) string { return string(stageBarsChart(&m, l)) }, 600},
		"curve":    {func(l *locale) string { return string(curveChart(&m, l)) }, 600},
		"flows":    {func(l *locale) string { return string(flowChart(&m, l)) }, 600},
		"bars":     {func(l *locale) string { return string(barsChart("b", "t", "d", rows, l)) }, 440},
		"sankey":   {func(l *locale) string { return string(sankeyChart(&paths, "pageview:/pricing", l)) }, 820},
		"sessions": {func(l *locale) string { return string(sessionsChart(sessions, l)) }, 760},
	}
	for name, c := range charts {
		ltr, rtl := c.draw(locales[langEn]), c.draw(locales[langAr])
		if strings.Contains(ltr, "<b>") || strings.Contains(ltr, "<script>") {
			t.Errorf("%s: a label is not escaped", name)
		}
		if !strings.Contains(rtl, `direction="rtl"`) {
			t.Errorf("%s: the Arabic chart is not right to left", name)
		}
		a, b := marks(t, ltr), marks(t, rtl)
		if len(a) == 0 || len(a) != len(b) {
			t.Fatalf("%s: %d marks left to right, %d right to left", name, len(a), len(b))
		}
		mirrored := 0
		for i := range a {
			if a[i] != b[i] {
				mirrored++
			}
		}
		if mirrored == 0 {
			t.Errorf("%s: no mark moved right to left", name)
		}
	}
	// The curve's points: explore low (a friction colour), engage high,
	// engage further along the reading direction.
	curve := string(curveChart(&m, locales[langEn]))
	if strings.Count(curve, "<circle") != 2 || !strings.Contains(curve, colLeft) || !strings.Contains(curve, "<polyline") {
		t.Errorf("curve: want two points joined, the low one in %s: %s", colLeft, curve)
	}
	xs := marks(t, curve)
	xr := marks(t, string(curveChart(&m, locales[langAr])))
	if !(xs[len(xs)-1] > xs[len(xs)-2]) || !(xr[len(xr)-1] < xr[len(xr)-2]) {
		t.Errorf("curve points: %v left to right, %v right to left", xs, xr)
	}
}
