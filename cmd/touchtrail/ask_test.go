package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
)

// selfservice and satisfaction print the API's numbers: the planted ones.
func TestAskCommands(t *testing.T) {
	opts := journeytest.Options{Site: collectortest.Site}
	visitors, truth := journeytest.Generate(7, 300, opts)
	col := collectortest.Start(t, collectortest.Options{Now: func() time.Time { return opts.End() }})
	if err := journeytest.Load(context.Background(), col.Store, collectortest.Site, visitors); err != nil {
		t.Fatal(err)
	}
	flags := []string{"-url", col.URL, "-token", collectortest.ReadToken, "-site", collectortest.Site, "-from", "2026-11-01", "-to", "2026-11-08"}
	runOK := func(args ...string) string {
		t.Helper()
		var o, e bytes.Buffer
		if code := run(args, &o, &e); code != exitOK {
			t.Fatalf("%q: exit %d: %s", args, code, e.String())
		}
		return o.String()
	}
	ss := truth.SelfService
	out := runOK(append([]string{"selfservice", "-top", "3"}, flags...)...)
	for _, want := range []string{
		fmt.Sprintf("%d visitors active from 2026-11-01 to 2026-11-08; %d visitors searched or read help pages", ss.Visitors, ss.Helped),
		fmt.Sprintf("self-served: %d (%.1f%%) with no chat or ticket within 24h; then a chat: %d, then a ticket: %d", ss.SelfServed, 100*ss.Rate, ss.Chat, ss.Ticket),
		"HELP PAGE", "SEARCH TERM",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("selfservice lacks %q:\n%s", want, out)
		}
	}
	for _, it := range append(ss.Pages[:min(3, len(ss.Pages))], ss.Terms[:min(3, len(ss.Terms))]...) {
		if !strings.Contains(out, it.Key) || !strings.Contains(out, fmt.Sprintf("%.1f%%", 100*it.Rate)) {
			t.Errorf("selfservice lacks %q at %.1f%%:\n%s", it.Key, 100*it.Rate, out)
		}
	}
	sat := truth.Satisfaction
	out = runOK(append([]string{"satisfaction"}, flags...)...)
	if !strings.Contains(out, fmt.Sprintf("%d ratings, mean %.1f%%", sat.Overall.Responses, 100*sat.Overall.Mean)) {
		t.Errorf("satisfaction header:\n%s", out)
	}
	for _, st := range sat.ByStage {
		if st.Responses > 0 && !strings.Contains(out, st.Stage.String()) {
			t.Errorf("satisfaction lacks stage %s:\n%s", st.Stage, out)
		}
	}
	for _, tp := range sat.ByTouchpoint {
		if !strings.Contains(out, tp.Touchpoint) {
			t.Errorf("satisfaction lacks %q:\n%s", tp.Touchpoint, out)
		}
	}
}
