package main

import (
	"encoding/json"
	"os"
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

// TestReconnectStormRun: the storm config replayed (a short window, fast)
// against the demo target: the report has the storm, and surge report
// recomputes the same numbers from the results file.
func TestReconnectStormRun(t *testing.T) {
	if testing.Short() {
		t.Skip("replays for about 10 s")
	}
	dir := t.TempDir()
	capture := filepath.Join(dir, "ws.parquet")
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	mustSurge(t, "import", "har", "--session-key", "cookie:sid", sample+"match-night-ws.har.gz", "-o", capture)
	results, summary := filepath.Join(dir, "results.parquet"), filepath.Join(dir, "summary.json")
	out, errs, err := surge(t, "demo", "--config", "../../configs/reconnect-storm.yaml", "--from", capture,
		"--window-from", "20:07:30", "--window-to", "20:08:30", "--speed", "60", "--ratio", "1",
		"--results", results, "--summary-json", summary)
	if err != nil && !strings.Contains(errs+out, "reconnect storms") {
		t.Fatalf("demo: %v\n%s%s", err, out, errs)
	}
	section := func(s string) string {
		i := strings.Index(s, "reconnect storms")
		if i < 0 {
			return ""
		}
		j := strings.Index(s[i:], "\n\n")
		return s[i : i+max(j, 0)]
	}
	run := section(out + errs)
	if !strings.Contains(run, "storm 1 at +500ms: 50% of all dropped at 20:08:00Z") || !strings.Contains(run, "clients cut off ") {
		t.Fatalf("the run's report lacks the storm:\n%s%s", out, errs)
	}
	again, errs2, _ := surge(t, "report", results)
	if got := section(again + errs2); got != run {
		t.Errorf("surge report of the results:\n%s\nwant the run's:\n%s", got, run)
	}
	data, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Storms []struct {
			Dropped  int   `json:"dropped"`
			Back     int   `json:"back"`
			Attempts int64 `json:"reconnect_attempts"`
		} `json:"storms"`
	}
	if err := json.Unmarshal(data, &js); err != nil || len(js.Storms) != 1 || js.Storms[0].Dropped == 0 || js.Storms[0].Attempts == 0 {
		t.Errorf("summary JSON storms = %+v (%v); want one storm with clients cut off and attempts", js.Storms, err)
	}
}
