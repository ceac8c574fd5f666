package profile

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// TestSynth24hFromSample synthesizes a day from the 30-minute sample
// against the sample's own profile and checks, from the written file (not
// the report), that new sessions per minute, the route mix and session
// lengths follow the profile, and that every session is a recorded one
// moved in time under new ids.
func TestSynth24hFromSample(t *testing.T) {
	capturePath := synthSample(t)
	ctx := context.Background()
	target, err := CaptureTarget(ctx, []string{capturePath}, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "day.parquet")
	began := time.Now()
	rep, err := Synth(ctx, SynthConfig{Capture: []string{capturePath}, Duration: 24 * time.Hour, Seed: 7}, target, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("synth of 24h: %v, %d sessions, %d events", time.Since(began), rep.Sessions, rep.Events)
	var b strings.Builder
	rep.WriteText(&b)
	t.Log("\n" + b.String())

	// The report's own error is within the bounds...
	if rep.ArrivalMaxErr > 0.03 || rep.RouteMaxPP > 1 || rep.LengthKS >= 0.05 {
		t.Errorf("report: arrivals max error %.4f, route mix %.3f pp, length KS %.4f; want ≤ 0.03, ≤ 1, < 0.05", rep.ArrivalMaxErr, rep.RouteMaxPP, rep.LengthKS)
	}
	// ...and so is the file's, measured here on its own.
	recorded, _ := fingerprints(t, capturePath)
	known := map[uint64]bool{}
	for _, p := range recorded {
		known[p] = true
	}
	synth, firsts := fingerprints(t, out)
	if len(synth) != int(rep.Sessions) {
		t.Errorf("file has %d sessions; report says %d", len(synth), rep.Sessions)
	}
	for id, p := range synth {
		if !known[p] {
			t.Fatalf("session %s (first request at %s) equals no recorded session", id, firsts[id])
		}
		if _, ok := recorded[id]; ok {
			t.Fatalf("session %s keeps a recorded session's id", id)
		}
	}
	steps := int(24 * time.Hour / time.Minute)
	got := make([]float64, steps)
	for _, f := range firsts {
		m := int(f.Sub(target.Start) / time.Minute)
		if m < 0 || m >= steps {
			t.Fatalf("a session arrives at %s, outside the day from %s", f, target.Start)
		}
		got[m]++
	}
	for m := range steps {
		want := target.Arrivals[m%len(target.Arrivals)]
		if math.Abs(got[m]-want) > 0.03*want {
			t.Fatalf("minute %d (%s): %v new sessions; want %v ± 3%%", m, target.Start.Add(time.Duration(m)*time.Minute).Format("15:04"), got[m], want)
		}
	}
	routes := routeMix(t, out)
	for g, want := range target.Routes {
		if d := 100 * math.Abs(routes[g]-want); d > 1 {
			t.Errorf("route %s: %.2f%% of requests; want %.2f%% ± 1 pp", g, 100*routes[g], 100*want)
		}
	}
	if rep.Copied < rep.Recorded*9/10 {
		t.Errorf("copied %d of %d recorded sessions; a day from a sample should use nearly all", rep.Copied, rep.Recorded)
	}
}

// routeMix returns the share of requests per route group of a capture.
func routeMix(t testing.TB, path string) map[string]float64 {
	t.Helper()
	rd, err := eventlog.Open[schema.RequestLine]([]string{path}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	mix := map[string]float64{}
	var n float64
	for {
		l, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		mix[report.RouteGroup(l.Method, l.Path)]++
		n++
	}
	normalize(mix)
	return mix
}
