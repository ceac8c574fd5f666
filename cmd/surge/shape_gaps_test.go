package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
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

// TestShapeConfigErrorLines: every error of a shape block names the file,
// the line and the key, suggests the nearest key, and exits 2 (usage),
// never with the decoder's own words ("json: unknown field", "Go struct
// field").
func TestShapeConfigErrorLines(t *testing.T) {
	capture := sampleCapture(t)
	tests := []struct {
		yaml string
		want []string
	}{
		// An unknown key at the top, with the nearest known one.
		{"shape:\n  ratioz: 3\n", []string{`c.yaml:2: shape.ratioz: unknown key (did you mean "ratio"?)`}},
		// An unknown key inside a list item, and a wrong type.
		{"shape:\n  ratios:\n    - name: live\n      match: \"path=/live/**\"\n      ratio: \"ten\"\n      curvs: []\n", []string{
			`c.yaml:5: shape.ratios[0].ratio: "ten" is a string; want a number`,
			`c.yaml:6: shape.ratios[0].curvs: unknown key (did you mean "curves"?)`}},
		// A duration that is not one; a list where a mapping belongs.
		{"shape:\n  exits:\n    - {at: \"+1m\", fraction: 0.2, within: soon}\n  content: [a]\n", []string{
			`c.yaml:3: shape.exits[0].within: "soon" is not a duration`, `c.yaml:4: shape.content: found a list; want a mapping of pattern, ids, file`}},
		// An exit to a set the config does not have (and no sessions).
		{"shape:\n  exits:\n    - {at: \"+1m\", fraction: 0.2, to: nohome}\n", []string{
			`c.yaml:3: shape.exits[0].to: no session set "nohome": the run has no sessions: block`}},
		// An exit to a set and a class near known ones; a fraction over 1.
		{"shape:\n  ratios: [{name: live, match: \"path=/live/**\", ratio: 2}]\n  sessions:\n    home: {match: \"path=/api/v1/home\"}\n  exits:\n    - {at: \"+1m\", fraction: 1.5, class: lvie, to: nohome}\n", []string{
			`c.yaml:6: shape.exits[0].fraction: 1.5 is not between 0 and 1`,
			`c.yaml:6: shape.exits[0].to: no session set "nohome" (did you mean "home"?) (sets: home)`,
			`c.yaml:6: shape.exits[0].class: no class "lvie" (did you mean "live"?) (classes: live, default, home)`}},
		// Points in order against the stand-in start but not against the
		// capture's (19:44:59Z): said when the window start is known.
		{"shape:\n  curves: [{step: [{at: \"+30m\", value: 2}, {at: \"20:00:00Z\", value: 3}]}]\n", []string{
			`shape.curves[0]: step: point 2 (at "20:00:00Z") is not after point 1 (at "+30m", 30m0s after the window start)`}},
		// A region mix's bad weight: at config time, with its line.
		{"shape:\n  regions: {mix: {eu: -1, us: 2}}\n", []string{`c.yaml:2: shape.regions: mix: eu: weight -1: want a positive number`}},
		// A set no recorded session starts as: the exit would start nothing.
		{"shape:\n  sessions:\n    home: {match: \"path=/nowhere\"}\n  exits:\n    - {at: \"+1m\", fraction: 0.2, to: home}\n", []string{
			`shape.sessions.home: no recorded session of the window starts with a request matching path=/nowhere`}},
	}
	for _, tt := range tests {
		_, _, err := surgeConfigOnly(t, capture, tt.yaml)
		if err == nil {
			t.Errorf("config %q: nil error; want %q", tt.yaml, tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("config %q: error\n%v\nwant it to say %q", tt.yaml, err, w)
			}
		}
		for _, leak := range []string{"json:", "Go struct", "shaper: "} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("config %q: error %v says %q: the decoder's words, not the user's", tt.yaml, err, leak)
			}
		}
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("config %q: error %#v; want exit %d (usage)", tt.yaml, err, exitUsage)
		}
	}
}

// TestUnmatchedClassWarning: a class whose rules match no recorded session
// of the window is warned of (and counted) in the plan.
func TestUnmatchedClassWarning(t *testing.T) {
	capture := sampleCapture(t)
	_, errs, err := surge(t, "replay", "--from", capture, "--window-to", "2m", "--target", "http://127.0.0.1:9", "--dry-run",
		"--ratio-for", "path=/lvie/**:10", "--ratio-for", "device=tv:2", "--ratio-for", "region=mars:3")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, errs)
	}
	want := "warning: 2 classes matched no recorded session of the window: a rule that matches nothing reshapes nothing:\n  path=/lvie/**\n  region=mars\n"
	if !strings.Contains(errs, want) {
		t.Errorf("dry run lacks %q:\n%s", want, errs)
	}
}

// TestLiveRatioReported: a ratio changed while the run runs moves the
// surge_ratio gauge, and the report's header shows the start ratio, the
// change, the final and the largest ratio (text, JSON and surge report).
func TestLiveRatioReported(t *testing.T) {
	capture := flatCapture(t, 20, 3*time.Second)
	srv := httptest.NewServer(&arrivals{})
	defer srv.Close()
	ctlAddr, webAddr := freeAddr(t), freeAddr(t)
	results := filepath.Join(t.TempDir(), "results.parquet")
	summary := filepath.Join(t.TempDir(), "summary.json")
	type out struct {
		stdout, stderr string
		err            error
	}
	done := make(chan out, 1)
	go func() {
		o, e, err := surge(t, "replay", "--from", capture, "--target", srv.URL, "--control", ctlAddr, "--web", webAddr,
			"--web-linger", "0s", "--progress", "none", "--spread=0", "--results", results, "--summary-json", summary)
		done <- out{o, e, err}
	}()
	gauge := func() string {
		resp, err := http.Get("http://" + webAddr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`(?m)^surge_ratio (\S+)$`).FindStringSubmatch(string(b))
		if m == nil {
			return ""
		}
		return m[1]
	}
	for deadline := time.Now().Add(10 * time.Second); gauge() != "1"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("surge_ratio never read 1 (got %q)", gauge())
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, _, err := surge(t, "ctl", "--addr", "http://"+ctlAddr, "set", "ratio=3"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the control API never took the change")
		}
	}
	if g := gauge(); g != "3" {
		t.Errorf("surge_ratio = %q after the ratio went to 3; want 3", g)
	}
	// The running page's header shows the change too.
	if resp, err := http.Get("http://" + webAddr + "/"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "1x, then 3x at ") {
			t.Errorf("the live page's header lacks the ratio change")
		}
	} else {
		t.Errorf("live page: %v", err)
	}
	var o out
	select {
	case o = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the replay did not end")
	}
	if o.err != nil && !strings.Contains(o.err.Error(), "generator fell behind") {
		t.Fatalf("replay: %v\n%s", o.err, o.stderr)
	}
	header := regexp.MustCompile(`ratio 1x, then 3x at \+[0-9.]+m?s \(ctl\): final 3x, max 3x`)
	if !header.MatchString(o.stdout) {
		t.Errorf("the report's header lacks the ratio change:\n%s", o.stdout)
	}
	if b, err := os.ReadFile(summary); err != nil || !strings.Contains(string(b), `"ratio_changes": [`) {
		t.Errorf("summary JSON lacks ratio_changes (%v):\n%s", err, b)
	}
	rep, _, err := surge(t, "report", results)
	if err != nil || !header.MatchString(rep) {
		t.Errorf("surge report %s: %v; its header lacks the ratio change:\n%s", results, err, rep)
	}
}

// TestProtocolClassFromKafka: a class rule on protocol matches when the
// capture is replayed from a Kafka topic (its records carry the protocol).
func TestProtocolClassFromKafka(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	capture := kafkatest.Topic(t, brokers, 2, "")
	kafkatest.Produce(t, capture, 0, 60) // HTTP/1.1 every one
	_, errs, err := surge(t, "replay", "--from", capture.String(), "--target", "http://127.0.0.1:9", "--dry-run",
		"--ratio-for", "protocol=HTTP/1.1:2", "--ratio-for", "protocol=HTTP/2:3")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, errs)
	}
	got := classRequests(t, errs)
	if got["protocol=HTTP/1.1"] != 120 || got["default"] != 0 {
		t.Errorf("classes %v; want the 60 HTTP/1.1 requests at 2x in their class\n%s", got, errs)
	}
	if !strings.Contains(errs, "warning: 1 class matched no recorded session of the window") || !strings.Contains(errs, "  protocol=HTTP/2\n") {
		t.Errorf("dry run does not warn of the HTTP/2 class, which matches nothing:\n%s", errs)
	}
}
