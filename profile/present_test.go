package profile

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"html"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/internal/browser"
	"github.com/surge-replay/surge/internal/golden"
)

var (
	dropOnce    sync.Once
	dropProfile *Profile
	dropErr     error
)

// dropped returns the profile of the steady capture with the planted drop,
// built once for the tests that present it.
func dropped(t *testing.T) *Profile {
	t.Helper()
	dropOnce.Do(func() {
		path := steadyCapture(t, true)
		dropProfile, dropErr = Build(context.Background(), []string{path}, Config{Now: func() time.Time { return t0.Add(24 * time.Hour) }})
		if dropErr == nil {
			dropProfile.Meta.Capture = []string{"drop.parquet"}
		}
	})
	if dropErr != nil {
		t.Fatal(dropErr)
	}
	return dropProfile
}

// TestShowGolden prints the planted-drop profile and compares it with
// testdata/show.golden (go test -update rewrites it).
func TestShowGolden(t *testing.T) {
	var b bytes.Buffer
	if err := Show(&b, dropped(t)); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/show.golden", b.Bytes())
}

// TestCompare compares a profile with itself (no difference) and the
// steady profile with the planted drop against it.
func TestCompare(t *testing.T) {
	p := dropped(t)
	self := Compare(p, p)
	for _, c := range self.Curves {
		if c.Correlation == nil || math.Abs(*c.Correlation-1) > 1e-9 || c.PeakRatio != 1 {
			t.Errorf("Compare(p, p) curve %s: r = %v, peak ratio %v; want 1, 1", c.Curve, c.Correlation, c.PeakRatio)
		}
	}
	for _, m := range self.Mixes {
		if m.DeltaPP != 0 {
			t.Errorf("Compare(p, p) mix %s %s: %+.2fpp; want 0", m.Dimension, m.Value, m.DeltaPP)
		}
	}
	for _, d := range self.Distributions {
		if d.KS != 0 {
			t.Errorf("Compare(p, p) %s %s: KS %v; want 0", d.Distribution, d.Of, d.KS)
		}
	}

	flat, err := Build(context.Background(), []string{steadyCapture(t, false)}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := Compare(flat, p)
	var home MixDiff
	for _, m := range c.Mixes {
		if m.Dimension == "route" && m.Value == "GET /api/v1/home" {
			home = m
		}
	}
	// The drop adds ~300 home-page requests that the flat profile has none of.
	if home.ShareA != 0 || home.ShareB <= 0 || home.DeltaPP != home.ShareB {
		t.Errorf("home page mix = %+v; want 0%% in A, some in B", home)
	}
	if c.Curves[2].Curve != CurveConcurrency || c.Curves[2].PeakRatio > 1.01 || c.Curves[2].MeanB >= c.Curves[2].MeanA {
		t.Errorf("concurrency = %+v; want B's mean lower, its peak no higher", c.Curves[2])
	}
	var b bytes.Buffer
	if err := c.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"correlation", "GET /api/v1/home", "KS ", "at 20:00 concurrency fell"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("compare text lacks %q:\n%s", want, b.String())
		}
	}
	if _, err := json.Marshal(c); err != nil {
		t.Errorf("comparison does not marshal: %v", err)
	}
}

// TestKSAndPearson checks the distances on hand-made inputs.
func TestKSAndPearson(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []Bucket
		want float64
	}{
		{"same", []Bucket{{0, 1, 5}, {1, 2, 5}}, []Bucket{{0, 1, 1}, {1, 2, 1}}, 0},           // same shares
		{"disjoint", []Bucket{{0, 1, 5}}, []Bucket{{4, 5, 2}}, 1},                             // no overlap
		{"half", []Bucket{{0, 1, 1}, {1, 2, 1}}, []Bucket{{1, 2, 1}}, 0.5},                    // A's first half below B
		{"other edges", []Bucket{{0, 1, 1}, {2, 3, 3}}, []Bucket{{1, 2, 1}, {2, 3, 1}}, 0.25}, // edges only one side has
		{"empty", nil, []Bucket{{0, 1, 1}}, 0},                                                // undefined: 0
	} {
		if got := KS(tc.a, tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: KS = %v; want %v", tc.name, got, tc.want)
		}
	}
	if r, ok := pearson([]float64{1, 2, 3}, []float64{2, 4, 6}); !ok || math.Abs(r-1) > 1e-12 {
		t.Errorf("pearson(linear) = %v, %v; want 1", r, ok)
	}
	if r, ok := pearson([]float64{1, 2, 3}, []float64{3, 2, 1}); !ok || math.Abs(r+1) > 1e-12 {
		t.Errorf("pearson(reversed) = %v, %v; want -1", r, ok)
	}
	if _, ok := pearson([]float64{1, 1, 1}, []float64{1, 2, 3}); ok {
		t.Error("pearson(constant) defined; want undefined")
	}
}

// TestPlotFiles writes the plots and checks every SVG is well-formed XML
// and the page is self-contained: no script, nothing fetched.
func TestPlotFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plots")
	files, err := Plot(dir, dropped(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 10 || filepath.Base(files[len(files)-1]) != "index.html" {
		t.Fatalf("Plot wrote %q; want 9 SVGs and index.html last", files)
	}
	for _, f := range files[:len(files)-1] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s: not well-formed: %v", f, err)
				}
				break
			}
		}
	}
	page, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?i)<script|<link|src=|url\(|href="http`).Match(page) {
		t.Errorf("index.html is not self-contained")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(files) {
		t.Errorf("plot directory has %d entries; want %d (no temporary files left)", len(ents), len(files))
	}
}

// plotCheck is injected into a copy of the page: it measures every chart's
// drawn paths and collects console errors into the DOM.
const plotCheck = `<script>
(function () {
  var errs = [];
  var ce = console.error;
  console.error = function () { errs.push(Array.prototype.join.call(arguments, " ")); ce.apply(console, arguments); };
  window.addEventListener("error", function (e) { errs.push(e.message); });
  window.addEventListener("load", function () {
    var charts = [];
    document.querySelectorAll("svg.chart").forEach(function (svg) {
      var drawn = 0, box = svg.getBoundingClientRect();
      svg.querySelectorAll("path.line").forEach(function (p) { if (p.getTotalLength() > 0) drawn++; });
      charts.push({id: svg.id, drawn: drawn, width: box.width, height: box.height, markers: svg.querySelectorAll("g.marker").length});
    });
    var out = document.createElement("pre");
    out.id = "surge-check";
    out.textContent = JSON.stringify({charts: charts, errors: errs, moments: document.querySelectorAll("#moments li").length});
    document.body.appendChild(out);
  });
})();
</script>`

// TestPlotInChromium renders the plot page of the planted-drop profile in
// headless Chromium (network off) and checks that every chart drew, the
// time charts mark the moment, and nothing logged an error.
func TestPlotInChromium(t *testing.T) {
	path, err := browser.Find()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %v", err)
		}
		t.Skipf("SKIPPED, NOT RUN: %v", err)
	}
	b := &browser.Browser{Path: path, ProfileDir: t.TempDir(), Offline: true, Width: 1280, Height: 2600}
	dir := t.TempDir()
	files, err := Plot(dir, dropped(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The page as written, for console errors of its own.
	_, log, err := b.DumpDOM(ctx, "file://"+files[len(files)-1], 0)
	if err != nil {
		t.Fatal(err)
	}
	if errs := browser.ConsoleErrors(log); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	page, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	checked := filepath.Join(dir, "checked.html")
	if err := os.WriteFile(checked, []byte(strings.Replace(string(page), "</body>", plotCheck+"</body>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, log, err := b.DumpDOM(ctx, "file://"+checked, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<pre id="surge-check">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the check script did not run; log:\n%s", log)
	}
	var got struct {
		Charts []struct {
			ID            string
			Drawn         int
			Width, Height float64
			Markers       int
		}
		Errors  []string
		Moments int
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &got); err != nil {
		t.Fatalf("check result %q: %v", m[1], err)
	}
	if len(got.Charts) != 9 || got.Moments != 1 {
		t.Errorf("page has %d charts and %d moments; want 9 and 1", len(got.Charts), got.Moments)
	}
	timeCharts := map[string]bool{"arrivals": true, "requests": true, "concurrency": true, "mix-region": true, "mix-device": true, "mix-protocol": true}
	for _, c := range got.Charts {
		if c.Drawn == 0 || c.Width < 100 || c.Height < 100 {
			t.Errorf("chart %s: %d drawn paths, %gx%g px; want paths drawn in a visible chart", c.ID, c.Drawn, c.Width, c.Height)
		}
		if timeCharts[c.ID] && c.Markers != 1 {
			t.Errorf("chart %s: %d moment markers; want 1", c.ID, c.Markers)
		}
	}
	if len(got.Errors) > 0 {
		t.Errorf("script errors: %q", got.Errors)
	}
	shot := filepath.Join(t.ArtifactDir(), "profile.png")
	if _, err := b.Screenshot(ctx, "file://"+files[len(files)-1], shot, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
}

// TestDuckDBReadsProfile has DuckDB read every table of a profile and
// checks each row count and column list against what Load reads. It needs
// SURGE_PYTHON, a Python with duckdb (make test sets it up).
func TestDuckDBReadsProfile(t *testing.T) {
	py := os.Getenv("SURGE_PYTHON")
	if py == "" {
		t.Skip("SURGE_PYTHON not set: run make test (it installs pyarrow and duckdb)")
	}
	dir := filepath.Join(t.TempDir(), "prof")
	p := dropped(t)
	if err := Write(dir, p); err != nil {
		t.Fatal(err)
	}
	const script = `
import duckdb, json, sys
out = {}
for name in sys.argv[2:]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{sys.argv[1]}/{name}')")
    out[name] = {"rows": rel.count("*").fetchone()[0], "columns": rel.columns, "types": [str(t) for t in rel.types]}
print(json.dumps(out))
`
	out, err := exec.Command(py, append([]string{"-c", script, dir}, Tables...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("duckdb: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got map[string]struct {
		Rows    int
		Columns []string
		Types   []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]struct {
		rows int
		cols string
	}{
		TableArrivalsSecond:  {len(p.ArrivalsSecond), "time sessions"},
		TableArrivalsMinute:  {len(p.ArrivalsMinute), "time sessions requests"},
		TableRoutesMinute:    {len(p.RoutesMinute), "time route requests"},
		TableConcurrency:     {len(p.Concurrency), "time live"},
		TableSessionLength:   {len(p.SessionLength), "class lower_ms upper_ms sessions"},
		TableSessionRequests: {len(p.SessionRequests), "class lower upper sessions"},
		TableThinkTime:       {len(p.ThinkTime), "from_route to_route lower_ms upper_ms count"},
		TableTransitions:     {len(p.Transitions), "class from_route to_route count probability"},
		TableMix:             {len(p.Mix), "time dimension value requests sessions"},
		TableStatus:          {len(p.Status), "route status requests"},
		TableMoments:         {len(p.Moments), "time minutes curve from_value to_value change routes description"},
	}
	for _, name := range Tables {
		g, w := got[name], want[name]
		if g.Rows != w.rows || strings.Join(g.Columns, " ") != w.cols {
			t.Errorf("DuckDB reads %s as %d rows of %v; want %d rows of %s", name, g.Rows, g.Columns, w.rows, w.cols)
		}
		if g.Columns[0] == "time" && !strings.HasPrefix(g.Types[0], "TIMESTAMP") {
			t.Errorf("DuckDB reads %s.time as %s; want a timestamp", name, g.Types[0])
		}
	}
}
