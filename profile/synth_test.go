package profile

import (
	"bytes"
	"context"
	"fmt"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSynthPlan24h draws the copies of a day from the 30-minute sample
// against the sample's own profile, at scales 1 and 1.5, and checks what
// they make (from the recorded sessions' summaries: what Synth writes,
// which TestSynth24hFromSample and TestSynthFile check on the file): new
// sessions per minute within 3%, route mix within 1 pp, session-length KS
// below 0.05, nearly every recorded session used.
func TestSynthPlan24h(t *testing.T) {
	capturePath := synthSample(t)
	ctx := context.Background()
	target := sampleTarget(t, capturePath)
	p, err := scanPool(ctx, []string{capturePath}, target, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.reweight(target)
	for _, tc := range []struct {
		name  string
		scale float64
		seed  uint64
	}{
		{"scale 1", 1, 1},     // each minute copies its recorded sessions once, in a new order
		{"scale 1.5", 1.5, 2}, // half the sessions twice: fractional counts carried
		{"scale 0.4", 0.4, 3}, // fewer than recorded: weights choose
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := predict(p, target, newPlanner(p, target, tc.seed, tc.scale, target.Start, 24*time.Hour))
			var b strings.Builder
			rep.WriteText(&b)
			t.Log("\n" + b.String())
			var want float64
			for m := range rep.Arrivals {
				w := tc.scale * target.Arrivals[m%len(target.Arrivals)]
				want += w
				// A fractional count rounds to a whole one, the
				// remainder carried to the next minute: under one
				// session of error.
				if d := math.Abs(float64(rep.Arrivals[m]) - w); d > max(0.03*w, 1) {
					t.Fatalf("minute %d: %d new sessions; want %.1f ± 3%%", m, rep.Arrivals[m], w)
				}
			}
			if math.Abs(float64(rep.Sessions)-want) > 1 {
				t.Errorf("%d sessions in all; want %.1f", rep.Sessions, want)
			}
			if rep.RouteMaxPP > 1 || rep.LengthKS >= 0.05 || rep.ClassMaxPP > 1 {
				t.Errorf("route mix %.3f pp, class mix %.3f pp, length KS %.4f; want ≤ 1, ≤ 1, < 0.05", rep.RouteMaxPP, rep.ClassMaxPP, rep.LengthKS)
			}
			if rep.Copied < rep.Recorded*9/10 {
				t.Errorf("copied %d of %d recorded sessions; a day from a sample should use nearly all", rep.Copied, rep.Recorded)
			}
			// Concurrency follows from arrivals and lengths: on the
			// whole, not minute by minute (a repeat starts elsewhere in
			// its minute).
			if rep.ConcurrencyMeanErr > 0.05 {
				t.Errorf("live sessions per minute are %.2f%% off on average; want under 5%%", 100*rep.ConcurrencyMeanErr)
			}
		})
	}
}

// TestSynth24hFromSample synthesizes a day from the 30-minute sample
// against the sample's own profile and checks, from the written file (not
// the report), that new sessions per minute, the route mix and session
// lengths follow the profile, and that every session is a recorded one
// moved in time under new ids. It writes and reads 2.2 million events:
// under the race detector (minutes) TestSynthPlan24h and TestSynthFile
// cover it.
func TestSynth24hFromSample(t *testing.T) {
	if raceOn {
		t.Skip("2.2M events take minutes under -race: TestSynthPlan24h checks the day's plan, TestSynthFile the writing")
	}
	capturePath := synthSample(t)
	ctx := context.Background()
	target := sampleTarget(t, capturePath)
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
	recorded := fingerprints(t, capturePath, true)
	synth := fingerprints(t, out, true)
	checkCopies(t, recorded, synth, int(rep.Sessions))
	steps := int(24 * time.Hour / time.Minute)
	got := make([]float64, steps)
	for _, f := range synth.firsts {
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
	for g, want := range target.Routes {
		if d := 100 * math.Abs(synth.routes[g]-want); d > 1 {
			t.Errorf("route %s: %.2f%% of requests; want %.2f%% ± 1 pp", g, 100*synth.routes[g], 100*want)
		}
	}
	if rep.Copied < rep.Recorded*9/10 {
		t.Errorf("copied %d of %d recorded sessions; a day from a sample should use nearly all", rep.Copied, rep.Recorded)
	}
}

// checkCopies checks that every session of synth equals a recorded one up
// to ids and a time shift, under an id no recorded session has.
func checkCopies(t *testing.T, recorded, synth printed, sessions int) {
	t.Helper()
	known := map[uint64]bool{}
	for _, p := range recorded.prints {
		known[p] = true
	}
	if len(synth.prints) != sessions {
		t.Errorf("file has %d sessions; report says %d", len(synth.prints), sessions)
	}
	for id, p := range synth.prints {
		if !known[p] {
			t.Fatalf("session %s (first request at %s) equals no recorded session", id, synth.firsts[id])
		}
		if _, ok := recorded.prints[id]; ok {
			t.Fatalf("session %s keeps a recorded session's id", id)
		}
	}
}

// TestSynthFile writes a short synthetic capture at scale 1.5 (a partial
// last minute, repeated copies) and reads it back whole: every session is
// a recorded one (all fields, response facts included; without them under
// -race) under new ids,
// moved by whole seconds; new sessions per minute are the plan's; the
// same seed writes the same bytes.
func TestSynthFile(t *testing.T) {
	capturePath := synthSample(t)
	ctx := context.Background()
	target := sampleTarget(t, capturePath)
	cfg := SynthConfig{Capture: []string{capturePath}, Duration: 5*time.Minute + 30*time.Second, Scale: 1.5, Seed: 9}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	rep, err := Synth(ctx, cfg, target, a)
	if err != nil {
		t.Fatal(err)
	}
	cfg.CacheBytes = -1 // the streaming path: passes read the file
	if _, err := Synth(ctx, cfg, target, b); err != nil {
		t.Fatal(err)
	}
	if !sameFile(t, a, b) {
		t.Errorf("the same seed wrote different files (cached and streamed)")
	}
	// Every field; under -race (slow row decoding) the replay projection's.
	recorded := fingerprints(t, capturePath, raceOn)
	synth := fingerprints(t, a, raceOn)
	checkCopies(t, recorded, synth, int(rep.Sessions))
	got := make([]int64, len(rep.Arrivals))
	for _, f := range synth.firsts {
		got[int(f.Sub(target.Start)/time.Minute)]++
		if f.Sub(target.Start) >= cfg.Duration {
			t.Errorf("a session arrives at %s, after the duration", f)
		}
	}
	if !slices.Equal(got, rep.Arrivals) {
		t.Errorf("new sessions per minute in the file %v; report %v", got, rep.Arrivals)
	}
	s, p, err := newSynthStream(ctx, cfg, target)
	if err != nil {
		t.Fatal(err)
	}
	spanFirst, spanLast := s.Span()
	s.Close()
	plan := predict(p, target, newPlanner(p, target, cfg.Seed, cfg.scale(), target.Start, cfg.Duration))
	if !slices.Equal(plan.Arrivals, rep.Arrivals) || plan.Events != rep.Events || plan.LengthKS != rep.LengthKS {
		t.Errorf("written: %v arrivals, %d events, KS %v; planned %v, %d, %v", rep.Arrivals, rep.Events, rep.LengthKS, plan.Arrivals, plan.Events, plan.LengthKS)
	}
	fi, err := eventlog.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.First.Equal(spanFirst) || !fi.Last.Equal(spanLast) {
		t.Errorf("file spans %s to %s; Span said %s to %s", fi.First, fi.Last, spanFirst, spanLast)
	}
	for k, want := range map[string]string{MetaSynthSeed: "9", MetaSynthScale: "1.5", MetaSynthDuration: "5m30s", schema.MetaSource: "synth", schema.MetaResolution: "1s"} {
		if fi.Metadata[k] != want {
			t.Errorf("metadata %s = %q; want %q", k, fi.Metadata[k], want)
		}
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

// TestSynthErrors: bad settings are refused, each named, and nothing is
// written.
func TestSynthErrors(t *testing.T) {
	capturePath := synthSample(t)
	good := &SynthTarget{Start: time.Date(2026, 11, 21, 19, 44, 0, 0, time.UTC), Arrivals: []float64{3, 4}}
	out := filepath.Join(t.TempDir(), "x.parquet")
	for _, tc := range []struct {
		name   string
		cfg    SynthConfig
		target *SynthTarget
		want   string
	}{
		// no capture to copy from
		{"no capture", SynthConfig{Duration: time.Hour}, good, "no capture"},
		// a duration is required
		{"no duration", SynthConfig{Capture: []string{capturePath}}, good, "duration 0s"},
		// negative scale
		{"negative scale", SynthConfig{Capture: []string{capturePath}, Duration: time.Hour, Scale: -1}, good, "scale -1"},
		// a profile without an arrival curve
		{"no curve", SynthConfig{Capture: []string{capturePath}, Duration: time.Hour}, &SynthTarget{}, "no arrival curve"},
		// a negative count in the curve, named by its minute
		{"bad count", SynthConfig{Capture: []string{capturePath}, Duration: time.Hour}, &SynthTarget{Start: good.Start, Arrivals: []float64{1, -2}}, "arrivals at 2026-11-21T19:45:00Z"},
		// a capture that is not there
		{"missing capture", SynthConfig{Capture: []string{filepath.Join(t.TempDir(), "none.parquet")}, Duration: time.Hour}, good, "none.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Synth(context.Background(), tc.cfg, tc.target, out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Synth = %v; want an error containing %q", err, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s exists after an error", out)
			}
		})
	}
}

// TestSynthAnonymous: a request without a session id is a session of one,
// as the profile counts it, and is copied as one (under a session id of
// its own per copy).
func TestSynthAnonymous(t *testing.T) {
	dir := t.TempDir()
	capturePath := filepath.Join(dir, "c.parquet")
	w, err := eventlog.Create[schema.Exchange](capturePath, eventlog.WriterConfig{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 19, 0, 0, 0, time.UTC)
	for m := range 3 {
		for k := range 4 {
			at := t0.Add(time.Duration(m)*time.Minute + time.Duration(k)*10*time.Second)
			e := schema.Exchange{Time: at, Method: "GET", Scheme: "http", Host: "h", Path: "/anon", Protocol: schema.ProtoHTTP11, Source: "test"}
			if k%2 == 0 { // every other one in a two-request session
				e.Session, e.Path = fmt.Sprintf("s_%d%d", m, k), "/first"
				if err := w.Add(&e); err != nil {
					t.Fatal(err)
				}
				e.Time, e.Path, e.Seq = at.Add(time.Second), "/second", 1
			}
			if err := w.Add(&e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	target := sampleTarget(t, capturePath)
	if got := target.Arrivals; !slices.Equal(got, []float64{4, 4, 4}) {
		t.Fatalf("profile arrivals %v; want 4 a minute (two sessions, two anonymous requests)", got)
	}
	out := filepath.Join(dir, "s.parquet")
	rep, err := Synth(context.Background(), SynthConfig{Capture: []string{capturePath}, Duration: 9 * time.Minute, Seed: 3}, target, out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Arrivals, []int64{4, 4, 4, 4, 4, 4, 4, 4, 4}) || rep.Events != 9*6 || rep.RouteMaxPP > 1e-9 {
		t.Errorf("arrivals %v, %d events, route mix off %.3f pp; want 4 a minute, 54 events, the mix exact", rep.Arrivals, rep.Events, rep.RouteMaxPP)
	}
	synth := fingerprints(t, out, false)
	if len(synth.prints) != 36 {
		t.Errorf("%d sessions written; want 36 (every copy its own id)", len(synth.prints))
	}
}
