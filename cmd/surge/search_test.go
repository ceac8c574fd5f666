package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/demo"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// searchCapture writes a capture of n searches, one a session, rate a
// second apart evenly, to dir.
func searchCapture(t *testing.T, dir string, n int, rate float64) string {
	t.Helper()
	path := filepath.Join(dir, "search.parquet")
	w, err := eventlog.Create[schema.Exchange](path, eventlog.WriterConfig{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)
	for i := range n {
		e := schema.Exchange{
			Time: t0.Add(time.Duration(float64(i) / rate * float64(time.Second))), Session: fmt.Sprintf("s_%d", i),
			Method: "GET", Scheme: "http", Host: "streamco.test", Path: "/api/v1/search", Query: "q=final",
			Headers: []schema.Header{{Name: "Authorization", Value: "Bearer t"}}, Status: schema.Int32(200),
			Protocol: schema.ProtoHTTP11, Source: "test",
		}
		if err := w.Add(&e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCapacitySearchFindsTheDemoKnee searches the capacity of surge demo's
// platform for a capture of searches alone. The platform serves a search
// in s0 = 40–120 ms (80 ms on average, 80.8 with its 1-in-200 slow ones),
// stretched by 1 + 2u² at utilization u = in service / capacity, with a
// capacity of 4 × speed × 0.6 at once (scaledCapacity): at speed 4, C = 10.
// In steady state the number in service L = λ·s0·(1 + 2(L/C)²) has a
// solution only while a = λ·s0/C ≤ 1/√8: beyond, service slows faster
// than it drains and the queue (500 ms, then 503) fills. The capture holds
// 6.25 searches a second, 25 a second at speed 4, so the configured knee
// is at ratio C/(√8·s0·25) ≈ 1.75x; the search must find it within one
// step (0.5x).
func TestCapacitySearchFindsTheDemoKnee(t *testing.T) {
	const speed, rate, step = 4.0, 6.25, 0.5
	searchCap := scaledCapacity(speed)["search"]
	knee := float64(searchCap) / (math.Sqrt(8) * 0.0808 * rate * speed)
	if searchCap != 10 || demo.DefaultCapacity()["search"] != 4 {
		t.Fatalf("demo search capacity %d (default %d): the test's arithmetic is out of date", searchCap, demo.DefaultCapacity()["search"])
	}
	dir := t.TempDir()
	capture := searchCapture(t, dir, int(rate*12), rate) // 12 s: 3 s a pass at speed 4
	out := filepath.Join(dir, "search.json")
	start := time.Now()
	_, stderr, err := surge(t, "demo", "--from", capture, "--speed", fmt.Sprint(speed), "--progress", "none",
		"--search-capacity", "--slo", "p(99)<500ms", "--slo", "errors<1%", "--projected", "10",
		"--search-from", "1.25", "--search-step", fmt.Sprint(step), "--search-max", "5", "--search-resolution", "0.125",
		"--search-max-lateness", "250ms", // a loaded CI machine; the SLO is 500 ms
		"--summary-json", out)
	t.Logf("search took %s\n%s", time.Since(start).Round(time.Second), stderr)
	// The demo's default clone jitter (2 s) would start most clones late
	// in a 3 s pass: the search caps it to a tenth of the pass.
	if !regexp.MustCompile(`clone start jitter 2s capped to 29\dms, a tenth of a 2.9\d*s pass`).MatchString(stderr) {
		t.Errorf("the search does not cap the default spread to its 3 s passes:\n%s", stderr)
	}
	b, rerr := os.ReadFile(out)
	if err != nil && (rerr != nil || !strings.Contains(string(b), `"generator_bound": true`)) {
		t.Fatal(err)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	var res struct {
		Answer         string
		Knee           float64
		FirstBreach    float64 `json:"first_breach"`
		GeneratorBound bool    `json:"generator_bound"`
		Steps          []struct{ Ratio float64 }
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.GeneratorBound {
		// The search did what it must (stopped, said so, exit 5), but
		// the knee was not measured: say so loudly.
		t.Skipf("SKIPPED, KNEE NOT CHECKED: the generator fell behind on this (loaded) machine: %s", res.Answer)
	}
	if math.Abs(res.Knee-knee) > step || res.FirstBreach <= res.Knee {
		t.Errorf("knee %gx, first breach %gx; want within %gx of the configured %gx\n%s", res.Knee, res.FirstBreach, step, knee, b)
	}
	if !strings.HasPrefix(res.Answer, fmt.Sprintf("holds %gx of the recorded traffic (", res.Knee)) || !strings.Contains(res.Answer, "GET /api/v1/search") {
		t.Errorf("answer %q", res.Answer)
	}
}
