package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDryRunClasses: --ratio-for and shape: in the config make classes, the
// flags first; the dry run prints a sparkline per class.
func TestDryRunClasses(t *testing.T) {
	capture := sampleCapture(t)
	conf := filepath.Join(t.TempDir(), "shape.yaml")
	yaml := `shape:
  ratios:
    - name: home
      match: "path=/api/v1/home"
      ratio: 1
      curves: [{step: [{at: "+1m", value: 4}]}]
  curves: [{spike: {at: "+90s", peak: 3, rise: 10s, fall: 20s}}]
`
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, err := surge(t, "replay", "--from", capture, "--window-to", "3m", "--target", "http://127.0.0.1:9", "--dry-run",
		"--ratio", "2", "--ratio-for", "path=/live/**:10", "--ratio-for", "device=tv,method=GET:0.5", "--config", conf)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, errs)
	}
	for _, w := range []string{
		"ratio     path=/live/**: 10x; device=tv and method=GET: 0.5x; home (path=/api/v1/home): 1x × step(",
		"default: 2x × spike(3 at ",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("dry run output lacks %q:\n%s", w, errs)
		}
	}
	lines := regexp.MustCompile(`(?m)^class +\S+ (.+) \([0-9,]+ requests, peak [0-9,]+/(sec|min)\)$`).FindAllStringSubmatch(errs, -1)
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l[1]] = true
	}
	for _, c := range []string{"path=/live/**", "home", "default"} {
		if !seen[c] {
			t.Errorf("dry run has no class line for %s:\n%s", c, errs)
		}
	}
}

// TestShapeConfigErrors: a bad shape block or --ratio-for is a usage error
// that names what is wrong, every problem at once.
func TestShapeConfigErrors(t *testing.T) {
	capture := sampleCapture(t)
	conf := filepath.Join(t.TempDir(), "shape.yaml")
	yaml := `shape:
  ratios:
    - {match: "colour=red", ratio: 2}
    - {match: "path=/x", ratio: 1, curves: [{ramp: {from: 1, to: 2, over: 1m}, step: [{at: "+1m", value: 2}]}]}
`
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := surge(t, "replay", "--from", capture, "--target", "http://127.0.0.1:9", "--dry-run", "--ratio-for", "path=/live/**:1", "--ratio-for", "path=/live/**", "--config", conf)
	if err == nil {
		t.Fatal("bad shaping: nil error; want a usage error")
	}
	for _, w := range []string{`--ratio-for "path=/live/**": want CONDITION:RATIO`, `unknown key "colour"`,
		// The file's own index and line, not the index after the flags.
		"shape.yaml:4: shape.ratios[1].curves[0]: want exactly one of ramp, step, spike, points"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error = %v; want it to say %q", err, w)
		}
	}
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Errorf("error = %#v; want exit code %d (usage)", err, exitUsage)
	}
	_, _, err = surgeConfigOnly(t, capture, "shape:\n  ratioz: 3\n")
	if err == nil || !strings.Contains(err.Error(), `c.yaml:2: shape.ratioz: unknown key (did you mean "ratio"?)`) {
		t.Errorf("unknown shape key: %v; want it named", err)
	}
}

func surgeConfigOnly(t *testing.T, capture, yaml string) (string, string, error) {
	conf := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return surge(t, "replay", "--from", capture, "--target", "http://127.0.0.1:9", "--dry-run", "--config", conf)
}

// hosts records the Host and path of every request.
type hosts struct {
	mu  sync.Mutex
	got map[string]int // "host path" → count
}

func (h *hosts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.got[r.Host+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+r.Header.Get("X-Replay")]++
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// TestRewritesOnTheWire: a replay with rewrites sends the rewritten host,
// path, query and headers, with both drivers, to the target's address.
func TestRewritesOnTheWire(t *testing.T) {
	capture := flatCapture(t, 20, 2*time.Second) // 40 requests to /live/1
	conf := filepath.Join(t.TempDir(), "rw.yaml")
	yaml := `shape:
  content: {pattern: "^/live/(?P<id>[^/]+)", ids: [{id: derby, weight: 1}]}
  rewrites:
    - {host: "staging.example.com:8443", path_prefix: {from: /live/, to: /v2/live/}, set_query: {cdn: "off"}, set_headers: {X-Replay: surge}}
`
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, driver := range []string{"lean", "http"} {
		h := &hosts{got: map[string]int{}}
		srv := httptest.NewServer(h)
		_, errs, err := surge(t, "replay", "--from", capture, "--target", srv.URL, "--config", conf, "--driver", driver,
			"--speed", "4", "--progress", "none")
		srv.Close()
		if err != nil && !strings.Contains(err.Error(), "generator fell behind") {
			t.Fatalf("%s: %v\n%s", driver, err, errs)
		}
		want := map[string]int{"staging.example.com:8443 /v2/live/derby?cdn=off surge": 40}
		if fmt.Sprint(h.got) != fmt.Sprint(want) {
			t.Errorf("%s driver: the target saw %v; want %v", driver, h.got, want)
		}
	}
}

// TestKickoffConfig plans the bundled match night with
// configs/kickoff-surge.yaml: its classes, curves, exit and session set
// load, and the dry run shows the live class, the default and the home
// follow-ups.
func TestKickoffConfig(t *testing.T) {
	capture := sampleCapture(t)
	_, errs, err := surge(t, "demo", "--config", "../../configs/kickoff-surge.yaml", "--from", capture, "--dry-run")
	if err != nil {
		t.Fatalf("demo --config configs/kickoff-surge.yaml --dry-run: %v\n%s", err, errs)
	}
	for _, w := range []string{
		"live (path=/live/**): 1x × step(19:55:00Z=10)", "default: 1x × spike(3 at 20:08:00Z",
		"exit      20% of live at 20:12:00Z to home within 2s", " live (", " default (", " home (",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("the kickoff plan lacks %q:\n%s", w, errs)
		}
	}
}
