package report

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	goldenfile "github.com/surge-replay/surge/internal/golden"
	"github.com/surge-replay/surge/schema"
)

// golden compares got with the file testdata/name (go test -update rewrites
// it).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

// goldenRoute is a route of the synthetic run: its share of requests and
// its typical service time.
type goldenRoute struct {
	route  string
	weight float64
	svc    time.Duration
}

var goldenRoutes = func() []goldenRoute {
	rs := []goldenRoute{
		{"GET /live/{id}/seg-{n}.ts", 50, 8 * time.Millisecond},
		{"GET /live/{id}/index.m3u8", 20, 12 * time.Millisecond},
		{"GET /api/v1/home", 10, 35 * time.Millisecond},
		{"POST /api/v1/events", 8, 20 * time.Millisecond},
		{"GET /api/v1/users/{n}", 5, 25 * time.Millisecond},
	}
	// A long tail of rare routes, so the text report cuts at 15.
	for _, r := range []string{"GET /", "GET /favicon.ico", "GET /api/v1/search", "GET /api/v1/teams/{n}",
		"GET /api/v1/matches/{n}", "PUT /api/v1/users/{n}/prefs", "GET /api/v1/news", "GET /robots.txt",
		"POST /api/v1/login", "GET /api/v1/schedule", "DELETE /api/v1/sessions/{id}", "GET /api/v1/config"} {
		rs = append(rs, goldenRoute{r, 0.6, 30 * time.Millisecond})
	}
	return rs
}()

// goldenRun returns a fixed synthetic run of 40 s against a target that
// slows under a spike to 300/s while the generator falls behind, and its
// results in the order they finish (as the replay engine hands them over).
func goldenRun() (RunInfo, []schema.Result) {
	info := RunInfo{
		Target:  "https://staging.example.test",
		Capture: []string{"testdata/sample/match-night.parquet"},
		Ratio:   3, Speed: 1, Seed: 42, Mode: "timeline", Start: t0,
		WindowFrom: time.Date(2026, 11, 21, 19, 54, 40, 0, time.UTC), // kickoff 20 s in
	}
	rng := rand.New(rand.NewPCG(42, 1))
	var total float64
	for _, r := range goldenRoutes {
		total += r.weight
	}
	var results []schema.Result
	for sec := range 40 {
		perSec := 100
		if sec >= 20 && sec < 35 {
			perSec = 300
		}
		for k := range perSec {
			at := time.Duration(sec)*time.Second + time.Duration(k)*time.Second/time.Duration(perSec)
			results = append(results, goldenResult(rng, sec, at, pickRoute(rng, total)))
		}
	}
	slices.SortStableFunc(results, func(x, y schema.Result) int {
		return x.Intended.Add(time.Duration(x.LatencyNS)).Compare(y.Intended.Add(time.Duration(y.LatencyNS)))
	})
	return info, results
}

func pickRoute(rng *rand.Rand, total float64) goldenRoute {
	x := rng.Float64() * total
	for _, r := range goldenRoutes {
		if x -= r.weight; x < 0 {
			return r
		}
	}
	return goldenRoutes[0]
}

// goldenResult makes the result of one request intended at, in second sec.
func goldenResult(rng *rand.Rand, sec int, at time.Duration, rt goldenRoute) schema.Result {
	x := res{at: at, route: rt.route, status: 200}
	x.late = time.Duration(rng.ExpFloat64() * 80 * float64(time.Microsecond))
	if sec >= 24 && sec < 31 { // the generator falls behind
		x.late += time.Duration(sec-23) * 25 * time.Millisecond
		if x.late > 100*time.Millisecond && rng.Float64() < 0.3 {
			x.err = schema.DroppedDeadline
		}
	}
	load := 1.0
	if sec >= 20 && sec < 35 {
		load = 3
	}
	x.svc = time.Duration(float64(rt.svc) * load * (0.5 + rng.ExpFloat64()))
	switch p := rng.Float64(); {
	case x.err != "":
	case p < 0.002:
		x.svc, x.status, x.err = 5*time.Second, 0, schema.ErrTimeout
	case p < 0.003:
		x.svc, x.status, x.err = time.Millisecond, 0, schema.ErrConnect
	case p < 0.010*load:
		x.status = 503
	case p < 0.015*load && rt.route == "GET /api/v1/users/{n}":
		x.status = 404
	}
	return x.result()
}

func TestGoldenReport(t *testing.T) {
	info, results := goldenRun()
	a := NewAggregator(info)
	for i := range results {
		a.Add(&results[i])
	}
	s := a.Summary()
	for _, tt := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		// The report for people.
		{"run.txt", func(b *bytes.Buffer) error { return s.WriteText(b) }},
		// The report for CI scripts.
		{"run.json", func(b *bytes.Buffer) error { return s.WriteJSON(b) }},
	} {
		var b bytes.Buffer
		if err := tt.write(&b); err != nil {
			t.Fatalf("write %s: %v", tt.name, err)
		}
		golden(t, tt.name, b.Bytes())
	}
}
