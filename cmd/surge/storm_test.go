package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestStormConfig: a bad storm: entry is a usage error naming the file and
// the key; a good one is in the dry run's plan.
func TestStormConfig(t *testing.T) {
	capture := sampleCapture(t)
	_, _, err := surgeConfigOnly(t, capture, "shape:\n  storm:\n    - {at: \"50%\", fraction: 50, policy: linear}\n")
	if err == nil {
		t.Fatal("bad storm: nil error")
	}
	for _, w := range []string{"c.yaml: shape: storm[0].fraction: 50 is not in (0, 1]", `storm[0].policy: "linear": want one of`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error = %v; want it to say %q", err, w)
		}
	}
	_, errs, err := surgeConfigOnly(t, capture, "shape:\n  storm:\n    - {at: \"+1m\", fraction: 0.5, policy: decorrelated_jitter, base: 1s, cap: 30s}\n")
	if err != nil {
		t.Fatalf("good storm: %v\n%s", err, errs)
	}
	if w := "storm     50% of all dropped at +1m, reconnect decorrelated_jitter base=1s cap=30s"; !strings.Contains(errs, w) {
		t.Errorf("dry run lacks %q:\n%s", w, errs)
	}
}

// TestReconnectStormConfig: configs/reconnect-storm.yaml loads and its dry
// run shows the storm.
func TestReconnectStormConfig(t *testing.T) {
	capture := filepath.Join(t.TempDir(), "ws.parquet")
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	mustSurge(t, "import", "har", "--session-key", "cookie:sid", sample+"match-night-ws.har.gz", "-o", capture)
	_, errs, err := surge(t, "demo", "--config", "../../configs/reconnect-storm.yaml", "--from", capture, "--dry-run")
	if err != nil {
		t.Fatalf("demo --config configs/reconnect-storm.yaml --dry-run: %v\n%s", err, errs)
	}
	if w := "storm     50% of all dropped at 20:08:00Z, reconnect decorrelated_jitter base=250ms cap=8s max_attempts=8"; !strings.Contains(errs, w) {
		t.Errorf("the storm plan lacks %q:\n%s", w, errs)
	}
}
