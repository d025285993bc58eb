package sdk_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A fresh backend module that imports only the SDK builds at the SDK's
// declared Go version without fetching anything, and its module graph holds
// the SDK alone: no server dependency (fasthttp, Badger, Prometheus, …).
func TestFreshModuleGetsOnlyTheSDK(t *testing.T) {
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var goLine string
	for _, l := range strings.Split(string(gomod), "\n") {
		if strings.HasPrefix(l, "go ") {
			goLine = strings.TrimSpace(strings.TrimPrefix(l, "go "))
		}
		if strings.HasPrefix(l, "require") {
			t.Errorf("sdk/go.mod requires a module: %q", l)
		}
	}
	if goLine != "1.22" {
		t.Errorf("sdk/go.mod says go %q, want 1.22 (the oldest supported release line this SDK targets)", goLine)
	}
	sdkDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/backend\n\ngo "+goLine+"\n\nrequire github.com/touchtrail/touchtrail/sdk v0.0.0\n\n"+
		"replace github.com/touchtrail/touchtrail/sdk => "+sdkDir+"\n")
	write("main.go", `package main

import (
	"context"
	"log"

	"github.com/touchtrail/touchtrail/sdk"
)

func main() {
	c, err := sdk.New(sdk.Config{Endpoint: "http://127.0.0.1:8080", Site: "shop", WriteKey: "ttw_0123456789abcdef"})
	if err != nil {
		log.Fatal(err)
	}
	c.Search("0123456789abcdef0123456789abcdef", "returns", sdk.NoResults)
	c.Close(context.Background())
}
`)
	gocmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	gocmd("build", "-o", filepath.Join(dir, "backend"), ".")
	gocmd("vet", ".") // vet's stdversion check: no standard library API newer than the go line
	mods := strings.Fields(gocmd("list", "-m", "all"))
	want := []string{"example.com/backend", "github.com/touchtrail/touchtrail/sdk", "v0.0.0", "=>", sdkDir}
	if strings.Join(mods, " ") != strings.Join(want, " ") {
		t.Errorf("go list -m all in a module importing only the SDK:\n%s\nwant only the module and the SDK", strings.Join(mods, "\n"))
	}
	deps := gocmd("list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
	if got := strings.Fields(deps); strings.Join(got, " ") != "github.com/touchtrail/touchtrail/sdk example.com/backend" {
		t.Errorf("non-standard packages: %q", got)
	}
}
