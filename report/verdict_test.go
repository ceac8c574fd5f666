package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestVerdictNotes: a pass that gated nothing when every request failed
// says so in the text, the JSON (verdict_notes) and the HTML report, while
// its verdict (and so its exit code) stays pass; other runs get no note.
func TestVerdictNotes(t *testing.T) {
	ok := ThresholdResults{{Metric: "latency_ms", Threshold: "p(99)<500", Aggregation: "p(99)", Value: 12, Bound: 500, OK: true}}
	bad := ThresholdResults{{Metric: "errors", Threshold: "rate<0.01", Aggregation: "rate", Value: 1, Bound: 0.01}}
	for _, c := range []struct {
		name       string
		sent, errs int64
		by         map[string]int64
		thresholds ThresholdResults
		verdict    string
		note       string // "" for none
	}{
		// every request failed and nothing was gated: a pass with a warning
		{"all failed, no thresholds", 4, 4, map[string]int64{"http_5xx": 3, "reset": 1}, nil, VerdictPass,
			`no thresholds set; 100% of requests failed (4 of 4 sent: http_5xx 3, reset 1): nothing gated this run (set thresholds, e.g. errors: ["rate<0.01"])`},
		// every request failed, a latency threshold passed: no threshold gated errors
		{"all failed, latency threshold", 1000, 1000, map[string]int64{"http_4xx": 1000}, ok, VerdictPass,
			"thresholds passed, but 100% of requests failed (1,000 of 1,000 sent: http_4xx 1,000): no threshold gates on errors"},
		// every request failed and an errors threshold caught it: no note, the verdict says it
		{"all failed, errors threshold", 4, 4, map[string]int64{"http_5xx": 4}, bad, VerdictThresholdsFailed, ""},
		// every request failed to connect: unreachable, not pass
		{"unreachable", 4, 4, map[string]int64{"connect": 4}, nil, VerdictUnreachable, ""},
		// most failed, not all: a pass without thresholds, as before (the errors line shows them)
		{"3 of 4 failed", 4, 3, map[string]int64{"http_5xx": 3}, nil, VerdictPass, ""},
		// nothing failed
		{"clean", 4, 0, nil, nil, VerdictPass, ""},
	} {
		s := &RunSummary{Scheduled: c.sent, Sent: c.sent, Completed: c.sent - c.by["connect"] - c.by["reset"], OK: c.sent - c.errs,
			Errors: c.errs, ErrorsBy: c.by, GeneratorKeptUp: true, Thresholds: c.thresholds}
		s.Settle()
		if s.Outcome != c.verdict {
			t.Errorf("%s: verdict %s; want %s", c.name, s.Outcome, c.verdict)
		}
		var text, js, html bytes.Buffer
		if err := s.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := (&HTMLReport{Summary: s}).WriteHTML(&html); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Verdict string   `json:"verdict"`
			Notes   []string `json:"verdict_notes"`
		}
		if err := json.Unmarshal(js.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if c.note == "" {
			if len(got.Notes) != 0 || strings.Contains(text.String(), "WARNING") || strings.Contains(js.String(), "verdict_notes") {
				t.Errorf("%s: notes %q; want none (and no verdict_notes key)", c.name, got.Notes)
			}
			continue
		}
		if got.Verdict != VerdictPass || len(got.Notes) != 1 || got.Notes[0] != c.note {
			t.Errorf("%s: JSON verdict %q, notes %q; want pass and %q", c.name, got.Verdict, got.Notes, c.note)
		}
		if want := "verdict: PASS (WARNING: " + c.note + ")\n"; !strings.Contains(text.String(), want) {
			t.Errorf("%s: text ends %q; want %q", c.name, text.String()[max(0, text.Len()-300):], want)
		}
		if !strings.Contains(html.String(), "warning: no thresholds set") && !strings.Contains(html.String(), "warning: thresholds passed, but") {
			t.Errorf("%s: the HTML report has no warning", c.name)
		}
	}
}
