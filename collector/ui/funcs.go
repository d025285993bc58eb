package ui

import (
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"avg":       func(p *float64) float64 { return *p },
	"pct":       func(p *float64) float64 { return 100 * *p },
	"steplabel": stepLabel,
	"short":     short,
	"join":      strings.Join,
	"inc":       func(n int) int { return n + 1 },
	"ratio":     ratio,
	"int":       func(n uint32) int { return int(n) },
	"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"minutes":   func(sec float64) float64 { return sec / 60 },
	"clock": func(t time.Time, l *locale) string {
		t = t.UTC()
		return l.digits(t.Hour(), 2) + ":" + l.digits(t.Minute(), 2)
	},
	"detail": detail,
	// index2 lists two lists, for a range that lays both out alike.
	"index2": func(a, b []journey.SelfServiceItem) [][]journey.SelfServiceItem {
		return [][]journey.SelfServiceItem{a, b}
	},
}

// detail describes a touchpoint beyond its type, in the locale.
func detail(tp *event.Touchpoint, l *locale) string {
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	switch tp.Type {
	case event.TypePageview:
		add(urlPath(tp.URL))
	case event.TypeSearch:
		if tp.Query != "" {
			add("“" + tp.Query + "”")
		}
		if tp.Results >= 0 {
			add(l.T("tl.results", int(tp.Results)))
		}
	case event.TypeChatOpen:
		add(tp.Widget)
	case event.TypeCheckoutStep:
		add(l.N(int(tp.Step)))
		add(tp.Name)
		if tp.Value > 0 {
			add(l.p.Sprintf("%.2f", tp.Value) + " " + tp.Currency)
		}
	case event.TypeIdentify:
		add(tp.User)
	case event.TypeFeedback:
		if tp.Scale > 0 {
			add(l.T("tl.score", int(tp.Score), int(tp.Scale)))
		}
		add(tp.Comment)
	case event.TypeCustom:
		add(tp.Name)
	case event.TypeTicket:
		add(tp.Ticket)
		add(tp.Status.String())
		add(tp.TicketChannel.String())
		add(tp.Subject)
		if tp.Scale > 0 {
			add(l.T("tl.score", int(tp.Score), int(tp.Scale)))
		}
	case event.TypeEngagement:
		if ms, scroll, ok := tp.Engagement(); ok {
			add(l.p.Sprintf("%.1f s", float64(ms)/1000))
			add(l.N(scroll) + " %")
		}
	}
	return strings.Join(parts, " · ")
}

// urlPath is the path of a URL, or the URL as it is when it has none.
func urlPath(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Path == "" {
		if err == nil && u.Host != "" {
			return "/"
		}
		return s
	}
	return u.Path
}

// Q is the filter's query string ("?from=…"), for the navigation.
func (p *page) Q() string {
	if p.Filter == nil {
		return ""
	}
	return "?" + p.Filter.Query
}

// Segments and Channels are the filter's choices.
func (p *page) Segments() [][2]string { return Segments }
func (p *page) Channels() [][2]string { return Channels }

// Last is the filter's last day (To is exclusive).
func (f *filter) Last() time.Time { return f.To.AddDate(0, 0, -1) }
