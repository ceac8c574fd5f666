package main

import (
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// syntheticResults writes a results file: 2,000 searches around searchMS,
// failing at errRate, and 500 requests to /gone that the capture recorded
// as 404 and that get 404 again.
func syntheticResults(t *testing.T, seed uint64, searchMS, errRate float64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	path := filepath.Join(t.TempDir(), "results.parquet")
	w, err := eventlog.Create[schema.Result](path, eventlog.WriterConfig{Source: "replay"})
	if err != nil {
		t.Fatal(err)
	}
	var rs []schema.Result
	for i := range 2500 {
		at := gateT0.Add(time.Duration(i) * time.Millisecond)
		r := schema.Result{Intended: at, Sent: &at, Session: "s", Method: "GET", Route: "GET /api/search", Status: 200, RecordedStatus: 200}
		ms := searchMS * (0.5 + rng.ExpFloat64()*0.5)
		if i >= 2000 {
			r.Route, r.Status, r.RecordedStatus, ms = "GET /gone", 404, 404, 1
		} else if rng.Float64() < errRate {
			r.Status = 503
		}
		r.LatencyNS, r.ServiceNS = int64(ms*1e6), int64(ms*1e6)
		rs = append(rs, r)
	}
	if err := w.Write(rs...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportCompare(t *testing.T) {
	base := syntheticResults(t, 1, 10, 0.01)
	same := syntheticResults(t, 2, 10, 0.01)    // another draw of the same system
	slower := syntheticResults(t, 3, 15, 0.01)  // search 50% slower
	failing := syntheticResults(t, 4, 10, 0.05) // search fails 5% instead of 1%
	bounds := []string{"--max-p99-increase", "10%", "--max-error-rate-increase", "0.5pp"}
	tests := []struct {
		name      string
		new       string
		code      int
		regressed string // the search route's regressed metrics
	}{
		// No regression: exit 0; the 404s the recording had are no failure.
		{"same", same, exitOK, ""},
		// A 50% slower search is beyond +10% p99.
		{"slower", slower, exitThresholds, "p99"},
		// Errors up 4 points are beyond +0.5pp.
		{"failing", failing, exitThresholds, "error rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"report", "compare", base, tt.new, "--json"}, bounds...)
			out, _, err := surge(t, args...)
			if exitOf(err) != tt.code {
				t.Fatalf("exit %d (%v); want %d\n%s", exitOf(err), err, tt.code, out)
			}
			var rep report.CompareReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("JSON: %v\n%s", err, out)
			}
			rows := map[string]report.RouteDelta{}
			for _, d := range rep.Routes {
				rows[d.Route] = d
			}
			search, gone := rows["GET /api/search"], rows["GET /gone"]
			if strings.Join(search.Regressed, ",") != tt.regressed || gone.Status != report.DeltaOK || gone.NewErrPct != 0 || gone.NewAsRecorded != 500 {
				t.Errorf("search %+v\ngone %+v", search, gone)
			}
			if search.P99CI[0] > search.P99Pct || search.P99CI[1] < search.P99Pct || rep.Resamples != 1000 {
				t.Errorf("p99 delta %g outside its interval %v", search.P99Pct, search.P99CI)
			}
			// Deterministic: the same inputs give the same table.
			again, _, _ := surge(t, args...)
			if again != out {
				t.Error("a second comparison differs")
			}
		})
	}
	// The text table and bad inputs.
	out, _, _ := surge(t, append([]string{"report", "compare", base, slower}, bounds...)...)
	if !strings.Contains(out, "REGRESSED p99") || !strings.Contains(out, "REGRESSION:") {
		t.Errorf("text:\n%s", out)
	}
	for _, bad := range [][]string{
		{base, same, "--max-p99-increase", "10"},           // no unit
		{base, filepath.Join(t.TempDir(), "summary.json")}, // a summary, not results
	} {
		if _, _, err := surge(t, append([]string{"report", "compare"}, bad...)...); exitOf(err) != exitUsage {
			t.Errorf("compare %v: exit %d (%v); want usage", bad, exitOf(err), err)
		}
	}
}
