package profile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/internal/synth"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

var t0 = time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)

// writeCapture writes the capture s generates to a Parquet file (small row
// groups, so Build crosses row groups and batches) and returns its path
// and its events.
func writeCapture(t testing.TB, s *synth.Sessions) (string, []schema.Exchange) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.parquet")
	w, err := eventlog.Create[schema.Exchange](path, eventlog.WriterConfig{Source: "synth", RowGroupRows: 5000})
	if err != nil {
		t.Fatal(err)
	}
	var evs []schema.Exchange
	err = s.Generate(func(e *schema.Exchange) error {
		evs = append(evs, *e)
		return w.Write(*e)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, evs
}

// knownStructure is a 30-minute capture whose arrivals change every minute
// (1, 2, 3 new sessions a second in turn) with two kinds of sessions.
func knownStructure() *synth.Sessions {
	return &synth.Sessions{
		Start: t0, Duration: 30 * time.Minute,
		Arrivals: func(sec int) int { return 1 + sec/60%3 },
		Kinds: []synth.Kind{
			{Device: "tv", Region: "eu-west", Protocol: schema.ProtoHTTP11, Status: 200,
				Paths: []string{"/api/v1/home", "/live/ev/manifest.m3u8"}, Requests: 5, Think: 6 * time.Second},
			{Device: "mobile", Region: "us-east", Protocol: schema.ProtoHTTP2, Status: 500,
				Paths: []string{"/api/v1/home", "/api/v1/search", "/api/v1/browse/1234"}, Requests: 3, Think: 2500 * time.Millisecond},
		},
	}
}

// reference is what a profile must hold, computed the naive way: one
// pass over the events, a struct each.
type reference struct {
	arrSec, live          map[int64]int64 // by second from t0
	reqMinRoute           map[[2]string]int64
	mixReq, mixSess       map[[3]string]int64 // minute, dimension, value
	lengthMS, requests    map[string][]int64  // by class
	gaps                  map[[2]string][]int64
	trans                 map[[3]string]int64
	status                map[string]map[int32]int64
	sessions, requestsAll int64
}

func referenceOf(evs []schema.Exchange) *reference {
	r := &reference{arrSec: map[int64]int64{}, live: map[int64]int64{}, reqMinRoute: map[[2]string]int64{},
		mixReq: map[[3]string]int64{}, mixSess: map[[3]string]int64{}, lengthMS: map[string][]int64{}, requests: map[string][]int64{},
		gaps: map[[2]string][]int64{}, trans: map[[3]string]int64{}, status: map[string]map[int32]int64{}}
	type st struct {
		first, last time.Time
		n           int64
		route       string
		class       string
	}
	ss := map[string]*st{}
	var order []string
	for _, e := range evs {
		route := report.RouteGroup(e.Method, e.Path)
		min := e.Time.Truncate(time.Minute).Format("15:04")
		r.requestsAll++
		r.reqMinRoute[[2]string{min, route}]++
		dims := map[string]string{DimRegion: e.Region, DimDevice: e.Device, DimProtocol: e.Protocol}
		for d, v := range dims {
			r.mixReq[[3]string{min, d, v}]++
		}
		if r.status[route] == nil {
			r.status[route] = map[int32]int64{}
		}
		r.status[route][int32(e.StatusCode())]++
		s := ss[e.Session]
		if s == nil {
			s = &st{first: e.Time, class: e.Device}
			ss[e.Session] = s
			order = append(order, e.Session)
			r.arrSec[int64(e.Time.Sub(t0)/time.Second)]++
			for d, v := range dims {
				r.mixSess[[3]string{min, d, v}]++
			}
			r.trans[[3]string{s.class, StartRoute, route}]++
		} else {
			r.gaps[[2]string{s.route, route}] = append(r.gaps[[2]string{s.route, route}], e.Time.Sub(s.last).Milliseconds())
			r.trans[[3]string{s.class, s.route, route}]++
		}
		s.last, s.route = e.Time, route
		s.n++
	}
	for _, id := range order {
		s := ss[id]
		r.sessions++
		r.lengthMS[s.class] = append(r.lengthMS[s.class], s.last.Sub(s.first).Milliseconds())
		r.requests[s.class] = append(r.requests[s.class], s.n)
		r.trans[[3]string{s.class, s.route, EndRoute}]++
		for sec := int64(s.first.Sub(t0) / time.Second); sec <= int64(s.last.Sub(t0)/time.Second); sec++ {
			r.live[sec]++
		}
	}
	return r
}

// TestBuildKnownStructure builds the profile of a capture of known
// structure and checks every table against the configured structure and
// a naive recount: arrivals, requests per route, concurrency, mixes,
// transitions and statuses exactly; think times and session lengths by
// the bucket that holds the true value.
func TestBuildKnownStructure(t *testing.T) {
	gen := knownStructure()
	path, evs := writeCapture(t, gen)
	p, err := Build(context.Background(), []string{path}, Config{BatchSize: 3000})
	if err != nil {
		t.Fatal(err)
	}
	ref := referenceOf(evs)

	// Arrivals per second are the generator's, exactly, and zero after.
	if p.Meta.Start != t0 || len(p.ArrivalsSecond) != p.Meta.Seconds {
		t.Fatalf("Start = %v, %d second rows, Seconds = %d; want %v", p.Meta.Start, len(p.ArrivalsSecond), p.Meta.Seconds, t0)
	}
	for s, row := range p.ArrivalsSecond {
		want := int64(0)
		if s < 1800 {
			want = int64(gen.Arrivals(s))
		}
		if row.Sessions != want || !row.Time.Equal(t0.Add(time.Duration(s)*time.Second)) {
			t.Fatalf("ArrivalsSecond[%d] = %v %d; want %v %d", s, row.Time, row.Sessions, t0.Add(time.Duration(s)*time.Second), want)
		}
	}
	for m, row := range p.ArrivalsMinute {
		want := int64(0)
		if m < 30 {
			want = int64(60 * gen.Arrivals(m*60))
		}
		if row.Sessions != want {
			t.Errorf("ArrivalsMinute[%d].Sessions = %d; want %d", m, row.Sessions, want)
		}
	}
	if p.Meta.Sessions != ref.sessions || p.Meta.Requests != ref.requestsAll || p.Meta.Requests != int64(len(evs)) {
		t.Errorf("Sessions, Requests = %d, %d; want %d, %d", p.Meta.Sessions, p.Meta.Requests, ref.sessions, ref.requestsAll)
	}
	// Requests per minute per route, exactly.
	got := map[[2]string]int64{}
	for _, r := range p.RoutesMinute {
		got[[2]string{r.Time.Format("15:04"), r.Route}] = r.Requests
	}
	if !reflect.DeepEqual(got, ref.reqMinRoute) {
		t.Errorf("RoutesMinute differs from the recount:\n got %v\nwant %v", got, ref.reqMinRoute)
	}
	if want := []string{"GET /api/v1/home", "GET /api/v1/search", "GET /live/ev/manifest.m3u8", "GET /api/v1/browse/{n}"}; !reflect.DeepEqual(p.Meta.Routes, want) {
		t.Errorf("Routes = %q; want %q", p.Meta.Routes, want)
	}
	// Concurrency per second, exactly.
	for s, row := range p.Concurrency {
		if row.Live != ref.live[int64(s)] {
			t.Fatalf("Concurrency[%d] = %d; want %d", s, row.Live, ref.live[int64(s)])
		}
	}
	// Mixes, exactly.
	gotReq, gotSess := map[[3]string]int64{}, map[[3]string]int64{}
	for _, m := range p.Mix {
		k := [3]string{m.Time.Format("15:04"), m.Dimension, m.Value}
		if m.Requests > 0 {
			gotReq[k] = m.Requests
		}
		if m.Sessions > 0 {
			gotSess[k] = m.Sessions
		}
	}
	if !reflect.DeepEqual(gotReq, ref.mixReq) || !reflect.DeepEqual(gotSess, ref.mixSess) {
		t.Errorf("Mix differs from the recount:\n got %v %v\nwant %v %v", gotReq, gotSess, ref.mixReq, ref.mixSess)
	}
	// Transitions, exactly, and tv's from home: 2 of 3 to the manifest.
	gotTrans := map[[3]string]int64{}
	for _, tr := range p.Transitions {
		gotTrans[[3]string{tr.Class, tr.From, tr.To}] = tr.Count
		if tr.Class == "tv" && tr.From == "GET /api/v1/home" {
			want := map[string]float64{"GET /live/ev/manifest.m3u8": 2.0 / 3, EndRoute: 1.0 / 3}[tr.To]
			if d := tr.Probability - want; d > 1e-12 || d < -1e-12 {
				t.Errorf("P(tv: home → %s) = %v; want %v", tr.To, tr.Probability, want)
			}
		}
	}
	if !reflect.DeepEqual(gotTrans, ref.trans) {
		t.Errorf("Transitions differ from the recount:\n got %v\nwant %v", gotTrans, ref.trans)
	}
	// Statuses per route, exactly.
	gotStatus := map[string]map[int32]int64{}
	for _, s := range p.Status {
		if gotStatus[s.Route] == nil {
			gotStatus[s.Route] = map[int32]int64{}
		}
		gotStatus[s.Route][s.Status] = s.Requests
	}
	if !reflect.DeepEqual(gotStatus, ref.status) {
		t.Errorf("Status = %v; want %v", gotStatus, ref.status)
	}
	// Think times: each transition's true gaps fall in its buckets, counted
	// exactly; 6 s and 2.5 s are in [5632, 6144) and [2304, 2560).
	checkHist(t, "think", func(yield func(key string, lo, hi, n int64)) {
		for _, r := range p.ThinkTime {
			yield(r.From+" → "+r.To, r.LowerMS, r.UpperMS, r.Count)
		}
	}, func() map[string][]int64 {
		m := map[string][]int64{}
		for k, v := range ref.gaps {
			m[k[0]+" → "+k[1]] = v
		}
		return m
	}())
	checkHist(t, "session length", func(yield func(key string, lo, hi, n int64)) {
		for _, r := range p.SessionLength {
			yield(r.Class, r.LowerMS, r.UpperMS, r.Sessions)
		}
	}, ref.lengthMS)
	checkHist(t, "requests per session", func(yield func(key string, lo, hi, n int64)) {
		for _, r := range p.SessionRequests {
			yield(r.Class, r.Lower, r.Upper, r.Sessions)
		}
	}, ref.requests)
	for _, r := range p.SessionLength {
		if want := map[string]int64{"tv": 24000, "mobile": 5000}[r.Class]; r.LowerMS > want || want >= r.UpperMS {
			t.Errorf("%s session length bucket [%d, %d) misses %d ms", r.Class, r.LowerMS, r.UpperMS, want)
		}
	}
}

// checkHist checks histogram rows against the true values by key: every
// value falls in a row of its key, and each row counts exactly the values
// in its range.
func checkHist(t *testing.T, what string, rows func(func(key string, lo, hi, n int64)), want map[string][]int64) {
	t.Helper()
	seen := map[string]int64{}
	rows(func(key string, lo, hi, n int64) {
		var in int64
		for _, v := range want[key] {
			if lo <= v && v < hi {
				in++
			}
		}
		if in != n {
			t.Errorf("%s %s [%d, %d): %d; want %d", what, key, lo, hi, n, in)
		}
		seen[key] += n
	})
	for key, vs := range want {
		if seen[key] != int64(len(vs)) {
			t.Errorf("%s %s: histogram counts %d values; want %d", what, key, seen[key], len(vs))
		}
	}
}

// steady is 30 minutes cut out of steady traffic: a new session a second,
// each of 50 requests 12 s apart (10 minutes), already running when the
// capture starts and still running when it ends. With drop, half the live
// sessions leave at 20:00, each with one last request to the home page,
// which no one requested before.
func steady(drop bool) *synth.Sessions {
	s := &synth.Sessions{
		Start: t0.Add(-15 * time.Minute), Duration: 45 * time.Minute, From: t0, Until: t0.Add(30 * time.Minute),
		Arrivals: func(int) int { return 1 },
		Kinds: []synth.Kind{{Device: "tv", Region: "eu-west", Protocol: schema.ProtoHTTP2, Status: 200,
			Paths: []string{"/live/ev/manifest.m3u8", "/live/ev/manifest.m3u8", "/api/v1/search"}, Requests: 50, Think: 12 * time.Second}},
	}
	if drop {
		s.DropAt, s.DropEvery, s.DropPath = t0.Add(15*time.Minute), 2, "/api/v1/home"
	}
	return s
}

var (
	steadyMu    sync.Mutex
	steadyPaths = map[bool]string{}
)

// steadyCapture writes the steady capture (with or without the drop) once
// for the tests that read it, into a directory TestMain removes.
func steadyCapture(t testing.TB, drop bool) string {
	t.Helper()
	steadyMu.Lock()
	defer steadyMu.Unlock()
	if p, ok := steadyPaths[drop]; ok {
		return p
	}
	path := filepath.Join(sharedDir, fmt.Sprintf("steady-%v.parquet", drop))
	w, err := eventlog.Create[schema.Exchange](path, eventlog.WriterConfig{Source: "synth", RowGroupRows: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if err := steady(drop).Generate(func(e *schema.Exchange) error { return w.Write(*e) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	steadyPaths[drop] = path
	return path
}

// sharedDir holds files several tests read.
var sharedDir string

func TestMain(m *testing.M) {
	var err error
	if sharedDir, err = os.MkdirTemp("", "surge-profile-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(sharedDir)
	os.Exit(code)
}

// TestMoments plants a drop (steady with drop) and checks it is the one
// moment found, at 20:00, and that the same capture without the drop has
// none.
func TestMoments(t *testing.T) {
	for _, tc := range []struct {
		name string
		drop bool
	}{
		{"flat", false}, // steady traffic: no moment
		{"drop", true},  // the planted drop at 20:00
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := steadyCapture(t, tc.drop)
			p, err := Build(context.Background(), []string{path}, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Meta.Parameters.MomentEdge != 1 {
				t.Errorf("MomentEdge = %d; want 1 (12 s think times)", p.Meta.Parameters.MomentEdge)
			}
			if !tc.drop {
				if len(p.Moments) != 0 {
					t.Errorf("moments on a flat capture: %+v", p.Moments)
				}
				return
			}
			if len(p.Moments) != 1 {
				t.Fatalf("moments = %+v; want one", p.Moments)
			}
			m := p.Moments[0]
			if !m.Time.Equal(t0.Add(15*time.Minute)) || m.Curve != CurveConcurrency || m.Minutes != 1 || m.Change > -0.4 || m.Change < -0.55 {
				t.Errorf("moment = %+v; want concurrency falling about 48%% at 20:00 in 1 minute", m)
			}
			// Half the manifest and search requests went; the home page
			// had none before.
			for _, want := range []string{"GET /live/ev/manifest.m3u8 2", "(×0.5", "GET /api/v1/home 0→2", "(new)"} {
				if !strings.Contains(m.Routes, want) {
					t.Errorf("moment routes %q; want %q among them", m.Routes, want)
				}
			}
			if !strings.HasPrefix(m.Description, "at 20:00 concurrency fell 4") {
				t.Errorf("description %q; want it to start \"at 20:00 concurrency fell 4…\"", m.Description)
			}
			t.Log(m.Description)
		})
	}
}

// TestBuildDataset builds the known-structure capture from a hive
// directory (its two hour partitions read one after the other, sessions
// carried across) and checks the profile equals the one from one file.
func TestBuildDataset(t *testing.T) {
	path, evs := writeCapture(t, knownStructure())
	dir := filepath.Join(t.TempDir(), "ds")
	d, err := eventlog.CreateDataset[schema.Exchange](dir, eventlog.WriterConfig{Source: "synth"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(evs...); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := eventlog.Files([]string{dir}, eventlog.Range{})
	if len(files) != 2 {
		t.Fatalf("dataset files = %v; want two hour partitions", files)
	}
	now := func() time.Time { return t0 }
	one, err := Build(context.Background(), []string{path}, Config{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	two, err := Build(context.Background(), []string{dir}, Config{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	one.Meta.Capture, two.Meta.Capture = nil, nil
	if !reflect.DeepEqual(one, two) {
		t.Errorf("profile of the dataset differs from the profile of the file:\n%+v\n%+v", two.Meta, one.Meta)
	}
}
