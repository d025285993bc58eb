package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/touchtrail/touchtrail/collector"
)

// demoCreds are the demo site's credentials, made once and kept in the data
// directory so restarts (and the README's commands) keep working.
type demoCreds struct {
	Site       string `json:"site"`
	ReadToken  string `json:"read_token"`
	AdminToken string `json:"admin_token"`
	WriteKey   string `json:"write_key"`
	// HookSecret signs deliveries to the demo's generic help-desk webhook
	// POST /v1/sites/demo/hooks/helpdesk (HMAC-SHA256 in X-Signature).
	HookSecret string `json:"hook_secret"`
}

// demoHook is the demo site's help-desk webhook.
const demoHook = "helpdesk"

const demoSite = "demo"

// ensureDemo gives a config without sites the demo site and its tokens,
// loading them from <data>/demo.json or creating them there.
func ensureDemo(cfg *serveConfig) (*demoCreds, error) {
	if len(cfg.Collector.Sites) > 0 {
		return nil, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create data directory: %w", err)
	}
	path := filepath.Join(cfg.DataDir, "demo.json")
	var d demoCreds
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("demo credentials %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		d = demoCreds{Site: demoSite, ReadToken: "ttr_" + randomHex(16), AdminToken: "tta_" + randomHex(16), WriteKey: "ttw_" + randomHex(16)}
		b, _ := json.MarshalIndent(d, "", "  ")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("cannot save demo credentials: %w", err)
		}
	default:
		return nil, fmt.Errorf("cannot read demo credentials: %w", err)
	}
	if d.HookSecret == "" { // made before the demo had a webhook
		d.HookSecret = "tth_" + randomHex(16)
		b, _ := json.MarshalIndent(d, "", "  ")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("cannot save demo credentials: %w", err)
		}
	}
	env := fmt.Sprintf("export TOUCHTRAIL_URL=%s\nexport TOUCHTRAIL_SITE=%s\nexport TOUCHTRAIL_TOKEN=%s\nexport TOUCHTRAIL_ADMIN_TOKEN=%s\nexport TOUCHTRAIL_WRITE_KEY=%s\nexport TOUCHTRAIL_HOOK_SECRET=%s\n",
		cfg.PublicURL, d.Site, d.ReadToken, d.AdminToken, d.WriteKey, d.HookSecret)
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "demo.env"), []byte(env), 0o600); err != nil {
		return nil, fmt.Errorf("cannot save demo.env: %w", err)
	}
	cfg.Collector.Sites = []collector.Site{{ID: d.Site, WriteKeys: []string{d.WriteKey},
		Hooks: []collector.Hook{{Name: demoHook, Preset: "generic", Secret: d.HookSecret}}}}
	cfg.Collector.Tokens = append(cfg.Collector.Tokens,
		collector.Token{Name: "demo-read", Secret: d.ReadToken, Scopes: []collector.Scope{collector.ScopeRead}},
		collector.Token{Name: "demo-admin", Secret: d.AdminToken, Scopes: []collector.Scope{collector.ScopeAdmin}},
	)
	return &d, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// printBanner tells a newcomer what to paste and what to curl.
func printBanner(w io.Writer, cfg serveConfig, d *demoCreds, geo bool) {
	u := cfg.PublicURL
	fmt.Fprintf(w, "\ntouchtrail is collecting on %s\n", u)
	if !cfg.Collector.DisableUI {
		fmt.Fprintf(w, "  journey map: %s/ui/ (sign in with a read token)\n", u)
	}
	if !geo {
		fmt.Fprintf(w, "  geo: off (no GeoLite2 database; run `make geo` or pass -geo-db)\n")
	}
	if d == nil {
		fmt.Fprintln(w)
		return
	}
	const visitor = "0123456789abcdef0123456789abcdef"
	// curl's own user agent is a bot's, and bots are dropped by default.
	const browserUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	fmt.Fprintf(w, `
  site:        %[2]s
  read token:  %[3]s
  admin token: %[4]s
  write key:   %[5]s   (server-side SDK)
  saved in %[6]s — load them with:  . %[6]s

Paste into your pages:
  <script defer data-site="%[2]s" src="%[1]s/t.js"></script>

Or send a touchpoint and read the trail back:
  curl -sS %[1]s/v1/events -A '%[8]s' -H 'Content-Type: text/plain' \
    -d '{"site":"%[2]s","events":[{"id":"hello-1","type":"pageview","visitor":"%[7]s","url":"https://shop.example/?utm_source=news"}]}'
  curl -sS -H 'Authorization: Bearer %[3]s' %[1]s/v1/sites/%[2]s/visitors/%[7]s/trail

`, u, d.Site, d.ReadToken, d.AdminToken, d.WriteKey, filepath.Join(cfg.DataDir, "demo.env"), visitor, browserUA)
}
