package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/internal/synth"
	"github.com/surge-replay/surge/profile"
	"github.com/surge-replay/surge/schema"
)

// profileCapture writes a 10-minute capture of known structure: two new
// sessions a second, each of 6 requests 5 s apart.
func profileCapture(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "cap.parquet")
	w, err := eventlog.Create[schema.Exchange](path, eventlog.WriterConfig{Source: "synth"})
	if err != nil {
		t.Fatal(err)
	}
	s := synth.Sessions{Start: time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC), Duration: 10 * time.Minute,
		Arrivals: func(int) int { return 2 },
		Kinds: []synth.Kind{
			{Device: "tv", Region: "eu-west", Protocol: schema.ProtoHTTP2, Status: 200, Paths: []string{"/api/v1/home", "/live/ev/manifest.m3u8"}, Requests: 6, Think: 5 * time.Second},
			{Device: "mobile", Region: "us-east", Protocol: schema.ProtoHTTP11, Status: 200, Paths: []string{"/api/v1/search"}, Requests: 6, Think: 5 * time.Second},
		}}
	if err := s.Generate(func(e *schema.Exchange) error { return w.Write(*e) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProfileCommands runs surge profile build, show, plot and compare end
// to end, and checks their refusals name what is wrong.
func TestProfileCommands(t *testing.T) {
	dir := t.TempDir()
	capPath := profileCapture(t, dir)
	prof := filepath.Join(dir, "prof")
	out := mustSurge(t, "profile", "build", capPath, "-o", prof, "--class", "path=/api/v1/home:home-first", "--session-idle", "10m")
	if !strings.Contains(out, "7200 requests, 1200 sessions") {
		t.Errorf("build printed %q; want 7200 requests, 1200 sessions", out)
	}
	p, err := profile.Load(prof)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Meta.Classes, ",") != "home-first,default" || p.Meta.Parameters.SessionIdle != "10m0s" {
		t.Errorf("classes %v, session idle %q; want home-first,default and 10m0s", p.Meta.Classes, p.Meta.Parameters.SessionIdle)
	}
	// The tv sessions start at the home page, the mobile ones at search.
	perClass := map[string]int64{}
	for _, b := range p.SessionRequests {
		perClass[b.Class] += b.Sessions
	}
	if perClass["home-first"] != 600 || perClass["default"] != 600 {
		t.Errorf("sessions per class = %v; want 600 home-first, 600 default", perClass)
	}
	// A second build replaces the profile.
	mustSurge(t, "profile", "build", capPath, "-o", prof)

	out = mustSurge(t, "profile", "show", prof)
	for _, want := range []string{"requests 7,200   sessions 1,200", "new sessions", "▁", "notable moments"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	plots := filepath.Join(dir, "plots")
	out = mustSurge(t, "profile", "plot", prof, "-o", plots)
	if _, err := os.Stat(filepath.Join(plots, "index.html")); err != nil || !strings.Contains(out, "10 files") {
		t.Errorf("plot: %q, %v", out, err)
	}
	mustSurge(t, "profile", "plot", prof, "-o", plots) // an earlier plot directory is replaced
	out = mustSurge(t, "profile", "compare", prof, prof, "--json")
	var c profile.Comparison
	if err := json.Unmarshal([]byte(out), &c); err != nil || len(c.Curves) != 3 || *c.Curves[0].Correlation != 1 {
		t.Errorf("compare --json = %v (%v)", out[:min(len(out), 300)], err)
	}

	notProfile := filepath.Join(dir, "other")
	os.Mkdir(notProfile, 0o755)
	os.WriteFile(filepath.Join(notProfile, "keep.txt"), []byte("mine"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		// no output
		{[]string{"profile", "build", capPath}, "--output (-o) PROFILE/ is required"},
		// a directory that is not a profile is not replaced
		{[]string{"profile", "build", capPath, "-o", notProfile}, "not a profile"},
		// a class without a name
		{[]string{"profile", "build", capPath, "-o", prof, "--class", "path=/live/**"}, "CONDITION[,CONDITION]:NAME"},
		// not a capture
		{[]string{"profile", "build", filepath.Join(notProfile, "keep.txt"), "-o", prof}, "keep.txt"},
		// not a profile
		{[]string{"profile", "show", notProfile}, "no profile.yaml"},
		// a topic is not profiled directly
		{[]string{"profile", "build", "kafka://127.0.0.1:9092/captures", "-o", prof}, "archive the topic first"},
		// the same capture twice would count its events twice
		{[]string{"profile", "build", capPath, filepath.Dir(capPath) + "/./cap.parquet", "-o", prof}, "are the same capture"},
		// synth: the same --from twice would copy its sessions twice as often
		{[]string{"profile", "synth", prof, "--from", capPath, "--from", filepath.Dir(capPath) + "/./cap.parquet", "--duration", "1m", "-o", filepath.Join(dir, "s.parquet")}, "are the same capture"},
		// plot needs an output
		{[]string{"profile", "plot", prof}, "--output (-o) DIR/ is required"},
		// plot does not write into someone else's directory (plots/ above, with its index.html, was replaced)
		{[]string{"profile", "plot", prof, "-o", notProfile}, "not a plot directory"},
		// synth writes one file: an existing directory is refused before any work, --force or not
		{[]string{"profile", "synth", prof, "--from", capPath, "--duration", "1m", "-o", dir, "--force"}, "is a directory; want a file name"},
	} {
		_, _, err := surge(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("surge %s = %v; want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(notProfile, "keep.txt")); string(b) != "mine" {
		t.Error("the directory that is not a profile was changed")
	}
}

// TestProfileOfSample builds the profile of the bundled match-night sample
// (imported from its access log) and checks it against the sample's
// generator's own counts (testdata/sample/README.md): requests by endpoint
// and by status exactly, and the kickoff found as a rise of arrivals.
func TestProfileOfSample(t *testing.T) {
	p, err := profile.Build(t.Context(), []string{sampleCapture(t)}, profile.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Meta.Requests != 46497 {
		t.Errorf("requests = %d; want 46,497", p.Meta.Requests)
	}
	endpoint := map[string]int64{}
	for _, s := range p.RouteMix() {
		name := s.Value
		if strings.HasPrefix(name, "GET /api/v1/browse/") {
			name = "browse"
		}
		endpoint[name] += s.Count
	}
	for route, want := range map[string]int64{
		"browse": 10072, "GET /api/v1/chat/{id}/messages": 5142, "POST /api/v1/heartbeat": 6789, "GET /api/v1/home": 3271,
		"GET /live/{id}/manifest.m3u8": 6252, "GET /api/v1/recommendations": 2798, "GET /api/v1/search": 4008,
		"GET /live/{id}/seg-{n}.ts": 5850, "POST /api/v1/session": 2315,
	} {
		if endpoint[route] != want {
			t.Errorf("requests of %s = %d; want %d", route, endpoint[route], want)
		}
	}
	status := map[string]int64{}
	for _, s := range p.StatusMix("") {
		status[s.Value] = s.Count
	}
	want := map[string]int64{"200": 38765, "204": 6770, "304": 476, "401": 129, "404": 88, "500": 35, "502": 89, "503": 104, "504": 41}
	if !reflect.DeepEqual(status, want) {
		t.Errorf("statuses = %v; want %v", status, want)
	}
	kickoff := false
	for _, m := range p.Moments {
		at := m.Time.Format("15:04")
		if m.Curve == profile.CurveArrivals && m.Change > 1 && at >= "19:52" && at <= "19:55" {
			kickoff = true
		}
	}
	if !kickoff {
		t.Errorf("no rise of arrivals at the 19:55 kickoff among %v", p.Moments)
	}
}
