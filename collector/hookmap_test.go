package collector

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// FuzzHookMapping feeds every preset's mapping arbitrary deliveries: it
// never panics, and what it maps is a ticket with an id of 32 hex, the
// same for the same delivery, and bounded fields.
func FuzzHookMapping(f *testing.F) {
	files, _ := filepath.Glob("testdata/hooks/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"ticket":{"id":1e400,"status":"{{ticket.status}}","updated_at":"-1"},"visitor":"\ud800"}`))
	f.Add([]byte(`{"ticket":"x","status":"opened","user":"u","score":"good","ts":99999999999999}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p fastjson.Parser
		v, err := p.ParseBytes(body)
		if err != nil {
			return
		}
		for name, pr := range presets {
			m := Mapping{}.merged(pr.mapping)
			a, err := m.apply(name, v, 1764000000000000)
			if err != nil {
				continue
			}
			b, err2 := m.apply(name, v, 1764000000000000)
			tp := a.tp
			switch {
			case err2 != nil || b.tp.ID != tp.ID:
				t.Fatalf("%s: not deterministic: %v %s %s", name, err2, tp.ID, b.tp.ID)
			case tp.Type != event.TypeTicket || !tp.Status.Valid() || tp.Ticket == "" || len(tp.ID) != 32:
				t.Fatalf("%s: mapped %+v", name, tp)
			case len(tp.Subject) > event.MaxTicketSubject || len(tp.TicketCategory) > event.MaxTicketCategory || len(tp.Ticket) > event.MaxTicketID:
				t.Fatalf("%s: unbounded %+v", name, tp)
			case a.visitor == "" && a.user == "":
				t.Fatalf("%s: no visitor nor user", name)
			case tp.Scale > 0 && (tp.Score < 0 || tp.Score > tp.Scale):
				t.Fatalf("%s: score %d of %d", name, tp.Score, tp.Scale)
			}
		}
	})
}
