package ui

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/touchtrail/touchtrail/pkg/event"
	"github.com/touchtrail/touchtrail/pkg/journey"
)

// Every message key the templates and the code name is in the catalog, and
// so are the keys made from names: stages, signals, types, channels,
// device classes.
func TestCatalogHasEveryKey(t *testing.T) {
	used := map[string]string{}
	tmpl := regexp.MustCompile(`\.T "([a-z0-9_.]*[a-z0-9_])"`)
	code := regexp.MustCompile(`\.T\("([a-z0-9_.]*[a-z0-9_])"`) // "stage." + … is made from names, below
	_ = fs.WalkDir(templateFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFS.ReadFile(p)
		for _, m := range tmpl.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = p
		}
		return nil
	})
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range code.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = f
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in use: the patterns are stale", len(used))
	}
	for i := range journey.StageCount {
		used["stage."+journey.Stage(i).String()] = "journey.Stage"
	}
	for _, s := range journey.Signals {
		used["sig."+s] = "journey.Signals"
	}
	for _, ty := range event.Types {
		used["type."+ty.String()] = "event.Types"
	}
	for c := event.ChannelUnknown; c <= event.ChannelInternal; c++ {
		used["ch."+c.String()] = "event.Channel"
	}
	for d := event.DeviceDesktop; d <= event.DeviceBot; d++ {
		used["dev."+d.String()] = "event.DeviceClass"
	}
	for _, seg := range Segments {
		used[seg[1]] = "Segments"
	}
	for key, where := range used {
		if _, ok := messages[key]; !ok {
			t.Errorf("%s uses %q, which the catalog lacks", where, key)
		}
	}
}
