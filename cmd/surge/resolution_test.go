package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOneSecondLogIsSpreadAtReplay: a combined log (one-second times) with
// 100 requests in each of two seconds is recorded at import as a 1s
// resolution (inspect says so); at replay each second's requests are spread
// evenly over it, ~10 ms apart, in session order, and a --max-rps cap above
// the real rate drops nothing. With --time-resolution 0 the same log leaves
// in two bursts.
func TestOneSecondLogIsSpreadAtReplay(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	dir := t.TempDir()
	var log strings.Builder
	for sec := range 2 {
		for i := range 100 {
			// 10 clients (sessions by address and agent), 10 requests each
			fmt.Fprintf(&log, "192.0.2.%d - - [10/Oct/2026:13:55:%02d +0000] \"GET /r?sec=%d&i=%02d HTTP/1.1\" 200 2 \"-\" \"agent\"\n", i%10+1, 36+sec, sec, i)
		}
	}
	logPath, capture := filepath.Join(dir, "access.log"), filepath.Join(dir, "c.parquet")
	if err := os.WriteFile(logPath, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustSurge(t, "import", "combined", logPath, "-o", capture)
	if s := inspectJSON(t, dir, capture); !strings.Contains(string(s), `"time_resolution": "1s"`) {
		t.Fatalf("inspect does not give the 1s resolution:\n%s", s)
	}
	if text := mustSurge(t, "inspect", capture); !strings.Contains(text, "time resolution  1s") {
		t.Errorf("inspect text does not give the resolution:\n%s", text)
	}

	type arrival struct {
		at     time.Time
		target string
	}
	var mu sync.Mutex
	var got []arrival
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, arrival{time.Now(), r.RequestURI})
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()

	run := func(resolution string) ([]arrival, summaryFacts) {
		mu.Lock()
		got = nil
		mu.Unlock()
		summary := filepath.Join(t.TempDir(), "s.json")
		_, errs, err := surge(t, "replay", "--from", capture, "--target", srv.URL, "--max-rps", "150",
			"--time-resolution", resolution, "--progress", "none", "--summary-json", summary)
		// A loaded machine may make the generator late; that verdict does
		// not change what is checked here.
		if ee := (*exitError)(nil); errors.As(err, &ee) && ee.code == exitBehind {
			err = nil
		}
		if err != nil {
			out, _ := os.ReadFile(summary)
			t.Fatalf("replay: %v\n%s\n%s", err, errs, out)
		}
		b, err := os.ReadFile(summary)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		a := slices.Clone(got)
		slices.SortFunc(a, func(x, y arrival) int { return x.at.Compare(y.at) })
		return a, readSummary(t, b)
	}

	a, s := run("auto")
	if s.Scheduled != 200 || s.Sent != 200 || s.Dropped != 0 || len(a) != 200 {
		t.Fatalf("spread: scheduled %d, sent %d, dropped %d, target saw %d; want 200 sent, none dropped", s.Scheduled, s.Sent, s.Dropped, len(a))
	}
	// ~10 ms gaps: the median gap between arrivals, and no 50 ms holding
	// more than a fraction of a second's requests (a burst holds 100; a
	// stall of the loaded machine may send a few dozen together).
	gaps := make([]time.Duration, 0, len(a)-1)
	for i := 1; i < len(a); i++ {
		gaps = append(gaps, a[i].at.Sub(a[i-1].at))
	}
	slices.Sort(gaps)
	if med := gaps[len(gaps)/2]; med < 5*time.Millisecond || med > 15*time.Millisecond {
		t.Errorf("median gap between arrivals %v; want ~10ms", med)
	}
	if n := busiest(a, 50*time.Millisecond, func(x arrival) time.Time { return x.at }); n > 40 {
		t.Errorf("%d requests arrived within 50ms; want them spread ~10ms apart", n)
	}
	// Session order: each client's requests arrive in recorded order.
	last := map[string]string{}
	for _, x := range a {
		var sec, i int
		fmt.Sscanf(x.target, "/r?sec=%d&i=%d", &sec, &i)
		client := fmt.Sprint(i % 10)
		key := fmt.Sprintf("%d-%02d", sec, i)
		if prev, ok := last[client]; ok && prev > key {
			t.Errorf("client %s: %s arrived after %s", client, key, prev)
		}
		last[client] = key
	}

	b, s := run("0")
	if s.Sent != 200 || s.Dropped != 0 {
		t.Errorf("exact times: sent %d, dropped %d; want 200 and 0 (100 at one instant is within a 150/s cap)", s.Sent, s.Dropped)
	}
	if n := busiest(b, 50*time.Millisecond, func(x arrival) time.Time { return x.at }); n < 60 {
		t.Errorf("exact times: busiest 50ms held %d requests; want a burst (~100)", n)
	}
}

// busiest returns the most items whose time falls within one window d.
func busiest[T any](items []T, d time.Duration, at func(T) time.Time) int {
	best, j := 0, 0
	for i := range items {
		for at(items[i]).Sub(at(items[j])) > d {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// TestTruncatedBodiesNamedAtImport: the truncated-body field case (two
// uploads kept in part) is counted and named when imported, and
// surge inspect counts and names it too.
func TestTruncatedBodiesNamedAtImport(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	dir := t.TempDir()
	out := filepath.Join(dir, "c.parquet")
	in := "../../replay/testdata/field-cases/truncated-body/capture.jsonl"
	_, errs, err := surge(t, "import", "jsonl", in, "-o", out)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, errs)
	}
	if !strings.Contains(errs, "2 requests with a body kept in part: replay skips them (dropped_truncated) unless --send-truncated") ||
		!strings.Contains(errs, "65536 of 121791 bytes") {
		t.Errorf("import does not count and name the truncated body:\n%s", errs)
	}
	if js := inspectJSON(t, dir, out); !strings.Contains(string(js), `"truncated_bodies": 2`) {
		t.Errorf("inspect --json does not count it:\n%s", js)
	}
	text := mustSurge(t, "inspect", out)
	for _, want := range []string{"truncated bodies  2 events with a body kept in part", "import: 2 requests with a body kept in part", "PUT /upload: body kept in part, 1000 of 100000 bytes", "capture.jsonl:"} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect text lacks %q:\n%s", want, text)
		}
	}
}
