package collector_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/touchtrail/touchtrail/collector"
	"github.com/touchtrail/touchtrail/collector/collectortest"
	"github.com/touchtrail/touchtrail/sdk"
)

// With an identify secret, a browser's identify needs the user_hash its
// site's backend computed; a forged one is refused with a clear error and
// merges nothing. The hash is never stored.
func TestIdentifyVerification(t *testing.T) {
	const secret = "identify-secret-0123456789"
	col := collectortest.Start(t, collectortest.Options{Config: func(c *collector.Config) {
		c.Sites[0].IdentifySecret = secret
	}})
	c := client{t, col.URL}
	identify := func(id, visitor, user, hash string, header map[string]string) answer {
		extra := ""
		if hash != "" {
			extra = fmt.Sprintf(`,"user_hash":%q`, hash)
		}
		return c.post(fmt.Sprintf(`{"site":"test","events":[{"id":%q,"type":"identify","visitor":%q,"user":%q%s}]}`,
			id, visitor, user, extra), header)
	}
	refused := func(name string, a answer, want string) {
		t.Helper()
		var ia ingestAnswer
		a.json(t, &ia)
		if a.status != http.StatusAccepted || ia.Accepted != 0 || len(ia.Rejected) != 1 || !strings.Contains(ia.Rejected[0].Error, want) {
			t.Errorf("%s: %d %s, want the identify rejected saying %q", name, a.status, a.body, want)
		}
	}
	const victim = "ceo@shop.example"
	refused("no hash", identify("f1", visitorA, victim, "", nil), "identify needs user_hash")
	refused("hash of another user", identify("f2", visitorA, victim, sdk.UserHash(secret, "me"), nil), "identity not verified")
	refused("hash under another secret", identify("f3", visitorA, victim, sdk.UserHash("not-the-secret-0123456789", victim), nil), "identity not verified")
	refused("not hex", identify("f4", visitorA, victim, "zz", nil), "identity not verified")
	refused("truncated hash", identify("f5", visitorA, victim, sdk.UserHash(secret, victim)[:32], nil), "identity not verified")
	if a := c.get("/v1/sites/test/users/"+victim+"/trail", collectortest.ReadToken); a.status != http.StatusNotFound {
		t.Fatalf("forged identifies merged the visitor into %s: %d %s", victim, a.status, a.body)
	}

	mustAccept(t, identify("ok", visitorA, "u-7", sdk.UserHash(secret, "u-7"), nil), 1)
	// The backend, with its write key, needs no hash.
	const visitorB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	mustAccept(t, identify("srv", visitorB, "u-7", "", map[string]string{"Authorization": "Bearer " + collectortest.WriteKey}), 1)
	a := c.get("/v1/sites/test/users/u-7/trail", collectortest.ReadToken)
	if a.status != http.StatusOK {
		t.Fatalf("user trail: %d %s", a.status, a.body)
	}
	var ut struct {
		Visitors    []string
		Touchpoints []map[string]any
	}
	a.json(t, &ut)
	if len(ut.Visitors) != 2 || len(ut.Touchpoints) != 2 {
		t.Errorf("user u-7: %d visitors, %d touchpoints, want 2 and 2: %s", len(ut.Visitors), len(ut.Touchpoints), a.body)
	}
	if strings.Contains(string(a.body), "user_hash") {
		t.Errorf("user_hash stored: %s", a.body)
	}
}

// Without a secret, identify works as before (and a stray user_hash is
// still not stored).
func TestIdentifyWithoutSecret(t *testing.T) {
	col := collectortest.Start(t, collectortest.Options{})
	c := client{t, col.URL}
	mustAccept(t, c.post(fmt.Sprintf(`{"site":"test","events":[{"id":"i","type":"identify","visitor":%q,"user":"u-1","user_hash":"abc"}]}`, visitorA), nil), 1)
	a := c.get("/v1/sites/test/users/u-1/trail", collectortest.ReadToken)
	if a.status != http.StatusOK || strings.Contains(string(a.body), "user_hash") {
		t.Errorf("user trail: %d %s, want 200 without user_hash", a.status, a.body)
	}
}
