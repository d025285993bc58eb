package collector_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
)

const (
	zendeskSecret   = "zendesk-signing-secret-0123"
	freshdeskSecret = "freshdesk-password-0123456"
	liveagentSecret = "liveagent-token-0123456789"
	genericSecret   = "generic-hmac-key-0123456789"
)

var hookNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// startHooks starts a collector whose test site has one hook per preset.
func startHooks(t *testing.T) (*collectortest.Collector, client) {
	t.Helper()
	c := collectortest.Start(t, collectortest.Options{
		Now: func() time.Time { return hookNow },
		Config: func(cfg *collector.Config) {
			cfg.Sites[0].Hooks = []collector.Hook{
				{Name: "zendesk", Preset: "zendesk", Secret: zendeskSecret},
				{Name: "freshdesk", Preset: "freshdesk", Secret: freshdeskSecret},
				{Name: "liveagent", Preset: "liveagent", Secret: liveagentSecret},
				{Name: "desk", Secret: genericSecret, SignatureHeader: "X-Desk-Signature",
					Mapping: collector.Mapping{Channel: collector.Paths{"channel"}, ChannelValues: map[string]string{"chat": "chat"}}},
			}
		},
	})
	return c, client{t: t, base: c.URL}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/hooks/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zendeskHeaders(body []byte, secret, ts string) map[string]string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write(body)
	return map[string]string{"Content-Type": "application/json", "X-Zendesk-Webhook-Signature-Timestamp": ts,
		"X-Zendesk-Webhook-Signature": base64.StdEncoding.EncodeToString(mac.Sum(nil))}
}

func basicAuth(user, pass string) map[string]string {
	return map[string]string{"Content-Type": "application/json",
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
}

func deskHeaders(body []byte, secret string) map[string]string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return map[string]string{"X-Desk-Signature": "sha256=" + hex.EncodeToString(mac.Sum(nil))}
}

type hookAnswer struct {
	Accepted int    `json:"accepted"`
	ID       string `json:"id"`
	Visitor  string `json:"visitor"`
	Ticket   string `json:"ticket"`
	Status   string `json:"status"`
	Error    string `json:"error"`
}

func trailOf(t *testing.T, cl client, visitor string) []map[string]any {
	t.Helper()
	a := cl.get("/v1/sites/test/visitors/"+visitor+"/trail", collectortest.ReadToken)
	if a.status != http.StatusOK {
		t.Fatalf("trail: %d %s", a.status, a.body)
	}
	var tr trailAnswer
	a.json(t, &tr)
	return tr.Touchpoints
}

// Each preset's sample deliveries become the expected touchpoints in the
// visitor's trail.
func TestHookPresets(t *testing.T) {
	_, cl := startHooks(t)
	// u-42 is a known user: identify stitched a visitor to it.
	mustAccept(t, cl.post(`{"site":"test","events":[{"id":"idf","type":"identify","visitor":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","user":"u-42","ts":"2026-11-22T10:00:00Z"}]}`, nil), 1)

	for _, c := range []struct {
		hook, file string
		header     func(body []byte) map[string]string
		visitor    string
		want       map[string]any
	}{
		{"zendesk", "zendesk_event_created.json", func(b []byte) map[string]string { return zendeskHeaders(b, zendeskSecret, "2026-11-20T10:12:08Z") },
			"0123456789abcdef0123456789abcdef",
			map[string]any{"type": "ticket", "ticket": "5158", "status": "opened", "ticket_channel": "form", "subject": "Where is my order?",
				"category": "QUESTION", "time": "2026-11-20T10:12:07.672717Z"}},
		{"zendesk", "zendesk_event_status_changed.json", func(b []byte) map[string]string { return zendeskHeaders(b, zendeskSecret, "1763713800") },
			"0123456789abcdef0123456789abcdef",
			map[string]any{"type": "ticket", "ticket": "5158", "status": "solved", "ticket_channel": "form", "time": "2026-11-21T08:30:00.118000Z"}},
		{"zendesk", "zendesk_trigger.json", func(b []byte) map[string]string { return zendeskHeaders(b, zendeskSecret, "1763823845") },
			"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", // through the user
			map[string]any{"type": "ticket", "ticket": "5160", "status": "replied", "ticket_channel": "email",
				"subject": "Réclamation: colis endommagé", "category": "Problem", "score": 1.0, "scale": 1.0, "user": "u-42",
				"time": "2026-11-22T15:04:05.000000Z"}},
		{"freshdesk", "freshdesk_simple.json", func([]byte) map[string]string { return basicAuth("touchtrail", freshdeskSecret) },
			"fedcba9876543210fedcba9876543210",
			map[string]any{"type": "ticket", "ticket": "1042", "status": "opened", "ticket_channel": "email", "subject": "Refund for order #8812",
				"category": "Refund", "time": "2026-11-22T07:00:00.000000Z"}},
		{"freshdesk", "freshdesk_resolved.json", func([]byte) map[string]string { return basicAuth(freshdeskSecret, "X") }, // as an API key
			"fedcba9876543210fedcba9876543210",
			map[string]any{"type": "ticket", "ticket": "1042", "status": "solved", "score": 4.0, "scale": 5.0}},
		{"liveagent", "liveagent.json", func([]byte) map[string]string { return map[string]string{"Authorization": "Bearer " + liveagentSecret} },
			"aaaabbbbccccddddeeeeffff00001111",
			map[string]any{"type": "ticket", "ticket": "XKJ-QLTYB-382", "status": "opened", "ticket_channel": "form", "subject": "سؤال عن الشحن",
				"category": "Sales", "time": "2026-11-24T08:15:00.000000Z"}},
		{"desk", "generic.json", func(b []byte) map[string]string { return deskHeaders(b, genericSecret) },
			"0123456789abcdef0123456789abcdef",
			map[string]any{"type": "ticket", "ticket": "T-77", "status": "replied", "ticket_channel": "chat", "subject": "Chat follow-up"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			body := fixture(t, c.file)
			a := cl.do(http.MethodPost, "/v1/sites/test/hooks/"+c.hook, body, c.header(body))
			var ha hookAnswer
			a.json(t, &ha)
			if a.status != http.StatusAccepted || ha.Accepted != 1 || ha.Visitor != c.visitor {
				t.Fatalf("%d %s, want 202 for visitor %s", a.status, a.body, c.visitor)
			}
			var got map[string]any
			for _, tp := range trailOf(t, cl, c.visitor) {
				if tp["id"] == ha.ID {
					got = tp
				}
			}
			if got == nil {
				t.Fatalf("touchpoint %s not in the trail", ha.ID)
			}
			for k, v := range c.want {
				if fmt.Sprint(got[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v (%v)", k, got[k], v, got)
				}
			}
		})
	}
}

// A replayed delivery (a help desk's retry) is stored once; a wrong
// signature is 401 and stores nothing; bad payloads get a clear 4xx and are
// counted.
func TestHookAuthReplayAndBadPayloads(t *testing.T) {
	_, cl := startHooks(t)
	body := fixture(t, "zendesk_event_created.json")
	const v = "0123456789abcdef0123456789abcdef"
	for range 3 {
		a := cl.do(http.MethodPost, "/v1/sites/test/hooks/zendesk", body, zendeskHeaders(body, zendeskSecret, "1763633528"))
		if a.status != http.StatusAccepted {
			t.Fatalf("%d %s", a.status, a.body)
		}
	}
	if n := len(trailOf(t, cl, v)); n != 1 {
		t.Fatalf("a delivery sent three times: %d touchpoints, want 1", n)
	}
	// The same payload without a delivery id (a trigger's body) dedupes on
	// ticket, status and time.
	trig := fixture(t, "freshdesk_simple.json")
	for range 2 {
		if a := cl.do(http.MethodPost, "/v1/sites/test/hooks/freshdesk", trig, basicAuth("x", freshdeskSecret)); a.status != http.StatusAccepted {
			t.Fatalf("%d %s", a.status, a.body)
		}
	}
	if n := len(trailOf(t, cl, "fedcba9876543210fedcba9876543210")); n != 1 {
		t.Fatalf("a trigger delivery sent twice: %d touchpoints, want 1", n)
	}

	// A generic mapping whose delivery id is the ticket id: each status of
	// the ticket is still its own touchpoint.
	const v2 = "2222222222222222222222222222222f"
	for _, st := range []string{"opened", "replied", "solved", "solved"} {
		b := []byte(`{"id":"T-9","ticket":"T-9","status":"` + st + `","visitor":"` + v2 + `"}`)
		if a := cl.do(http.MethodPost, "/v1/sites/test/hooks/desk", b, deskHeaders(b, genericSecret)); a.status != http.StatusAccepted {
			t.Fatalf("%d %s", a.status, a.body)
		}
	}
	if n := len(trailOf(t, cl, v2)); n != 3 {
		t.Fatalf("one ticket's three statuses (one sent twice): %d touchpoints, want 3", n)
	}

	other := "1111111111111111111111111111111f"
	forged := []byte(strings.ReplaceAll(string(body), v, other))
	for _, c := range []struct {
		name, hook string
		body       []byte
		header     map[string]string
		status     int
		errHas     string
	}{
		{"wrong zendesk secret", "zendesk", forged, zendeskHeaders(forged, "not-the-secret-at-all", "1"), 401, "signature"},
		{"signature of another body", "zendesk", forged, zendeskHeaders(body, zendeskSecret, "1"), 401, "signature"},
		{"no signature", "zendesk", forged, nil, 401, "signature"},
		{"wrong token", "liveagent", forged, map[string]string{"Authorization": "Bearer " + liveagentSecret + "x"}, 401, "token"},
		{"token of another hook", "liveagent", forged, map[string]string{"Authorization": "Bearer " + freshdeskSecret}, 401, "token"},
		{"wrong hmac", "desk", []byte(`{"ticket":"1","status":"opened","visitor":"` + other + `"}`), deskHeaders([]byte("{}"), genericSecret), 401, "signature"},
		{"not JSON", "desk", []byte("ticket=1"), deskHeaders([]byte("ticket=1"), genericSecret), 400, "JSON"},
		{"malformed JSON", "desk", []byte(`{"ticket":`), deskHeaders([]byte(`{"ticket":`), genericSecret), 400, "malformed"},
		{"no ticket", "desk", []byte(`{"status":"opened","visitor":"` + other + `"}`), nil, 422, "ticket: no ticket id at ticket"},
		{"unknown status", "desk", []byte(`{"ticket":"1","status":"archived","visitor":"` + other + `"}`), nil, 422, `status: status="archived" maps to no status`},
		{"no visitor nor user", "desk", []byte(`{"ticket":"1","status":"opened"}`), nil, 422, "tt_v"},
		{"unknown user", "desk", []byte(`{"ticket":"1","status":"opened","user":"nobody"}`), nil, 422, `no visitor identified as "nobody"`},
		{"bad time", "desk", []byte(`{"ticket":"1","status":"opened","visitor":"` + other + `","ts":"yesterday"}`), nil, 422, "time:"},
		{"time far ahead", "desk", []byte(`{"ticket":"1","status":"opened","visitor":"` + other + `","ts":"2027-06-01T00:00:00Z"}`), nil, 422, "future"},
		{"score over the scale", "desk", []byte(`{"ticket":"1","status":"solved","visitor":"` + other + `","score":9}`), nil, 422, "score"},
		{"unknown hook", "nope", body, nil, 404, "no hook"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := c.header
			if h == nil {
				h = deskHeaders(c.body, genericSecret)
			}
			a := cl.do(http.MethodPost, "/v1/sites/test/hooks/"+c.hook, c.body, h)
			var ha hookAnswer
			a.json(t, &ha)
			if a.status != c.status || !strings.Contains(ha.Error, c.errHas) {
				t.Errorf("%d %s, want %d with %q", a.status, a.body, c.status, c.errHas)
			}
		})
	}
	if tps := trailOf(t, cl, other); len(tps) != 0 {
		t.Errorf("refused deliveries stored something: %v", tps)
	}
	if a := cl.do(http.MethodGet, "/v1/sites/test/hooks/desk", nil, nil); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "POST" {
		t.Errorf("GET a hook: %d %v", a.status, a.header)
	}
	// Counted, by hook and outcome.
	m := cl.get("/metrics", collectortest.ReadToken)
	for _, want := range []string{
		`touchtrail_hook_deliveries_total{hook="zendesk",outcome="stored"} 3`,
		`touchtrail_hook_deliveries_total{hook="zendesk",outcome="auth"} 3`,
		`touchtrail_hook_deliveries_total{hook="liveagent",outcome="auth"} 2`,
		`touchtrail_hook_deliveries_total{hook="desk",outcome="invalid"} 8`,
		`touchtrail_hook_deliveries_total{hook="desk",outcome="stored"} 4`,
		`touchtrail_hook_deliveries_total{hook="desk",outcome="unknown_visitor"} 1`,
		`touchtrail_http_errors_total{route="hooks",status="401"} 6`,
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestHookConfigRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		hook collector.Hook
		want string
	}{
		{"short secret", collector.Hook{Name: "z", Preset: "zendesk", Secret: "short"}, "at least 16"},
		{"unknown preset", collector.Hook{Name: "z", Preset: "kayako", Secret: zendeskSecret}, "unknown preset"},
		{"bad name", collector.Hook{Name: "a/b", Secret: zendeskSecret}, "hook name"},
		{"bad status value", collector.Hook{Name: "z", Secret: zendeskSecret, Mapping: collector.Mapping{StatusValues: map[string]string{"x": "gone"}}}, "status_values"},
		{"bad auth", collector.Hook{Name: "z", Secret: zendeskSecret, Auth: "none"}, "unknown auth"},
	} {
		cfg := collector.Config{Sites: []collector.Site{{ID: "s", Hooks: []collector.Hook{c.hook}}}}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
