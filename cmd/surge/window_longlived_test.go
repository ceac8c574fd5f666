package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
)

// TestWindowLeavesOutLongLivedStarts: the nginx 101 field case holds a
// WebSocket whose start (05:02:56) lies 6.8 hours before the log's ten
// seconds of requests. The default replay window starts where surge
// inspect says the capture starts, at the first request, so the replay
// does not wait hours for nothing.
func TestWindowLeavesOutLongLivedStarts(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	out := filepath.Join(t.TempDir(), "ws.parquet")
	base := fieldCases + "nginx-websocket-101-long-request-time"
	if _, stderr, err := surge(t, "import", "nginx", "--log-format", "@"+base+".format", base+".log", "-o", out); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	first, last, err := captureRange([]string{out})
	if err != nil {
		t.Fatal(err)
	}
	wantFirst := time.Date(2017, 2, 3, 11, 49, 19, 980e6, time.UTC)
	wantLast := time.Date(2017, 2, 3, 11, 49, 29, 969e6, time.UTC)
	if !first.Equal(wantFirst) || !last.Equal(wantLast) {
		t.Errorf("captureRange = %s .. %s; want %s .. %s (the requests, not the WebSocket's start)", first, last, wantFirst, wantLast)
	}
	stdout, _, err := surge(t, "inspect", out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "2017-02-03T11:49:19.980Z .. 2017-02-03T11:49:29.969Z (9.989s)"; !strings.Contains(stdout, want) {
		t.Errorf("inspect output lacks %q:\n%s", want, stdout)
	}
	stdout, stderr, err := surge(t, "replay", "--from", out, "--target", "http://127.0.0.1:9", "--dry-run")
	if err != nil {
		t.Fatalf("replay --dry-run: %v\n%s", err, stderr)
	}
	// The log's resolution is 1 s: the window's last second counts whole
	// (the requests of an instant are spread over it).
	for _, want := range []string{"window    2017-02-03T11:49:19.98Z to ", "duration  10.989s"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("replay --dry-run output lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
}

// TestKafkaWindowLeavesOutLongLivedStarts: the same for a capture topic.
func TestKafkaWindowLeavesOutLongLivedStarts(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	topic := kafkatest.Topic(t, brokers, 2, "").String()
	base := fieldCases + "nginx-websocket-101-long-request-time"
	if _, stderr, err := surge(t, "import", "nginx", "--log-format", "@"+base+".format", base+".log", "-o", topic); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	stdout, stderr, err := surge(t, "replay", "--from", topic, "--target", "http://127.0.0.1:9", "--dry-run")
	if err != nil {
		t.Fatalf("replay --dry-run: %v\n%s", err, stderr)
	}
	if want := "window    2017-02-03T11:49:19.98Z to "; !strings.Contains(stdout+stderr, want) {
		t.Errorf("replay --dry-run output lacks %q:\n%s%s", want, stdout, stderr)
	}
}
