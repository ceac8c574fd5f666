package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
)

var (
	captureOnce sync.Once
	captureDir  string
	capturePath string
)

// sampleCapture imports the bundled sample once for the replay tests.
func sampleCapture(t *testing.T) string {
	t.Helper()
	captureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "surge-replay-test-")
		if err != nil {
			t.Fatal(err)
		}
		captureDir = dir
		capturePath = filepath.Join(dir, "night.parquet")
		t.Setenv("SURGE_SCRUB_KEY", "test-key")
		mustSurge(t, "import", "nginx", "--config", "../../configs/capture.yaml", "--log-format", "@"+sample+"match-night.format", sample+"match-night.log.gz", "-o", capturePath)
	})
	return capturePath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if captureDir != "" {
		os.RemoveAll(captureDir)
	}
	os.Exit(code)
}

// summaryFacts is the part of the summary JSON the tests compare.
type summaryFacts struct {
	Scheduled   int64            `json:"scheduled"`
	Sent        int64            `json:"sent"`
	Completed   int64            `json:"completed"`
	OK          int64            `json:"ok"`
	Dropped     int64            `json:"dropped"`
	Errors      int64            `json:"errors"`
	ErrorsBy    map[string]int64 `json:"errors_by"`
	Ratio       float64          `json:"ratio"`
	Speed       float64          `json:"speed"`
	Seed        uint64           `json:"seed"`
	IntendedRPS float64          `json:"intended_rps"`
	AchievedRPS float64          `json:"achieved_rps"`
	LatencyMS   map[string]float64
	Latency     map[string]float64 `json:"latency_ms"`
	Service     map[string]float64 `json:"service_ms"`
	Lateness    map[string]float64 `json:"lateness_ms"`
	Start       time.Time          `json:"start"`
	PerSecond   []json.RawMessage  `json:"per_second"`
}

func readSummary(t *testing.T, b []byte) summaryFacts {
	t.Helper()
	var s summaryFacts
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary JSON: %v\n%s", err, b)
	}
	// errors is one integer at every level; errors_by splits it.
	var byClass int64
	for _, n := range s.ErrorsBy {
		byClass += n
	}
	if s.Errors != byClass || s.Sent != s.OK+s.Errors {
		t.Errorf("summary: errors %d, errors_by %v (sum %d), sent %d, ok %d; want errors = sum(errors_by), sent = ok + errors", s.Errors, s.ErrorsBy, byClass, s.Sent, s.OK)
	}
	return s
}

// TestDemoReplayAndReport replays two minutes of the sample at 2x against the
// demo platform, then recomputes the report from the results file alone.
func TestDemoReplayAndReport(t *testing.T) {
	capture := sampleCapture(t)
	dir := t.TempDir()
	results, summary := filepath.Join(dir, "results.parquet"), filepath.Join(dir, "summary.json")
	out := mustSurge(t, "demo", "--from", capture, "--to", "+2m", "--ratio", "2", "--speed", "60", "--progress", "none",
		"--results", results, "--summary-json", summary)
	if !strings.Contains(out, "surge replay report") || !strings.Contains(out, "demo platform") {
		t.Fatalf("demo output:\n%s", out)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, b)
	// Two minutes of the sample hold about 2,000 requests; at 2x, twice as
	// many virtual requests, within the binomial spread of whole sessions.
	inWindow := countInWindow(t, capture, "2m")
	if s.Scheduled < int64(float64(inWindow)*1.8) || s.Scheduled > int64(float64(inWindow)*2.2) {
		t.Errorf("scheduled %d at ratio 2 for %d recorded requests", s.Scheduled, inWindow)
	}
	if s.Scheduled != s.Sent+s.Dropped || s.Ratio != 2 || s.Speed != 60 || s.OK == 0 {
		t.Errorf("summary %+v", s)
	}
	js := mustSurge(t, "report", "--json", results)
	r := readSummary(t, []byte(js))
	if r.Scheduled != s.Scheduled || r.Sent != s.Sent || r.OK != s.OK || r.Latency["p99"] != s.Latency["p99"] || r.Lateness["max"] != s.Lateness["max"] {
		t.Errorf("surge report differs from the run's summary:\n run    %+v\n report %+v", s, r)
	}
	// The run's start is recorded in the results file, so the per-second
	// series of both reports count from it. (Without it both would start
	// at the whole second of the first intended time: no nanoseconds.)
	if s.Start.Nanosecond() == 0 || time.Since(s.Start) > 10*time.Minute || !r.Start.Equal(s.Start) || len(r.PerSecond) != len(s.PerSecond) {
		t.Errorf("start %v, %d seconds in the run's summary; %v, %d in surge report's", s.Start, len(s.PerSecond), r.Start, len(r.PerSecond))
	}
	text := mustSurge(t, "report", results)
	if !strings.Contains(text, "ratio 2x") || !strings.Contains(text, "generator") {
		t.Errorf("surge report text:\n%s", text)
	}
}

// countInWindow counts the capture's requests in its first d.
func countInWindow(t *testing.T, capture, d string) int64 {
	t.Helper()
	out := mustSurge(t, "inspect", "--json", capture)
	var s struct {
		First string `json:"first"`
	}
	json.Unmarshal([]byte(out), &s)
	out = mustSurge(t, "inspect", "--json", "--to", shift(t, s.First, d), capture)
	var w struct {
		Events int64 `json:"events"`
	}
	json.Unmarshal([]byte(out), &w)
	return w.Events
}

func TestReplayRefusals(t *testing.T) {
	capture := sampleCapture(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		// Not loopback and not allowed: refused before anything is sent.
		{"allowlist", []string{"--target", "http://192.0.2.1:8080"}, "not on the allowlist"},
		// Every configuration problem at once.
		{"validate", []string{"--target", "ftp://127.0.0.1", "--mode", "burst", "--ratio", "-1"}, "mode"},
		// A window outside the capture.
		{"window", []string{"--target", "http://127.0.0.1:9", "--window-from", "+2h"}, "outside the capture: the capture runs from"},
		// Not a capture.
		{"missing", []string{"--target", "http://127.0.0.1:9", "--from", filepath.Join(t.TempDir(), "none.parquet")}, "none.parquet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"replay", "--from", capture, "--progress", "none"}, tt.args...)
			_, _, err := surge(t, args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("surge %s: %v; want an error containing %q", strings.Join(args, " "), err, tt.want)
			}
		})
	}
	_, _, err := surge(t, "replay", "--from", capture, "--target", "http://192.0.2.1:8080", "--progress", "none")
	if !errors.Is(err, replay.ErrNotAllowed) {
		t.Errorf("error %v does not wrap ErrNotAllowed", err)
	}
	_, _, err = surge(t, "replay", "--from", capture, "--target", "ftp://127.0.0.1", "--mode", "burst", "--ratio", "-1")
	for _, want := range []string{"scheme", "mode", "ratio"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validation error %v does not mention %s", err, want)
		}
	}
}

func TestReplayConfigsDryRun(t *testing.T) {
	capture := sampleCapture(t)
	for _, cfg := range []string{"../../configs/daily-baseline.yaml", "../../configs/event-3x.yaml"} {
		t.Run(filepath.Base(cfg), func(t *testing.T) {
			// The example configs parse; the dry run plans without sending.
			// Flags override the config's capture, window and target.
			_, errs, err := surge(t, "replay", "--config", cfg, "--from", capture, "--window-from", "0s", "--window-to", "10m",
				"--target", "http://127.0.0.1:9", "--allow", "127.0.0.1", "--accounts", "", "--dry-run")
			if err != nil {
				t.Fatalf("dry run: %v\n%s", err, errs)
			}
			if !strings.Contains(errs, "dry run: target allowed") || !strings.Contains(errs, "ratio") {
				t.Errorf("dry run output:\n%s", errs)
			}
		})
	}
}

// shift returns the RFC 3339 time first + d.
func shift(t *testing.T, first, d string) string {
	t.Helper()
	ft, err := time.Parse(time.RFC3339Nano, first)
	if err != nil {
		t.Fatal(err)
	}
	dd, err := time.ParseDuration(d)
	if err != nil {
		t.Fatal(err)
	}
	return ft.Add(dd).Format(time.RFC3339Nano)
}

// TestDryRunPlansTheSchedule: the dry run runs the shaper without sending
// and says how many requests and virtual sessions the window makes: at
// ratio 1 every event of the window is one request.
func TestDryRunPlansTheSchedule(t *testing.T) {
	capture := sampleCapture(t)
	want := countInWindow(t, capture, "2m")
	_, errs, err := surge(t, "replay", "--from", capture, "--window-to", "2m", "--target", "http://127.0.0.1:9", "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, errs)
	}
	for _, w := range []string{
		fmt.Sprintf("requests  %s scheduled, ", report.Count(want)),
		"rate      peak ", "req/s", "shape     ", "(requests per second, ",
		"runs for  ", "conns     about ", "dry run: target allowed; nothing sent",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("dry run output lacks %q:\n%s", w, errs)
		}
	}
	// At ratio 2.5 the same window makes more requests, still without sending.
	_, errs2, err := surge(t, "replay", "--from", capture, "--window-to", "2m", "--ratio", "2.5", "--target", "http://127.0.0.1:9", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errs2, fmt.Sprintf("requests  %s scheduled, ", report.Count(want))) {
		t.Errorf("ratio 2.5 planned as many requests as ratio 1:\n%s", errs2)
	}
}
