package collector

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		if got := Duration(d).String(); got != want {
			t.Errorf("%v: got %q, want %q", d, got, want)
		}
		var back Duration
		if err := back.Set(want); err != nil || time.Duration(back) != d {
			t.Errorf("%q read back as %v, %v", want, time.Duration(back), err)
		}
	}
	f(9600*time.Hour, "9600h")
	f(30*time.Minute, "30m")
	f(90*time.Minute, "1h30m")
	f(10*time.Second, "10s")
	f(250*time.Millisecond, "250ms")
	f(0, "0s")

	var c struct {
		D Duration `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"45s"}`), &c); err != nil || time.Duration(c.D) != 45*time.Second {
		t.Errorf("json: %v %v", c.D, err)
	}
	if err := json.Unmarshal([]byte(`{"d":10000000000}`), &c); err == nil {
		t.Error("nanoseconds as a number accepted")
	}
	b, _ := json.Marshal(c)
	if string(b) != `{"d":"45s"}` {
		t.Errorf("marshal: %s", b)
	}
}
