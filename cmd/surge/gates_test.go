package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// gateT0 is the capture time of the tiny captures.
var gateT0 = time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)

// tinyCapture writes a capture of sessions × perSession GET requests, the
// sessions starting every gap and each one's requests gap apart, and
// returns its path. Every request was recorded with status 200, except
// /missing (recorded 404).
func tinyCapture(t *testing.T, sessions, perSession int, gap time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.parquet")
	w, err := eventlog.Create[schema.Exchange](path, eventlog.WriterConfig{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var evs []schema.Exchange
	for s := range sessions {
		for i := range perSession {
			p, status := fmt.Sprintf("/api/item/%d", i), int32(200)
			if i == perSession-1 {
				p, status = "/missing", 404
			}
			evs = append(evs, schema.Exchange{
				Time: gateT0.Add(time.Duration(s+i) * gap), Session: fmt.Sprintf("s%03d", s), Seq: int32(i),
				Method: "GET", Scheme: "http", Host: "app.example", Path: p, Status: schema.Int32(status),
				Protocol: schema.ProtoHTTP11, Source: "test",
			})
		}
	}
	if err := w.Write(evs...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// statusServer answers every request with status, and /missing with 404.
func statusServer(t *testing.T, status int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// deadPort returns a loopback address nothing listens on.
func deadPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// exitOf returns the exit code surge's main would give err.
func exitOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

// gateSummary is the part of the summary JSON the gate tests read.
type gateSummary struct {
	Verdict         string                   `json:"verdict"`
	Aborted         bool                     `json:"aborted"`
	AbortReason     string                   `json:"abort_reason"`
	GeneratorKeptUp bool                     `json:"generator_kept_up"`
	Sent            int64                    `json:"sent"`
	Errors          int64                    `json:"errors"`
	ErrorsBy        map[string]int64         `json:"errors_by"`
	Thresholds      []report.ThresholdResult `json:"thresholds"`
	Cohorts         *report.CohortReport     `json:"cohorts"`
}

// replayGate runs surge replay of capture against target with args and
// returns its exit code, stdout and summary.
//
// A run the generator could not keep up with (a loaded test machine: the
// verdict is generator_behind) is run again, up to three times in all, since
// the tests that use this check other outcomes; the last run is returned.
func replayGate(t *testing.T, capture, target string, args ...string) (int, string, gateSummary) {
	t.Helper()
	var code int
	var out string
	var s gateSummary
	for try := 1; try <= 3; try++ {
		summary := filepath.Join(t.TempDir(), "summary.json")
		all := append([]string{"replay", "--force", "--from", capture, "--target", target, "--progress", "none",
			"--summary-json", summary, "--timeout", "2s", "--grace", "1s"}, args...)
		var errs string
		var err error
		out, errs, err = surge(t, all...)
		s = gateSummary{}
		if b, rerr := os.ReadFile(summary); rerr == nil {
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatalf("summary: %v\n%s", err, b)
			}
		}
		code = exitOf(err)
		t.Logf("surge %s: exit %d (%v)\n%s", strings.Join(all, " "), code, err, errs)
		if s.Verdict != report.VerdictBehind {
			break
		}
	}
	return code, out, s
}

// TestExitCodes runs a replay per exit code, end to end, against loopback.
func TestExitCodes(t *testing.T) {
	capture := tinyCapture(t, 10, 4, 20*time.Millisecond) // 40 requests in 0.26 s
	ok := statusServer(t, http.StatusOK)
	failing := statusServer(t, http.StatusInternalServerError)

	t.Run("dead target", func(t *testing.T) {
		// Nothing listens: every request fails to connect.
		code, out, s := replayGate(t, capture, "http://"+deadPort(t))
		if code != exitUnreachable || s.Verdict != report.VerdictUnreachable || !strings.Contains(out, "TARGET UNREACHABLE") {
			t.Errorf("exit %d, verdict %q, errors %v; want %d, unreachable\n%s", code, s.Verdict, s.ErrorsBy, exitUnreachable, out)
		}
	})
	t.Run("tls to a plain port", func(t *testing.T) {
		code, out, s := replayGate(t, capture, strings.Replace(ok.URL, "http://", "https://", 1), "--insecure")
		if s.ErrorsBy[report.ClassTLS] == 0 {
			// Until the connection layer reports handshake failures as
			// "tls" (issue 8, item 3), they show as another class and the
			// target does not count as unreachable.
			t.Skipf("handshake failures are classed %v, not tls yet", s.ErrorsBy)
		}
		if code != exitUnreachable || s.Verdict != report.VerdictUnreachable {
			t.Errorf("exit %d, verdict %q; want %d, unreachable\n%s", code, s.Verdict, exitUnreachable, out)
		}
	})
	t.Run("ratio 0", func(t *testing.T) {
		// Nothing would be scheduled: a usage error, before anything runs.
		code, _, _ := replayGate(t, capture, ok.URL, "--ratio", "0")
		if code != exitUsage {
			t.Errorf("exit %d; want %d", code, exitUsage)
		}
	})
	t.Run("bad threshold", func(t *testing.T) {
		_, _, err := surge(t, "replay", "--from", capture, "--target", ok.URL, "--threshold", "latency_ms:p(99)<fast")
		if exitOf(err) != exitUsage || !strings.Contains(fmt.Sprint(err), "offset 17") {
			t.Errorf("error %v, exit %d; want a usage error at offset 17", err, exitOf(err))
		}
	})
	t.Run("aborted by the error rate", func(t *testing.T) {
		code, out, s := replayGate(t, capture, failing.URL, "--abort-error-rate", "0.5")
		if code != exitAborted || !s.Aborted || !strings.Contains(s.AbortReason, "error rate") || !strings.Contains(out, "ABORTED:") {
			t.Errorf("exit %d, aborted %v %q; want %d\n%s", code, s.Aborted, s.AbortReason, exitAborted, out)
		}
	})
	t.Run("aborted by a threshold", func(t *testing.T) {
		// Long enough (2.4 s) for the live check to see the failure.
		long := tinyCapture(t, 20, 5, 100*time.Millisecond)
		code, out, s := replayGate(t, long, failing.URL, "--threshold", "errors:rate<0.1,abort_on_fail")
		if code != exitAborted || !s.Aborted || !strings.Contains(s.AbortReason, "errors rate<0.1") || s.Sent >= 100 {
			t.Errorf("exit %d, aborted %v %q; want %d\n%s", code, s.Aborted, s.AbortReason, exitAborted, out)
		}
	})
	t.Run("thresholds failed", func(t *testing.T) {
		junit := filepath.Join(t.TempDir(), "junit.xml")
		code, out, s := replayGate(t, capture, ok.URL, "--junit", junit,
			"--threshold", "latency_ms:max<0.000001", "--threshold", "errors{route:/api/item/{n}}:rate<0.01",
			"--threshold", "new_errors:count==0")
		want := exitThresholds
		if !s.GeneratorKeptUp {
			want = exitBehind // a loaded machine: the run is invalid, which wins
		}
		if code != want || len(s.Thresholds) != 3 || s.Thresholds[0].OK || !s.Thresholds[1].OK || !s.Thresholds[2].OK {
			t.Errorf("exit %d (want %d), thresholds %+v\n%s", code, want, s.Thresholds, out)
		}
		if !strings.Contains(out, "FAIL  latency_ms  max<1e-06") {
			t.Errorf("text report does not show the failed threshold:\n%s", out)
		}
		suites := readJUnit(t, junit)
		if len(suites.Suites) != 1 || suites.Suites[0].Tests != 4 || suites.Suites[0].Failures < 1 {
			t.Errorf("junit %+v", suites)
		}
	})
	t.Run("pass", func(t *testing.T) {
		code, out, s := replayGate(t, capture, ok.URL, "--threshold", "new_errors:count==0", "--threshold", "errors{route:/missing}:rate==1",
			"--threshold", "latency_ms{region:mars}:p(99)<1,no_data=pass")
		want := exitOK
		if !s.GeneratorKeptUp {
			want = exitBehind
		}
		if code != want || s.Aborted {
			t.Errorf("exit %d (want %d), summary %+v\n%s", code, want, s, out)
		}
	})
}

// junitXML is what a CI system reads of a JUnit file.
type junitXML struct {
	Suites []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitXML {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var j junitXML
	if err := xml.Unmarshal(b, &j); err != nil {
		t.Fatalf("junit: %v\n%s", err, b)
	}
	return j
}

func TestRunExit(t *testing.T) {
	stopped := fmt.Errorf("%w: aborted: x", errStoppedForTest())
	tests := []struct {
		name        string
		err         error
		interrupted bool
		s           report.RunSummary
		want        int
	}{
		// A valid run whose thresholds pass.
		{"pass", nil, false, report.RunSummary{Scheduled: 10, Sent: 10, Completed: 10, GeneratorKeptUp: true}, exitOK},
		// The generator fell behind: invalid, whatever the thresholds say.
		{"behind", nil, false, report.RunSummary{Scheduled: 10, Sent: 10, Completed: 10,
			Thresholds: report.ThresholdResults{{OK: false}}}, exitBehind},
		// Thresholds failed on a valid run.
		{"thresholds", nil, false, report.RunSummary{Scheduled: 10, Sent: 10, Completed: 10, GeneratorKeptUp: true,
			Thresholds: report.ThresholdResults{{OK: true}, {OK: false}}}, exitThresholds},
		// Aborted wins over a generator that fell behind.
		{"aborted", stopped, false, report.RunSummary{Scheduled: 10, Sent: 10, Completed: 10, Aborted: true}, exitAborted},
		// Unreachable wins over aborted: the cause, not the effect.
		{"unreachable", stopped, false, report.RunSummary{Scheduled: 10, Sent: 10, Aborted: true,
			Errors: 10, ErrorsBy: map[string]int64{"connect": 6, "tls": 4}}, exitUnreachable},
		// One answer, even a 500, means the target was reached.
		{"reached", nil, false, report.RunSummary{Scheduled: 10, Sent: 10, Completed: 1, GeneratorKeptUp: true,
			Errors: 10, ErrorsBy: map[string]int64{"connect": 9, "http_5xx": 1}}, exitOK},
		// Ctrl-C wins over everything.
		{"interrupt", stopped, true, report.RunSummary{Scheduled: 10, Sent: 10, Aborted: true, Errors: 10, ErrorsBy: map[string]int64{"connect": 10}}, exitSignal},
		// Nothing scheduled.
		{"empty", nil, false, report.RunSummary{}, exitUsage},
		// Another error of the engine.
		{"error", errors.New("schedule: broken"), false, report.RunSummary{Scheduled: 1, Sent: 1, Completed: 1, GeneratorKeptUp: true}, exitFailure},
	}
	for _, tt := range tests {
		s := tt.s
		s.Settle()
		if got := exitOf(runExit(tt.err, tt.interrupted, &s)); got != tt.want {
			t.Errorf("%s: runExit = %d (verdict %s); want %d", tt.name, got, s.Outcome, tt.want)
		}
	}
}

func errStoppedForTest() error { return replay.ErrStopped }

// TestCohortsAndReportGate replays with a surge time, then gates the
// results file alone with surge report.
func TestCohortsAndReportGate(t *testing.T) {
	capture := tinyCapture(t, 10, 4, 20*time.Millisecond)
	ok := statusServer(t, http.StatusOK)
	results := filepath.Join(t.TempDir(), "results.parquet")
	// Sessions start every 20 ms; at +100ms five have started.
	_, out, s := replayGate(t, capture, ok.URL, "--surge-at", "100ms", "--results", results,
		"--threshold", "latency_ms{cohort:existing}:p(99)<10000")
	c := s.Cohorts
	if c == nil || c.Source != "config" || c.SessionsBefore != 5 || c.SessionsArrived != 5 || len(c.Cohorts) != 3 {
		t.Fatalf("cohorts %+v\n%s", c, out)
	}
	var sent int64
	for _, g := range c.Cohorts {
		sent += g.Sent
	}
	if sent != s.Sent || !strings.Contains(out, "cohorts at the surge") {
		t.Errorf("cohorts sent %d of %d\n%s", sent, s.Sent, out)
	}
	// surge report: the recorded surge, a threshold that fails, exit 4.
	js, _, err := surge(t, "report", "--json", results, "--threshold", "errors:count==0")
	var r gateSummary
	if jerr := json.Unmarshal([]byte(js), &r); jerr != nil {
		t.Fatal(jerr)
	}
	if exitOf(err) != exitThresholds || r.Cohorts == nil || r.Cohorts.SessionsBefore != 5 || len(r.Thresholds) != 1 || r.Thresholds[0].Value != 10 {
		t.Errorf("surge report: exit %d, %+v", exitOf(err), r)
	}
	// Without thresholds or --gate, surge report only prints.
	if _, _, err := surge(t, "report", results); err != nil {
		t.Errorf("surge report without gates: %v", err)
	}
}
