package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// plannedSide reads what a run planned from its results: each request's
// intended offset from the run's start, virtual user (session, clone,
// user), seq, method and route, sorted; and the report's scheduled counts
// by route. Nothing the target or the machine's timing decides.
func plannedSide(t *testing.T, results string) ([]string, map[string]int64) {
	t.Helper()
	info, err := eventlog.Stat(results)
	if err != nil {
		t.Fatal(err)
	}
	ri, err := report.RunInfoFrom(info.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	r, err := eventlog.Open[schema.Result]([]string{results}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var plan []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		plan = append(plan, fmt.Sprintf("%d %s/%d %s #%d %s %s", e.Intended.Sub(ri.Start), e.Session, e.Clone, e.User, e.Seq, e.Method, e.Route))
	}
	slices.Sort(plan)
	sum, err := report.SummarizeResults([]string{results})
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]int64{"": sum.Scheduled}
	for _, rt := range sum.Routes {
		routes[rt.Route] = rt.Scheduled
	}
	return plan, routes
}

// TestReplayReproducibleBySeed: the same capture, window, ratio and seed
// make the same schedule — every request at the same offset for the same
// virtual user — and the same planned side of the report, run after run;
// another seed makes another (fractional clones and jitter are seeded).
func TestReplayReproducibleBySeed(t *testing.T) {
	capture := sampleCapture(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer target.Close()
	dir := t.TempDir()
	run := func(name, seed string) ([]string, map[string]int64) {
		results := filepath.Join(dir, name+".parquet")
		// A loaded machine may fall behind (exit 5): requests dropped
		// for lateness are results too, at their intended time, so the
		// planned side is whole either way.
		_, stderr, err := surge(t, "replay", "--from", capture, "--window-to", "20s", "--ratio", "2.5", "--speed", "10", "--seed", seed,
			"--target", target.URL, "--progress", "none", "--results", results)
		var ee *exitError
		if err != nil && !(errors.As(err, &ee) && ee.code == exitBehind) {
			t.Fatalf("replay: %v\n%s", err, stderr)
		}
		return plannedSide(t, results)
	}
	a, aRoutes := run("a", "42")
	b, bRoutes := run("b", "42")
	c, _ := run("c", "7")
	if len(a) == 0 {
		t.Fatal("the run planned nothing: the test proves nothing")
	}
	if !slices.Equal(a, b) {
		diff := 0
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				diff = i
				break
			}
		}
		t.Errorf("seed 42 twice: %d and %d requests planned, first difference at %d: %q vs %q", len(a), len(b), diff, a[min(diff, len(a)-1)], b[min(diff, len(b)-1)])
	}
	if fmt.Sprint(aRoutes) != fmt.Sprint(bRoutes) {
		t.Errorf("seed 42 twice: scheduled by route\n%v\n%v", aRoutes, bRoutes)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 42 and 7 planned the same %d requests: the seed does nothing", len(a))
	}
}
