package report

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// t0 is the start of the synthetic runs.
var t0 = time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)

// res describes a synthetic result: intended at after t0, sent late after
// that, answered svc after sending.
type res struct {
	at, late, svc time.Duration
	status        int32
	err, route    string
}

func (x res) result() schema.Result {
	r := schema.Result{
		Intended: t0.Add(x.at), Status: x.status, Error: x.err,
		Session: "s1", Method: "GET", Route: cmp.Or(x.route, "GET /a"),
	}
	if schema.IsDropped(x.err) {
		return r
	}
	sent := r.Intended.Add(x.late)
	r.Sent = &sent
	r.LatenessNS, r.ServiceNS, r.LatencyNS = int64(x.late), int64(x.svc), int64(x.late+x.svc)
	return r
}

// many returns n results made by f.
func many(n int, f func(i int) res) []res {
	out := make([]res, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func concat(parts ...[]res) []res {
	var out []res
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func aggregate(info RunInfo, results []res) *RunSummary {
	a := NewAggregator(info)
	for _, x := range results {
		r := x.result()
		a.Add(&r)
	}
	return a.Summary()
}

// near reports whether got is within HDR precision (0.1%, plus 1 µs of
// rounding) of want milliseconds.
func near(got, want float64) bool { return math.Abs(got-want) <= want*0.001+0.001 }

// aggCase is a case of TestAggregator.
type aggCase struct {
	name                            string
	results                         []res
	scheduled, sent, completed, okN int64
	errors, droppedBy               map[string]int64
	latency                         Percentiles
	lateness                        Lateness
	keptUp                          bool
	routes                          []RouteSummary // counts only
}

// onTime returns n ok results 10 ms apart, 1 ms each.
func onTime(n int) []res {
	return many(n, func(i int) res { return res{at: time.Duration(i) * 10 * ms, svc: ms, status: 200} })
}

const ms = time.Millisecond

var aggCases = []aggCase{{
	// Service times 1..100 ms, on time: percentiles are order statistics.
	name: "all ok",
	results: many(100, func(i int) res {
		return res{at: time.Duration(i) * 20 * ms, svc: time.Duration(i+1) * ms, status: 200}
	}),
	scheduled: 100, sent: 100, completed: 100, okN: 100,
	latency: Percentiles{P50: 50, P90: 90, P99: 99, P999: 100, Max: 100},
	keptUp:  true,
	routes:  []RouteSummary{{Route: "GET /a", Scheduled: 100, Sent: 100, OK: 100}},
}, {
	// Dropped requests count by class, not as errors; a deadline drop
	// means the generator fell behind.
	name: "some dropped by class",
	results: concat(onTime(10),
		many(3, func(i int) res { return res{at: time.Second, err: schema.DroppedDeadline} }),
		many(2, func(i int) res { return res{at: time.Second, err: schema.DroppedCap} })),
	scheduled: 15, sent: 10, completed: 10, okN: 10,
	droppedBy: map[string]int64{schema.DroppedDeadline: 3, schema.DroppedCap: 2},
	latency:   Percentiles{P50: 1, P90: 1, P99: 1, P999: 1, Max: 1},
	routes:    []RouteSummary{{Route: "GET /a", Scheduled: 15, Sent: 10, OK: 10, Dropped: 5}},
}, {
	// 5xx, 4xx and transport errors; a 302 is ok; a timeout has no
	// response so is not completed, and its latency counts.
	name: "5xx and timeouts",
	results: concat(onTime(5),
		many(2, func(int) res { return res{svc: ms, status: 503} }),
		[]res{{svc: ms, status: 404}, {svc: ms, status: 302}, {svc: 2 * ms, err: schema.ErrConnect}},
		many(2, func(int) res { return res{svc: 10 * time.Second, err: schema.ErrTimeout} })),
	scheduled: 12, sent: 12, completed: 9, okN: 6,
	errors:  map[string]int64{ClassHTTP5xx: 2, ClassHTTP4xx: 1, schema.ErrTimeout: 2, schema.ErrConnect: 1},
	latency: Percentiles{P50: 1, P90: 10_000, P99: 10_000, P999: 10_000, Max: 10_000},
	keptUp:  true,
	routes:  []RouteSummary{{Route: "GET /a", Scheduled: 12, Sent: 12, OK: 6, Errors: 6}},
}, {
	// Lateness 0..99 ms: latency from intended includes it.
	name: "lateness",
	results: many(100, func(i int) res {
		return res{at: time.Duration(i) * 10 * ms, late: time.Duration(i) * ms, svc: ms, status: 200}
	}),
	scheduled: 100, sent: 100, completed: 100, okN: 100,
	latency:  Percentiles{P50: 50, P90: 90, P99: 99, P999: 100, Max: 100},
	lateness: Lateness{P50: 49, P99: 98, Max: 99},
	routes:   []RouteSummary{{Route: "GET /a", Scheduled: 100, Sent: 100, OK: 100}},
}, {
	// Two routes, listed by volume; one of them all 500s.
	name: "two routes",
	results: concat(
		many(10, func(i int) res { return res{svc: 30 * ms, status: 500, route: "POST /b"} }),
		many(30, func(i int) res { return res{svc: 10 * ms, status: 200, route: "GET /a"} })),
	scheduled: 40, sent: 40, completed: 40, okN: 30,
	errors:  map[string]int64{ClassHTTP5xx: 10},
	latency: Percentiles{P50: 10, P90: 30, P99: 30, P999: 30, Max: 30},
	keptUp:  true,
	routes: []RouteSummary{
		{Route: "GET /a", Scheduled: 30, Sent: 30, OK: 30},
		{Route: "POST /b", Scheduled: 10, Sent: 10, Errors: 10},
	},
}}

func TestAggregator(t *testing.T) {
	for _, tt := range aggCases {
		checkSummary(t, tt, aggregate(RunInfo{Start: t0}, tt.results))
	}
}

func checkSummary(t *testing.T, tt aggCase, s *RunSummary) {
	t.Helper()
	if s.Scheduled != tt.scheduled || s.Sent != tt.sent || s.Completed != tt.completed || s.OK != tt.okN {
		t.Errorf("%s: Summary() scheduled, sent, completed, ok = %d, %d, %d, %d; want %d, %d, %d, %d", tt.name,
			s.Scheduled, s.Sent, s.Completed, s.OK, tt.scheduled, tt.sent, tt.completed, tt.okN)
	}
	if !maps.Equal(s.ErrorsBy, tt.errors) || !maps.Equal(s.DroppedBy, tt.droppedBy) {
		t.Errorf("%s: Summary() errors_by, dropped_by = %v, %v; want %v, %v", tt.name, s.ErrorsBy, s.DroppedBy, tt.errors, tt.droppedBy)
	}
	var errs int64
	for _, n := range tt.errors {
		errs += n
	}
	if s.Errors != errs {
		t.Errorf("%s: Summary() errors = %d; want %d, the sum of errors_by", tt.name, s.Errors, errs)
	}
	var dropped int64
	for _, n := range tt.droppedBy {
		dropped += n
	}
	if s.Dropped != dropped {
		t.Errorf("%s: Summary().Dropped = %d; want %d", tt.name, s.Dropped, dropped)
	}
	l, w := s.Latency, tt.latency
	if !near(l.P50, w.P50) || !near(l.P90, w.P90) || !near(l.P99, w.P99) || !near(l.P999, w.P999) || !near(l.Max, w.Max) {
		t.Errorf("%s: Summary().Latency = %+v; want %+v", tt.name, l, w)
	}
	if g, w := s.Lateness, tt.lateness; !near(g.P50, w.P50) || !near(g.P99, w.P99) || !near(g.Max, w.Max) {
		t.Errorf("%s: Summary().Lateness = %+v; want %+v", tt.name, g, w)
	}
	if s.GeneratorKeptUp != tt.keptUp {
		t.Errorf("%s: Summary().GeneratorKeptUp = %v; want %v", tt.name, s.GeneratorKeptUp, tt.keptUp)
	}
	if len(s.Routes) != len(tt.routes) {
		t.Fatalf("%s: Summary().Routes = %+v; want %+v", tt.name, s.Routes, tt.routes)
	}
	for i, r := range s.Routes {
		r.Latency, r.Service = Percentiles{}, Percentiles{}
		if r != tt.routes[i] {
			t.Errorf("%s: Summary().Routes[%d] = %+v; want %+v", tt.name, i, r, tt.routes[i])
		}
	}
}

func TestAggregatorRoutePercentiles(t *testing.T) {
	s := aggregate(RunInfo{Start: t0}, concat(
		many(100, func(i int) res { return res{svc: time.Duration(i+1) * time.Millisecond, status: 200, route: "GET /a"} }),
		many(10, func(i int) res {
			return res{late: time.Millisecond, svc: 7 * time.Millisecond, status: 200, route: "GET /b"}
		})))
	want := map[string][2]Percentiles{
		// 1..100 ms, on time.
		"GET /a": {{P50: 50, P90: 90, P99: 99, P999: 100, Max: 100}, {P50: 50, P90: 90, P99: 99, P999: 100, Max: 100}},
		// 1 ms late, 7 ms service: 8 ms from intended.
		"GET /b": {{P50: 8, P90: 8, P99: 8, P999: 8, Max: 8}, {P50: 7, P90: 7, P99: 7, P999: 7, Max: 7}},
	}
	for _, r := range s.Routes {
		w := want[r.Route]
		for i, got := range []Percentiles{r.Latency, r.Service} {
			if !near(got.P50, w[i].P50) || !near(got.P90, w[i].P90) || !near(got.P99, w[i].P99) ||
				!near(got.P999, w[i].P999) || !near(got.Max, w[i].Max) {
				t.Errorf("Summary().Routes[%q] percentiles %d = %+v; want %+v", r.Route, i, got, w[i])
			}
		}
	}
}

func TestAggregatorPerSecond(t *testing.T) {
	ms := time.Millisecond
	results := concat(
		// Second 0: 4 intended, one of them sent 0.6 s late (in second 1).
		many(3, func(i int) res { return res{at: time.Duration(i) * 100 * ms, svc: 10 * ms, status: 200} }),
		[]res{{at: 900 * ms, late: 600 * ms, svc: 10 * ms, status: 500}},
		// Second 2 is empty; second 3: one sent, one dropped.
		[]res{{at: 3100 * ms, svc: 20 * ms, status: 200}, {at: 3200 * ms, err: schema.DroppedDeadline}},
	)
	tests := []struct {
		start time.Time
		want  []SecondSummary
	}{{
		// Series from the run's start.
		start: t0,
		want: []SecondSummary{
			{T: 0, Intended: 4, Sent: 3, OK: 3, Errors: 1, P50MS: 10, P99MS: 610, LatenessP99MS: 600},
			{T: 1, Sent: 1},
			{T: 2},
			{T: 3, Intended: 2, Sent: 1, OK: 1, Dropped: 1, P50MS: 20, P99MS: 20},
		},
	}, {
		// A start 2 s before the first request: the series starts at 0.
		start: t0.Add(-2 * time.Second),
		want: []SecondSummary{
			{T: 2, Intended: 4, Sent: 3, OK: 3, Errors: 1, P50MS: 10, P99MS: 610, LatenessP99MS: 600},
			{T: 3, Sent: 1},
			{T: 4},
			{T: 5, Intended: 2, Sent: 1, OK: 1, Dropped: 1, P50MS: 20, P99MS: 20},
		},
	}}
	for _, tt := range tests {
		s := aggregate(RunInfo{Start: tt.start}, results)
		got := s.PerSecond
		if len(got) != len(tt.want) {
			t.Fatalf("Summary(start %v).PerSecond = %+v; want %+v", tt.start, got, tt.want)
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			pg, pw := [3]float64{g.P50MS, g.P99MS, g.LatenessP99MS}, [3]float64{w.P50MS, w.P99MS, w.LatenessP99MS}
			g.P50MS, g.P99MS, g.LatenessP99MS, w.P50MS, w.P99MS, w.LatenessP99MS = 0, 0, 0, 0, 0, 0
			if g != w {
				t.Errorf("Summary(start %v).PerSecond[%d] = %+v; want %+v", tt.start, i, got[i], tt.want[i])
			}
			for j := range pg {
				if math.Abs(pg[j]-pw[j]) > pw[j]*0.01+0.001 { // 2 significant digits
					t.Errorf("Summary(start %v).PerSecond[%d] percentiles = %v; want %v", tt.start, i, pg, pw)
				}
			}
		}
	}
}

// Without a start time, results added out of order still give a series from
// the earliest intended second, with the same bins as in order.
func TestAggregatorNoStart(t *testing.T) {
	results := many(50, func(i int) res { return res{at: time.Duration(i) * 100 * time.Millisecond, status: 200} })
	inOrder := aggregate(RunInfo{}, results)
	var reversed []res
	for i := len(results) - 1; i >= 0; i-- {
		reversed = append(reversed, results[i])
	}
	got := aggregate(RunInfo{}, reversed)
	if !got.Start.Equal(t0) || !inOrder.Start.Equal(t0) {
		t.Errorf("Summary().Start = %v, %v in order; want %v", got.Start, inOrder.Start, t0)
	}
	if len(got.PerSecond) != 5 || got.PerSecond[0].T != 0 || got.PerSecond[0].Intended != 10 {
		t.Errorf("Summary().PerSecond = %+v; want 5 seconds of 10 from t 0", got.PerSecond)
	}
	for i := range got.PerSecond {
		if got.PerSecond[i] != inOrder.PerSecond[i] {
			t.Errorf("Summary().PerSecond[%d] = %+v reversed; %+v in order", i, got.PerSecond[i], inOrder.PerSecond[i])
		}
	}
}

func TestAggregatorRates(t *testing.T) {
	// 101 requests 10 ms apart: 1 s of schedule; the last sent 1 s late.
	results := many(101, func(i int) res { return res{at: time.Duration(i) * 10 * time.Millisecond, status: 200} })
	results[100].late = time.Second
	s := aggregate(RunInfo{Start: t0}, results)
	if s.IntendedRPS != 101 || s.DurationS != 2 || s.AchievedRPS != 50.5 {
		t.Errorf("Summary() intended_rps, duration_s, achieved_rps = %v, %v, %v; want 101, 2, 50.5",
			s.IntendedRPS, s.DurationS, s.AchievedRPS)
	}
}

// Snapshot while results come in: the race detector checks the locking.
func TestAggregatorConcurrent(t *testing.T) {
	a := NewAggregator(RunInfo{Start: t0})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 2000 {
			r := res{at: time.Duration(i) * time.Millisecond, svc: time.Millisecond, status: 200}.result()
			a.Add(&r)
		}
	})
	for range 50 {
		_ = a.Snapshot().String()
		_ = a.Summary()
	}
	wg.Wait()
	if p := a.Snapshot(); p.Sent != 2000 {
		t.Errorf("Snapshot().Sent = %d; want 2000", p.Sent)
	}
}

// Routes and error classes beyond the limits count as "other".
func TestAggregatorBounds(t *testing.T) {
	a := NewAggregator(RunInfo{Start: t0})
	for i := range maxRunRoutes + 10 {
		r := res{status: 200, route: fmt.Sprintf("GET /r%d", i)}.result()
		a.Add(&r)
	}
	for i := range maxClasses + 10 {
		r := res{err: fmt.Sprintf("weird-%d", i), route: "GET /r0"}.result()
		a.Add(&r)
	}
	s := a.Summary()
	if len(s.Routes) != maxRunRoutes+1 || s.Routes[0].Route != "GET /r0" || s.Routes[1].Route != OtherRoute || s.Routes[1].Scheduled != 10 {
		t.Errorf("Summary() has %d routes, first %+v, %+v; want %d, first GET /r0, then other with 10",
			len(s.Routes), s.Routes[0], s.Routes[1], maxRunRoutes+1)
	}
	if len(s.ErrorsBy) != maxClasses+1 || s.ErrorsBy[OtherClass] != 10 {
		t.Errorf("Summary().ErrorsBy has %d classes, other %d; want %d, 10", len(s.ErrorsBy), s.ErrorsBy[OtherClass], maxClasses+1)
	}
}

func BenchmarkAggregatorAdd(b *testing.B) {
	routes := []string{"GET /live/{id}/seg-{n}.ts", "GET /live/{id}/index.m3u8", "GET /api/v1/home", "POST /api/v1/events", "GET /api/v1/users/{n}"}
	const n = 4096
	results := make([]schema.Result, n)
	sent := make([]time.Time, n)
	for i := range results {
		results[i] = res{
			late: time.Duration(i%7) * 50 * time.Microsecond, svc: time.Duration(1+i%97) * 300 * time.Microsecond,
			status: []int32{200, 200, 200, 304, 404, 503}[i%6], route: routes[i%len(routes)],
		}.result()
	}
	a := NewAggregator(RunInfo{Start: t0})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := &results[i%n]
		// 10,000 requests a second: new seconds keep coming, as in a run.
		r.Intended = t0.Add(time.Duration(i) * 100 * time.Microsecond)
		sent[i%n] = r.Intended.Add(time.Duration(r.LatenessNS))
		r.Sent = &sent[i%n]
		a.Add(r)
	}
}

// TestClosedModeBound: the same lateness keeps up in closed mode (a session
// runner's timer) and falls behind in timeline mode (the pacer's bound).
func TestClosedModeBound(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want bool
	}{
		{"timeline", false}, // 8 ms is past the pacer's 5 ms
		{"closed", true},    // and within the runners' 20 ms
	} {
		a := NewAggregator(RunInfo{Start: t0, Mode: tc.mode})
		for i := range 100 {
			r := res{at: time.Duration(i) * time.Millisecond, late: 8 * time.Millisecond, svc: time.Millisecond, status: 200}.result()
			a.Add(&r)
		}
		if got := a.Summary().GeneratorKeptUp; got != tc.want {
			t.Errorf("%s: kept up %v; want %v", tc.mode, got, tc.want)
		}
	}
}
