package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// classRequests returns the dry run's requests per class line.
func classRequests(t *testing.T, out string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^class +\S+ (.+) \(([0-9,]+) requests`).FindAllStringSubmatch(out, -1) {
		n, err := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
		if err != nil {
			t.Fatal(err)
		}
		got[m[1]] = n
	}
	return got
}

// TestProtocolClassFromParquet: a class rule on protocol matches when the
// capture is replayed from Parquet (the RequestLine projection carries the
// protocol). The sample has HTTP/1.1 and HTTP/2 requests.
func TestProtocolClassFromParquet(t *testing.T) {
	capture := sampleCapture(t)
	_, errs, err := surge(t, "replay", "--from", capture, "--window-to", "2m", "--target", "http://127.0.0.1:9", "--dry-run",
		"--ratio-for", "protocol=HTTP/2:2", "--ratio-for", "protocol=HTTP/1.1:1")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, errs)
	}
	got := classRequests(t, errs)
	for _, class := range []string{"protocol=HTTP/2", "protocol=HTTP/1.1"} {
		if got[class] == 0 {
			t.Errorf("class %s: %d requests; want some (classes %v)\n%s", class, got[class], got, errs)
		}
	}
	if got["default"] != 0 {
		t.Errorf("default class: %d requests; want 0: every request is HTTP/1.1 or HTTP/2", got["default"])
	}
}
