package main

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/shaper"
)

// TestCtl drives a running replay with surge ctl: get, set, patch, pause
// (twice: the second is refused), resume, exit, stop; the run ends at the
// stop, long before its capture does.
func TestCtl(t *testing.T) {
	capture := flatCapture(t, 50, 60*time.Second)
	target := &arrivals{}
	srv := httptest.NewServer(target)
	defer srv.Close()
	addr := freeAddr(t)
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	started := time.Now()
	go func() {
		out, _, err := surge(t, "replay", "--from", capture, "--target", srv.URL, "--control", addr, "--progress", "none", "--spread=0")
		done <- result{out, err}
	}()
	ctl := func(args ...string) (string, error) {
		out, _, err := surge(t, append([]string{"ctl", "--addr", "http://" + addr}, args...)...)
		return out, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if out, err := ctl("get"); err == nil && strings.Contains(out, `"state": "running"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never reported running")
		}
	}
	patch := filepath.Join(t.TempDir(), "patch.yaml")
	os.WriteFile(patch, []byte("ratios:\n  - {name: live, match: \"path=/live/**\", ratio: 2}\n"), 0o644)
	badPatch := filepath.Join(t.TempDir(), "patch.yaml")
	os.WriteFile(badPatch, []byte("ratios:\n  - {name: live, match: \"path=/live/**\", ratio: ten}\n"), 0o644)
	steps := []struct {
		args []string
		want string // in the output, or in the error
		fail bool
	}{
		{[]string{"set", "ratio=3"}, `"ratio": 3`, false},                      // the default ratio
		{[]string{"patch", patch}, `"name": "live"`, false},                    // a class from a file
		{[]string{"pause"}, `"op": "pause"`, false},                            // hold
		{[]string{"pause"}, "run is paused (409 Conflict)", true},              // not twice
		{[]string{"resume"}, `"op": "resume"`, false},                          // go on
		{[]string{"exit", "0.5", "--class", "live"}, `"fraction": 0.5`, false}, // half the live sessions
		{[]string{"set", "ratioz=3"}, "unknown key", true},                     // a usage error, nothing sent
		// Exits to a class or a set the run does not have are refused
		// (400, exit 2), not accepted to end nothing.
		{[]string{"exit", "0.5", "--class", "lvie"}, `exit.class: no class "lvie" (did you mean "live"?)`, true},
		{[]string{"exit", "0.5", "--to", "home"}, `exit.to: no session set "home": the run has no sessions: block`, true},
		{[]string{"exit", "1.5"}, "fraction 1.5 is not between 0 and 1", true}, // checked before sending
		{[]string{"patch", badPatch}, "patch.yaml:2: ratios[0].ratio: \"ten\" is a string; want a number", true},
		{[]string{"stop"}, `"op": "stop"`, false}, // end
	}
	for _, s := range steps {
		out, err := ctl(s.args...)
		got := out
		if err != nil {
			got = err.Error()
		}
		var ee *exitError
		if s.fail && strings.Contains(s.want, "409") == false && (!errors.As(err, &ee) || ee.code != exitUsage) {
			t.Errorf("surge ctl %s: error %v; want exit %d (usage)", strings.Join(s.args, " "), err, exitUsage)
		}
		if (err != nil) != s.fail || !strings.Contains(got, s.want) {
			t.Errorf("surge ctl %s = %q, %v; want %q (error: %v)", strings.Join(s.args, " "), out, err, s.want, s.fail)
		}
	}
	// After the stop the run may end, and its control server with it,
	// before the next call arrives: nothing more is accepted (409) while it
	// answers; the state is checked live when it still answers, and the
	// control events always in the run's own output.
	if _, err := ctl("resume"); err == nil || !strings.Contains(err.Error(), "no more changes (409 Conflict)") && !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("surge ctl resume after the stop: %v; want no more changes (409), or the run gone", err)
	}
	const wantOps = "set/ctl set/ctl pause/ctl resume/ctl exit/ctl stop/ctl"
	if out, err := ctl("get"); err == nil {
		var st struct {
			State    string           `json:"state"`
			Controls []shaper.Control `json:"controls"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatal(err)
		}
		var ops []string
		for _, c := range st.Controls {
			ops = append(ops, c.Op+"/"+c.By)
		}
		if st.State != "stopped" || strings.Join(ops, " ") != wantOps {
			t.Errorf("state %s, controls %v; want stopped after set set pause resume exit stop, by ctl", st.State, ops)
		}
	} else if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("surge ctl get after the stop: %v; want the state, or the run gone", err)
	}
	select {
	case r := <-done:
		if err := unlessBehind(r.err); err != nil {
			t.Errorf("replay: %v", err)
		}
		var ops []string
		_, events, _ := strings.Cut(r.out, "control events (")
		for _, line := range strings.Split(events, "\n")[1:] {
			if f := strings.Fields(line); len(f) >= 2 && strings.HasPrefix(f[0], "+") {
				ops = append(ops, f[1]+"/"+strings.Trim(f[len(f)-1], "()"))
			}
		}
		if strings.Join(ops, " ") != wantOps {
			t.Errorf("the run's output lists control events %v; want %s\n%s", ops, wantOps, r.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the replay did not end after the stop")
	}
	if d := time.Since(started); d > 40*time.Second {
		t.Errorf("the replay ran %v; want it to end at the stop, before the capture's 60 s", d)
	}
}
