package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape returns the samples of a Prometheus text exposition: "name{labels}"
// (labels as written) → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// sum adds the samples of metric whose labels match re.
func sum(m map[string]float64, metric, re string) float64 {
	rx := regexp.MustCompile("^" + regexp.QuoteMeta(metric) + `(\{.*\})?$`)
	lx := regexp.MustCompile(re)
	var s float64
	for k, v := range m {
		if rx.MatchString(k) && lx.MatchString(k) {
			s += v
		}
	}
	return s
}

func getStatus(url string) (ended bool, err error) {
	resp, err := http.Get(url + "status")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var st struct{ Ended bool }
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st.Ended, err
}

// TestWebMetricsDuringRun scrapes /metrics while surge demo runs and once
// it ended (--web-linger): counts grow during the run and end equal to the
// run's summary; the live page and its event stream serve the charts.
func TestWebMetricsDuringRun(t *testing.T) {
	capture := sampleCapture(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr + "/"
	summary := filepath.Join(dir, "summary.json")
	errc := make(chan error, 1)
	go func() {
		_, stderr, err := surge(t, "demo", "--from", capture, "--to", "+8m", "--ratio", "1", "--speed", "60", "--progress", "none",
			"--summary-json", summary, "--web", addr, "--web-linger", "20s")
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, stderr)
		}
		errc <- err
	}()
	// Mid-run: metrics that have counted something, and a run not ended.
	var mid map[string]float64
	deadline := time.Now().Add(2 * time.Minute)
	for mid == nil && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		ended, err := getStatus(base)
		if err != nil {
			continue // not listening yet
		}
		if ended {
			t.Fatal("the run ended before a scrape saw it running")
		}
		if m := scrape(t, base+"metrics"); sum(m, "surge_requests_sent_total", "") > 0 {
			mid = m
		}
	}
	if mid == nil {
		t.Fatal("no scrape during the run counted a sent request")
	}
	page := get(t, base)
	if !strings.Contains(page, `data-live="1"`) || strings.Count(page, `<svg class="chart"`) != 7 {
		t.Errorf("live page: no live marker or not 7 charts")
	}
	ev := firstEvent(t, base+"events")
	var u struct{ Charts map[string]string }
	if err := json.Unmarshal([]byte(ev), &u); err != nil || len(u.Charts) != 7 {
		t.Errorf("first event: %d charts, err %v", len(u.Charts), err)
	}
	// Ended: the final scrape equals the summary.
	for time.Now().Before(deadline) {
		if ended, err := getStatus(base); err == nil && ended {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	final := scrape(t, base+"metrics")
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, b)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"scheduled", sum(final, "surge_requests_scheduled_total", ""), float64(s.Scheduled)},
		{"sent", sum(final, "surge_requests_sent_total", ""), float64(s.Sent)},
		{"dropped", sum(final, "surge_requests_dropped_total", ""), float64(s.Dropped)},
		{"latency count", sum(final, "surge_request_latency_seconds_count", ""), float64(s.Sent)},
		{"ratio", sum(final, "surge_ratio", ""), 1},
		{"mid-run sent <= final", sum(mid, "surge_requests_sent_total", ""), min(sum(mid, "surge_requests_sent_total", ""), float64(s.Sent))},
	} {
		if c.got != c.want {
			t.Errorf("%s = %g; want %g", c.name, c.got, c.want)
		}
	}
	var errs float64
	for class, n := range s.ErrorsBy {
		errs += float64(n)
		if got := sum(final, "surge_request_errors_total", `class="`+class+`"`); got != float64(n) {
			t.Errorf("errors of class %s = %g; want %d", class, got, n)
		}
	}
	if got := sum(final, "surge_request_errors_total", ""); got != errs {
		t.Errorf("errors = %g; want %g", got, errs)
	}
	if sum(mid, "surge_requests_sent_total", "") >= float64(s.Sent) {
		t.Errorf("mid-run scrape sent %g, not below the final %d: it was not mid-run", sum(mid, "surge_requests_sent_total", ""), s.Sent)
	}
	// A stop after the run ended ends the linger.
	req, _ := http.NewRequest("POST", base+"control/stop", nil)
	for _, c := range []struct {
		header string
		want   int
	}{{"", http.StatusForbidden}, {"1", http.StatusAccepted}} {
		req.Header.Set("X-Surge-Control", c.header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("stop with X-Surge-Control %q: %s; want %d", c.header, resp.Status, c.want)
		}
	}
	if err := unlessBehind(<-errc); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// firstEvent returns the data of the first event of a server-sent event
// stream.
func firstEvent(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return d
		}
	}
	t.Fatalf("events: no data (%v)", sc.Err())
	return ""
}

// stopRun posts the live view's stop control.
func stopRun(t *testing.T, base string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"control/stop", nil)
	req.Header.Set("X-Surge-Control", "1")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
}
