package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// A visitor's timeline shows an engagement report as time on page with its
// scroll depth, flagged quick_exit_help when the help page was left at once
// and a search followed.
func TestTimelineEngagement(t *testing.T) {
	col, _, _ := shop(t, 5, collectortest.Options{})
	var v event.VisitorID
	v[0] = 0xee
	var recs []store.Record
	var slab []byte
	at := time.Now().Add(-time.Hour)
	add := func(i int, typ event.Type, path string, f func(*event.Touchpoint)) {
		us := at.Add(time.Duration(i) * time.Second).UnixMicro()
		tp := event.Touchpoint{ID: fmt.Sprint("eng-", i), Type: typ, Site: collectortest.Site, Visitor: v, Seq: uint32(i + 1),
			TS: us, Sent: us, Received: us, Derived: us, URL: "https://shop.example" + path, Results: -1}
		if f != nil {
			f(&tp)
		}
		recs = append(recs, store.NewRecord(&tp, &slab))
	}
	add(0, event.TypePageview, "/faq", nil)
	add(3, event.TypeEngagement, "/faq", func(tp *event.Touchpoint) {
		tp.Props = []event.Prop{{Key: event.PropEngagedMS, Value: "2500"}, {Key: event.PropScroll, Value: "5"}}
	})
	add(4, event.TypeSearch, "/faq", func(tp *event.Touchpoint) { tp.Query = "refund" })
	if _, err := col.Store.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, col.URL)
	b.signIn(collectortest.ReadToken)
	html := b.page("/ui/s/test/visitors/" + v.String())
	li := ""
	for _, part := range strings.Split(html, "<li ") {
		if strings.Contains(part, `data-type="engagement"`) {
			li = part
		}
	}
	for _, want := range []string{"Time on page", "2.5 s", "5 %", `data-signal="quick_exit_help"`, "Help page left at once, then asked", "#i-engagement"} {
		if !strings.Contains(li, want) {
			t.Errorf("engagement on the timeline lacks %q:\n%s", want, li)
		}
	}
}
