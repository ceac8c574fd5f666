package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/profile"
	"github.com/surge-replay/surge/schema"
)

// writeArrivals writes a capture whose minute m has perMinute[m] sessions,
// each a GET /start at 20 s + k·0.5 s into its minute and a GET /next a
// second later (no session starts within 20 s of a minute's edge).
func writeArrivals(t *testing.T, path string, perMinute []int) {
	t.Helper()
	w, err := eventlog.Create[schema.Exchange](path, eventlog.WriterConfig{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 19, 0, 0, 0, time.UTC)
	var evs []schema.Exchange
	for m, n := range perMinute {
		for k := range n {
			at := t0.Add(time.Duration(m)*time.Minute + 20*time.Second + time.Duration(k)*500*time.Millisecond)
			id := fmt.Sprintf("s_%02d%02d", m, k)
			for i, p := range []string{"/start", "/next"} {
				evs = append(evs, schema.Exchange{Time: at.Add(time.Duration(i) * time.Second), Session: id, User: "u" + id[1:], Seq: int32(i),
					Method: "GET", Scheme: "http", Host: "app.test", Path: p, Protocol: schema.ProtoHTTP11, Source: "test", Status: schema.Int32(200)})
			}
		}
	}
	for i := range evs {
		if err := w.Add(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReplayProfile replays a capture with a flat arrival curve (40 new
// sessions a minute) re-timed to a profile whose curve is not flat: the
// sessions arriving at a loopback target per (sped-up) minute follow the
// profile, not the capture.
func TestReplayProfile(t *testing.T) {
	dir := t.TempDir()
	flat, shaped, prof := filepath.Join(dir, "flat.parquet"), filepath.Join(dir, "shaped.parquet"), filepath.Join(dir, "prof")
	want := []int{5, 30, 10, 40, 15}
	writeArrivals(t, flat, []int{40, 40, 40, 40, 40})
	writeArrivals(t, shaped, want)
	mustSurge(t, "profile", "build", shaped, "-o", prof)

	var mu sync.Mutex
	var starts []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	const speed = 60 // a profile minute is a second
	summary := filepath.Join(dir, "summary.json")
	_, stderr, err := surge(t, "replay", "--from", flat, "--profile", prof, "--target", srv.URL, "--speed", fmt.Sprint(speed),
		"--seed", "5", "--time-resolution", "0", "--progress", "none", "--summary-json", summary)
	// A loaded machine may make the generator late (exit 5): the
	// arrivals below say whether that moved any session.
	if err != nil && !strings.Contains(err.Error(), "generator fell behind") {
		t.Fatalf("replay: %v\n%s", err, stderr)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, b)
	if s.Scheduled != int64(2*sumInts(want)) || s.Sent != s.Scheduled {
		t.Fatalf("scheduled %d, sent %d; want %d: every copied session's two requests", s.Scheduled, s.Sent, 2*sumInts(want))
	}
	// The schedule's offset 0 is the re-timed capture's first event.
	p, err := profile.Load(prof)
	if err != nil {
		t.Fatal(err)
	}
	target, err := profile.TargetOf(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := profile.NewSynthStream(context.Background(), profile.SynthConfig{Capture: []string{flat}, Duration: 5 * time.Minute, Seed: 5}, target)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := st.Span()
	st.Close()
	got := make([]int, len(want))
	for _, at := range starts {
		// Capture time of the arrival, from the run's start and speed.
		capt := first.Add(at.Sub(s.Start) * speed)
		m := int(capt.Sub(target.Start) / time.Minute)
		if m < 0 || m >= len(got) {
			t.Fatalf("a session arrived at %v, minute %d of the profile's %d", at, m, len(got))
		}
		got[m]++
	}
	t.Logf("new sessions per profile minute at the target: %v; profile %v; capture 40 each", got, want)
	// Sessions start 20 s (a third of a second here) from a minute's edge:
	// only a generator that late could move one.
	for m := range want {
		if d := got[m] - want[m]; d < -1 || d > 1 {
			t.Errorf("minute %d: %d sessions arrived at the target; want the profile's %d (the capture had 40)\n%s", m, got[m], want[m], stderr)
		}
	}
	if !strings.Contains(stderr, "re-timed to") {
		t.Errorf("the plan does not say the capture is re-timed:\n%s", stderr)
	}
}

func sumInts(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// TestProfileSynthCommand: surge profile synth writes a capture that
// follows the profile and prints its error; a second run refuses to
// replace it without --force, and bad settings are usage errors naming
// the flag.
func TestProfileSynthCommand(t *testing.T) {
	dir := t.TempDir()
	flat, shaped, prof, out := filepath.Join(dir, "flat.parquet"), filepath.Join(dir, "shaped.parquet"), filepath.Join(dir, "prof"), filepath.Join(dir, "out.parquet")
	writeArrivals(t, flat, []int{40, 40, 40, 40, 40})
	writeArrivals(t, shaped, []int{5, 30, 10, 40, 15})
	mustSurge(t, "profile", "build", shaped, "-o", prof)
	stdout := mustSurge(t, "profile", "synth", prof, "--from", flat, "--duration", "20m", "--scale", "2", "-o", out)
	for _, want := range []string{"synthetic capture  20m0s from 2026-11-21T19:00:00Z, scale 2, seed 1", "arrivals/minute  max 0.00%", "total 800 of 800 wanted", "route mix        max 0.00 pp", "session length   KS 0.0000"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	info, err := eventlog.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Events != 1600 || info.Source != "synth" {
		t.Errorf("%s: %d events from %q; want 1600 (800 sessions of two) from synth", out, info.Events, info.Source)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		// an existing output needs --force
		{[]string{"profile", "synth", prof, "--from", flat, "-o", out}, "--output " + out + ": exists; pass --force"},
		// --from is required
		{[]string{"profile", "synth", prof, "-o", filepath.Join(dir, "x.parquet")}, "--from CAPTURE is required"},
		// a scale of 0 makes nothing
		{[]string{"profile", "synth", prof, "--from", flat, "--scale", "0", "-o", filepath.Join(dir, "x.parquet")}, "--scale 0: want a scale above 0"},
		// not a profile
		{[]string{"profile", "synth", dir, "--from", flat, "-o", filepath.Join(dir, "x.parquet")}, "no profile.yaml"},
	} {
		_, _, err := surge(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("surge %s = %v; want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	mustSurge(t, "profile", "synth", prof, "--from", flat, "-o", out, "--force")
}
