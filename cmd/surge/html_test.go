package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHTMLReportOfRunAndResults: surge demo --html writes the report of the
// run, and surge report --html the same charts from the results file alone.
func TestHTMLReportOfRunAndResults(t *testing.T) {
	capture := sampleCapture(t)
	dir := t.TempDir()
	results, runHTML, repHTML := filepath.Join(dir, "results.parquet"), filepath.Join(dir, "run.html"), filepath.Join(dir, "report.html")
	mustSurge(t, "demo", "--from", capture, "--to", "+2m", "--ratio", "1", "--speed", "60", "--progress", "none",
		"--results", results, "--html", runHTML)
	mustSurge(t, "report", results, "--html", repHTML)
	charts := regexp.MustCompile(`(?s)<svg class="chart".*?</svg>`)
	var got [2][]string
	for i, path := range []string{runHTML, repHTML} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got[i] = charts.FindAllString(string(b), -1)
		if len(got[i]) != 7 {
			t.Fatalf("%s: %d charts; want 7", path, len(got[i]))
		}
		if !strings.Contains(string(b), "GET /api/v1/heartbeat") && !strings.Contains(string(b), "POST /api/v1/heartbeat") {
			t.Errorf("%s: no route table with the heartbeat route", path)
		}
	}
	for i := range got[0] {
		if got[0][i] != got[1][i] {
			t.Errorf("chart %d of the run differs from surge report's:\nrun    %.300s\nreport %.300s", i, got[0][i], got[1][i])
		}
	}
	// An existing output is refused before anything is sent.
	if _, _, err := surge(t, "demo", "--from", capture, "--to", "+1m", "--speed", "60", "--progress", "none", "--html", runHTML); err == nil || !strings.Contains(err.Error(), "--html") {
		t.Errorf("demo --html over an existing file: err %v; want one naming --html", err)
	}
}
