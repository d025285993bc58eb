package journey

import (
	"reflect"
	"testing"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Every field of Config is in the fingerprint that Merge and
// UnmarshalBinary compare: a field added to Config without params.config
// fails here.
func TestConfigFingerprintCoversEveryField(t *testing.T) {
	base := string(params{}.config(&Config{}))
	if base != string(params{}.config(&Config{SessionGap: 30 * time.Minute})) {
		t.Error("a default spelled out changes the fingerprint")
	}
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		var c Config
		f := reflect.ValueOf(&c).Elem().Field(i)
		switch f.Interface().(type) {
		case time.Duration:
			f.SetInt(int64(17 * time.Hour))
		case uint32:
			f.SetUint(7)
		case int:
			f.SetInt(9)
		case float64:
			f.SetFloat(0.3)
		case []StageRule:
			f.Set(reflect.ValueOf([]StageRule{{Pattern: "/x*", Stage: StageUse}}))
		case *Step:
			f.Set(reflect.ValueOf(&Step{Type: event.TypeSearch}))
		default:
			t.Fatalf("Config.%s (%s): teach params.config and this test", typ.Field(i).Name, f.Type())
		}
		if string(params{}.config(&c)) == base {
			t.Errorf("Config.%s does not change the fingerprint", typ.Field(i).Name)
		}
	}
}

// A Scope changes the fingerprint as it changes what Add keeps.
func TestScopeFingerprint(t *testing.T) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	seen := map[string]Scope{}
	for _, s := range []Scope{{}, {From: from}, {To: from}, {Segment: SegmentNew}, {From: from, LapsedAfter: time.Hour}} {
		k := string(params{}.scope(&s))
		if prev, dup := seen[k]; dup {
			t.Errorf("scopes %+v and %+v share a fingerprint", prev, s)
		}
		seen[k] = s
	}
	local := Scope{From: from.In(time.FixedZone("x", 3600))}
	if string(params{}.scope(&local)) != string(params{}.scope(&Scope{From: from})) {
		t.Error("the same instant in another zone changes the fingerprint")
	}
}
