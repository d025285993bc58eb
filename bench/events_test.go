package bench

import (
	"bytes"
	"math"
	"net/netip"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/event"
)

func clock() int64 { return 1_780_000_000_000 }

// The generator's events decode without errors, in Mix's proportions,
// with unique ids, per-visitor seqs that count up, and the visitor's
// user agent and (in batches) IP.
func TestGeneratorMix(t *testing.T) {
	g := NewGenerator(1, 0, 100, clock)
	var d event.Decoder
	var b event.Batch
	counts := map[event.Type]int{}
	ids := map[string]bool{}
	seqs := map[event.VisitorID]uint32{}
	uas := map[event.VisitorID]string{}
	const batches, n = 200, 100
	for range batches {
		body := g.AppendBatch(nil, "test", n)
		if err := d.Decode(body, &b); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if len(b.Events) != n {
			t.Fatalf("%d events, want %d", len(b.Events), n)
		}
		for i := range b.Events {
			tp := &b.Events[i]
			if b.Errs[i] != nil {
				t.Fatalf("event %d: %v", i, b.Errs[i])
			}
			if err := tp.Validate(event.Limits{}.WithDefaults(), clock()*1000); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			counts[tp.Type]++
			if ids[tp.ID] || len(tp.ID) != 32 {
				t.Fatalf("id %q twice or not 32 hex", tp.ID)
			}
			ids[tp.ID] = true
			if tp.Seq != seqs[tp.Visitor]+1 {
				t.Fatalf("visitor %s: seq %d after %d", tp.Visitor, tp.Seq, seqs[tp.Visitor])
			}
			seqs[tp.Visitor] = tp.Seq
			if ua, ok := uas[tp.Visitor]; ok && ua != tp.UserAgent || tp.UserAgent == "" {
				t.Fatalf("visitor %s: user agent %q, was %q", tp.Visitor, tp.UserAgent, ua)
			}
			uas[tp.Visitor] = tp.UserAgent
			if !tp.ClientIP.IsValid() {
				t.Fatalf("event %d: no ip in a batch", i)
			}
		}
	}
	for _, m := range Mix {
		got := 0
		for typ, c := range counts {
			if typ.String() == m.Type {
				got = c
			}
		}
		pct := 100 * float64(got) / (batches * n)
		// 20,000 draws: a binomial's standard deviation is at most 0.35 points.
		if math.Abs(pct-float64(m.Percent)) > 1.5 {
			t.Errorf("%s: %.1f %%, want %d %%", m.Type, pct, m.Percent)
		}
	}
	if len(uas) < 90 {
		t.Errorf("%d visitors seen of 100", len(uas))
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	run := func(seed uint64, w int) []byte {
		g := NewGenerator(seed, w, 50, clock)
		var out []byte
		for i := range 300 {
			out = g.AppendBatch(out, "test", 1+i%3)
			out = append(out, g.IP()...)
		}
		return out
	}
	a := run(1, 0)
	if !bytes.Equal(a, run(1, 0)) {
		t.Error("same seed and worker, different events")
	}
	if bytes.Equal(a, run(2, 0)) || bytes.Equal(a, run(1, 1)) {
		t.Error("another seed or worker, same events")
	}
}

// A one-event body carries no "ip": the header does.
func TestGeneratorOneEvent(t *testing.T) {
	g := NewGenerator(1, 0, 10, clock)
	body := g.AppendBatch(nil, "test", 1)
	if bytes.Contains(body, []byte(`"ip"`)) {
		t.Errorf("one-event body with an ip: %s", body)
	}
	var d event.Decoder
	var b event.Batch
	if err := d.Decode(body, &b); err != nil || b.Errs[0] != nil {
		t.Fatalf("%v %v: %s", err, b.Errs, body)
	}
	if _, err := netip.ParseAddr(g.IP()); err != nil {
		t.Errorf("header ip: %v", err)
	}
}
