package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/shaper"
)

// TestConfigWatcher edits a watched config the ways editors do: in place,
// write-to-temp-and-rename-over, remove-and-recreate, and an invalid edit;
// each valid edit is one control event that replaces the shaping, the
// invalid one none, and a save that changes nothing none.
func TestConfigWatcher(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "run.yaml")
	write := func(path, body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(conf, "replay:\n  ratio: 1\n")
	controls, _ := shaper.NewControls()
	live := replay.NewLive(context.Background(), controls, shaper.Settings{}, 0)
	log := &syncBuffer{}
	w := &configWatcher{file: conf, live: live, ratio: 1, log: log,
		flags: []shaper.ClassSpec{{Match: shaper.Conds{"device=tv"}, Ratio: 5}}}
	w.last = w.initial(shaper.Settings{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	wait := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); controls.Len() < n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d control events; want %d\n%s", controls.Len(), n, log)
			}
		}
	}
	// logged waits until the watcher's log says s n times: each step's
	// reload has run before the next edit (a later edit within the
	// debounce would replace it), however loaded the machine.
	logged := func(s string, n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); strings.Count(log.String(), s) < n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the watcher's log says %q %d times; want %d\n%s", s, strings.Count(log.String(), s), n, log)
			}
		}
	}
	settle := func() { time.Sleep(4 * watchDebounce) } // for an edit that logs nothing

	// In place. Until the watch is set up an edit goes unseen, so it is
	// written again until it counts; the same content again is no event.
	for deadline := time.Now().Add(10 * time.Second); controls.Len() < 1; {
		if time.Now().After(deadline) {
			t.Fatalf("no control event 10 s after an edit\n%s", log)
		}
		write(conf, "replay:\n  ratio: 2\n")
		time.Sleep(200 * time.Millisecond)
	}
	tmp := filepath.Join(dir, ".run.yaml.swp")
	write(tmp, "replay:\n  ratio: 3\nshape:\n  ratios: [{name: live, match: \"path=/live/**\", ratio: 10}]\n")
	if err := os.Rename(tmp, conf); err != nil { // rename over
		t.Fatal(err)
	}
	wait(2)
	write(conf, "replay:\n  ratio: 3\nshape:\n  ratios: [{name: live, match: \"colour=red\", ratio: 10}]\n") // invalid
	logged(`unknown key "colour"`, 1)
	write(conf, "replay:\n  ratio: 3\nshape:\n  ratios: [{name: live, match: \"path=/live/**\", ratio: 10}]\n") // back: no change
	settle()
	os.Remove(conf)
	logged("removed;", 1)
	write(conf, "replay:\n  ratio: 4\n") // recreated
	wait(3)
	settle()
	// Edits that must change nothing, each said: a file truncated by a
	// save in progress, a class written without its ratio yet (it was
	// applied as ratio 0), a key that applies only at a start, a removal.
	write(conf, "")
	logged("empty (a save", 1)
	write(conf, "replay:\n  ratio: 4\nshape:\n  ratios:\n    - match: \"path=/live/**\"\n")
	logged("the class's ratio", 1)
	write(conf, "replay:\n  ratio: 4\n  speed: 10\n")
	logged("replay.speed changed", 1)
	os.Remove(conf)
	logged("removed;", 2)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctls, _ := controls.Since(0)
	var got []string
	for _, c := range ctls {
		s := c.Op + " " + c.By
		if c.Replace && c.Set.Ratio != nil {
			s += " ratio=" + formatFloat(*c.Set.Ratio)
		}
		s += " classes=" + itoa(len(c.Set.Ratios))
		got = append(got, s)
	}
	if want := "[set file ratio=2 classes=1 set file ratio=3 classes=2 set file ratio=4 classes=1]"; strings.Join(got, " ") != strings.Trim(want, "[]") {
		t.Errorf("control events %v; want %s", got, want)
	}
	out := log.String()
	for _, w := range []string{
		`run.yaml:4: shape.ratios[0].match: condition "colour=red": unknown key "colour"`, // the invalid edit, with its line
		"not applied, the run keeps its shaping",
		"run.yaml: empty (a save in progress?): not applied, the run keeps its shaping",
		"run.yaml:5: shape.ratios[0].ratio: missing: the class's ratio (0 drops its sessions)",
		"run.yaml: replay.speed changed: needs a restart, ignored",
		"run.yaml: removed; the run keeps its shaping",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("the watcher's log lacks %q:\n%s", w, out)
		}
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
