package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/fleet"
)

// fleetTopics returns control and results topics of the test's own, and
// starts n in-process agents on them.
func fleetTopics(t *testing.T, brokers []string, n int) fleet.Topics {
	var b [4]byte
	rand.Read(b[:])
	sfx := hex.EncodeToString(b[:])
	tp := fleet.Topics{Brokers: brokers, Control: "run-control-" + sfx, Results: "run-results-" + sfx}
	ctx, cancel := context.WithCancel(context.Background())
	if err := tp.Ensure(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range n {
		a, err := fleet.NewAgent(fleet.AgentConfig{Topics: tp, Group: "run-test", ID: fmt.Sprintf("agent-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		for _, name := range []string{tp.Control, tp.Results} {
			_ = kafkalog.DeleteTopic(context.Background(), kafkalog.Addr{Brokers: brokers, Topic: name})
		}
	})
	return tp
}

// exitCode is the exit code surge would end with for err.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

// TestRunStartThresholds runs fleet runs through `surge run start --wait`
// with thresholds: they are evaluated on the merged results of two agents
// (a count only the sum of both meets), a failed one exits 4 and lands in
// the JUnit file, and an abort_on_fail threshold that fails stops the run
// (exit 3) before its end.
func TestRunStartThresholds(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	capture := kafkatest.Topic(t, brokers, 6, "")
	const events = 300 // 2.1 s of capture, 7 ms apart
	kafkatest.Produce(t, capture, 0, events)
	tp := fleetTopics(t, brokers, 2)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(target.Close)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	t.Cleanup(bad.Close)

	start := func(run, url string, extra ...string) (*fleet.FleetReport, error) {
		args := append([]string{"run", "start", "--brokers", strings.Join(brokers, ","),
			"--control-topic", tp.Control, "--results-topic", tp.Results, "--run", run,
			"--from", capture.String(), "--speed", "1", "--spread", "100ms", "--start-at", "+8s",
			"--target", url, "--wait", "--json"}, extra...)
		out, errs, err := surge(t, args...)
		_, js, _ := strings.Cut(out, "\n") // the run id, then the report
		var fr fleet.FleetReport
		if jerr := json.Unmarshal([]byte(js), &fr); jerr != nil {
			t.Fatalf("surge %s: %v: report: %v\n%s\n%s", strings.Join(args, " "), err, jerr, out, errs)
		}
		return &fr, err
	}

	junit := filepath.Join(t.TempDir(), "junit.xml")
	fr, err := start("run-gate", target.URL,
		"--threshold", fmt.Sprintf("latency_ms:count==%d", events), // only the two agents' sum
		"--threshold", "errors:rate<0.01",
		"--threshold", "latency_ms:max<0.001", // fails: no loopback answer takes 1 µs
		"--junit", junit)
	// Exit 4, as surge replay: unless the generator fell behind (p99
	// lateness over 5 ms, which a loaded 2-core machine running the agents
	// in the test's process does cause), which comes first (exit 5), as
	// in surge replay. TestMergeThresholds checks the verdict alone.
	switch code := exitCode(err); {
	case code == exitBehind && !fr.Summary.GeneratorKeptUp:
		t.Logf("exit 5: the generator fell behind (lateness p99 %.1f ms), which precedes the thresholds' exit 4", fr.Summary.Lateness.P99)
	case code != exitThresholds:
		t.Errorf("run start --wait with a failing threshold: exit %d (%v); want %d", code, err, exitThresholds)
	}
	ths := fr.Summary.Thresholds
	t.Logf("thresholds on %d agents' merged results: %v", len(fr.Agents), ths)
	if len(ths) != 3 || !ths[0].OK || ths[0].Value != events || !ths[1].OK || ths[2].OK {
		t.Errorf("thresholds = %+v; want count==%d and the error rate passing, max<0.001 failing", ths, events)
	}
	var busy int
	for _, a := range fr.Agents {
		if a.Summary.Scheduled > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Errorf("%d of %d agents sent requests; the test wants the thresholds merged from two", busy, len(fr.Agents))
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, "max&lt;0.001") || strings.Count(s, `type="threshold"`) != 1 {
		t.Errorf("junit file: want one threshold failure, the max threshold:\n%s", s)
	}

	// abort_on_fail: every request fails, so the run stops at once.
	fr, err = start("run-abort", bad.URL, "--threshold", "errors:rate<0.5,abort_on_fail")
	if code := exitCode(err); code != exitAborted {
		t.Errorf("run start --wait with a failing abort_on_fail threshold: exit %d (%v); want %d", code, err, exitAborted)
	}
	t.Logf("abort: %s; scheduled %d of %d", fr.Summary.AbortReason, fr.Summary.Scheduled, events)
	if !fr.Summary.Aborted || !strings.Contains(fr.Summary.AbortReason, "errors") {
		t.Errorf("report: aborted %v (%q); want aborted by the errors threshold", fr.Summary.Aborted, fr.Summary.AbortReason)
	}
	if fr.Summary.Scheduled >= events {
		t.Errorf("aborted run scheduled %d; want fewer than the %d of the whole window", fr.Summary.Scheduled, events)
	}

	// Usage: --junit without --wait, and a cohort tag (no surge time in a fleet).
	_, _, err = surge(t, "run", "start", "--brokers", strings.Join(brokers, ","), "--control-topic", tp.Control,
		"--results-topic", tp.Results, "--from", capture.String(), "--target", target.URL, "--junit", junit)
	if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), "--junit") {
		t.Errorf("--junit without --wait: exit %d (%v); want usage", code, err)
	}
	_, _, err = surge(t, "run", "start", "--brokers", strings.Join(brokers, ","), "--control-topic", tp.Control,
		"--results-topic", tp.Results, "--from", capture.String(), "--target", target.URL,
		"--threshold", "latency_ms{cohort:arrived}:p(99)<5")
	if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), "cohort") {
		t.Errorf("a cohort threshold: exit %d (%v); want usage naming the cohort tag", code, err)
	}
}
