package report

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
)

func goldenHTML(t *testing.T) []byte {
	t.Helper()
	info, results := goldenRun()
	a := NewAggregator(info)
	tl := NewTimeline(info.Start)
	for i := range results {
		a.Add(&results[i])
		tl.Add(&results[i])
	}
	s := a.Summary()
	r := &HTMLReport{Summary: s, Series: tl.Series(), Markers: []Marker{{T: 20, Label: "ratio 3x"}}}
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return b.Bytes()
}

func TestGoldenHTML(t *testing.T) {
	golden(t, "run.html", goldenHTML(t))
}

// TestHTMLSelfContained: nothing in the page loads from the network, and
// every chart has a drawn path.
func TestHTMLSelfContained(t *testing.T) {
	page := string(goldenHTML(t))
	for _, bad := range []string{"http://", "https://", "//cdn", "<link", "src="} {
		// The target's URL is shown as text; nothing else may name a URL.
		rest := strings.ReplaceAll(page, "https://staging.example.test", "")
		rest = strings.ReplaceAll(rest, "http://www.w3.org/2000/svg", "")
		if strings.Contains(rest, bad) {
			t.Errorf("page contains %q: it must load nothing", bad)
		}
	}
	charts := regexp.MustCompile(`<svg class="chart" id="([a-z]+)"`).FindAllStringSubmatch(page, -1)
	if len(charts) != 7 {
		t.Fatalf("charts = %d; want 7", len(charts))
	}
	for _, sec := range strings.Split(page, `<svg class="chart"`)[1:] {
		sec = sec[:strings.Index(sec, "</svg>")]
		if !regexp.MustCompile(`class="line"[^>]* d="M[0-9]`).MatchString(sec) {
			t.Errorf("chart %.30s… has no drawn path", sec)
		}
		if !strings.Contains(sec, `class="marker"`) {
			t.Errorf("chart %.30s… has no event marker", sec)
		}
	}
}

func TestDownsample(t *testing.T) {
	nan := math.NaN()
	for _, tt := range []struct {
		name  string
		ys    []float64
		limit int
		wantX []float64
		wantY []float64
	}{
		// Short series pass through untouched.
		{"short", []float64{1, 2, 3}, 4, []float64{0, 1, 2}, []float64{1, 2, 3}},
		// Each bucket of 4 keeps its min and its max, in time order: the
		// spike at x=5 survives.
		{"peak kept", []float64{1, 2, 1, 2, 1, 99, 1, 2}, 4, []float64{0, 1, 4, 5}, []float64{1, 2, 1, 99}},
		// A max before the min keeps time order.
		{"order", []float64{5, 1, 3, 3, 0, 7, 7, 7}, 4, []float64{0, 1, 4, 5}, []float64{5, 1, 0, 7}},
		// A bucket of NaN stays a gap; NaN elsewhere is skipped.
		{"gap", []float64{nan, nan, nan, nan, 3, nan, 4, 2}, 4, []float64{0, 6, 7}, []float64{nan, 4, 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			xs := make([]float64, len(tt.ys))
			for i := range xs {
				xs[i] = float64(i)
			}
			gx, gy := Downsample(xs, tt.ys, tt.limit)
			if !equalNaN(gx, tt.wantX) || !equalNaN(gy, tt.wantY) {
				t.Errorf("Downsample(%v, %d) = %v, %v; want %v, %v", tt.ys, tt.limit, gx, gy, tt.wantX, tt.wantY)
			}
		})
	}
}

// TestDownsampleLong: a day of seconds with one spike comes out at most
// MaxChartPoints long with the spike and the floor in it.
func TestDownsampleLong(t *testing.T) {
	n := 86400
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range n {
		xs[i], ys[i] = float64(i), 10+float64(i%7)
	}
	ys[54321] = 5000
	ys[12345] = -3
	gx, gy := Downsample(xs, ys, MaxChartPoints)
	if len(gx) > MaxChartPoints || len(gx) != len(gy) {
		t.Fatalf("len = %d, %d; want <= %d, equal", len(gx), len(gy), MaxChartPoints)
	}
	var hi, lo bool
	for i := range gx {
		hi = hi || (gx[i] == 54321 && gy[i] == 5000)
		lo = lo || (gx[i] == 12345 && gy[i] == -3)
		if i > 0 && gx[i] <= gx[i-1] {
			t.Fatalf("x not increasing at %d: %v after %v", i, gx[i], gx[i-1])
		}
	}
	if !hi || !lo {
		t.Errorf("spike kept = %v, dip kept = %v; want both", hi, lo)
	}
}

func equalNaN(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

// TestHTMLFromSummaryOnly: a fleet's merged report has no Timeline; the
// page draws what the per-second summary holds and says what it cannot.
func TestHTMLFromSummaryOnly(t *testing.T) {
	info, results := goldenRun()
	a := NewAggregator(info)
	for i := range results {
		a.Add(&results[i])
	}
	var b bytes.Buffer
	if err := (&HTMLReport{Summary: a.Summary(), Title: "surge run r1"}).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if n := strings.Count(page, `<svg class="chart"`); n != 7 {
		t.Errorf("charts = %d; want 7", n)
	}
	if !strings.Contains(page, "not in this report&#39;s source") || !strings.Contains(page, "surge run r1") {
		t.Errorf("no note on the charts a summary cannot draw, or no title")
	}
	if n := len(regexp.MustCompile(`class="line"[^>]* d="M[0-9]`).FindAllString(page, -1)); n < 5 {
		t.Errorf("drawn lines = %d; want the rate, latency, lateness and error lines", n)
	}
}
