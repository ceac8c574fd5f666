package capacity

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/surge-replay/surge/report"
)

func TestParseSLO(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    SLO
		wantErr string
	}{
		// A latency percentile with a duration bound.
		{"p(99)<500ms", SLO{Text: "p(99)<500ms", Percentile: 99, Bound: 500}, ""},
		// Spaces are ignored; seconds convert to ms.
		{" p(99.9) < 1.2s", SLO{Text: " p(99.9) < 1.2s", Percentile: 99.9, Bound: 1200}, ""},
		// An error rate in percent.
		{"errors<1%", SLO{Text: "errors<1%", Bound: 0.01}, ""},
		// An error rate as a fraction.
		{"errors<0.05", SLO{Text: "errors<0.05", Bound: 0.05}, ""},
		// A percentile the report does not keep.
		{"p(95)<1s", SLO{}, "percentile 95"},
		// A bound without a unit.
		{"p(99)<500", SLO{}, "bound"},
		// No comparison.
		{"p(99)", SLO{}, "want p(99)<500ms"},
		// A rate above 100%.
		{"errors<150%", SLO{}, "above 100%"},
		// Something else.
		{"rps<5", SLO{}, "neither"},
	} {
		got, err := ParseSLO(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSLO(%q) = %v; want an error with %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSLO(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"p(99)<500ms", "errors<1%", "p(50)<1s", "errors<0.5", "p()<", "<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseSLO(s)
		if err != nil {
			return
		}
		if o.Bound <= 0 || math.IsNaN(o.Bound) || (o.Percentile == 0 && o.Bound > 1) {
			t.Errorf("ParseSLO(%q) = %+v: a bound out of range", s, o)
		}
	})
}

// target is a fake run: p99 100 ms up to knee, then /api/search at 1.2 s;
// errors 5% from knee+0.4; the generator falls behind from behind.
func target(knee, behind float64, runs *int) Run {
	return func(ctx context.Context, r float64) (*report.RunSummary, error) {
		*runs++
		p99 := 100.0
		if r > knee {
			p99 = 1200
		}
		s := &report.RunSummary{Scheduled: 1000, Sent: 1000, OK: 1000, GeneratorKeptUp: r < behind,
			Latency: report.Percentiles{P99: p99}, AchievedRPS: 100 * r}
		if r > knee+0.4 {
			s.OK = 950
		}
		s.Routes = []report.RouteSummary{
			{Route: "GET /api/search", Sent: 300, Latency: report.Percentiles{P99: p99}, Errors: 1000 - s.OK},
			{Route: "GET /", Sent: 700, Latency: report.Percentiles{P99: 80}},
		}
		return s, nil
	}
}

func TestSearchFindsTheKnee(t *testing.T) {
	slos := []SLO{mustSLO(t, "p(99)<500ms"), mustSLO(t, "errors<1%")}
	runs := 0
	s := &Search{SLOs: slos, Run: target(2.6, 100, &runs), Step: 0.5, Resolution: 0.1, Projected: 5}
	res, err := s.Do(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Ramp 1, 1.5, … 2.5 hold, 3 breaks; bisect 2.75 (breaks), 2.625
	// (breaks), 2.563 holds: knee 2.563, breach 2.625.
	if res.Knee < 2.5 || res.Knee > 2.6 || res.Breach <= 2.6 || res.Breach > 2.7 {
		t.Errorf("knee %g, breach %g; want 2.5–2.6 and just above 2.6", res.Knee, res.Breach)
	}
	want := "holds 2.563x of the recorded traffic (51% of projected 5x); first breach at 2.625x: GET /api/search p99 1.2 s"
	if got := res.Sentence(); got != want {
		t.Errorf("Sentence() = %q; want %q", got, want)
	}
	for _, st := range res.Steps {
		if st.Passes != 2 || !st.Settled {
			t.Errorf("step %gx: %d passes, settled %v; want 2, true", st.Ratio, st.Passes, st.Settled)
		}
	}
	var text, js, html bytes.Buffer
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), want) || !strings.Contains(text.String(), "rule:") {
		t.Errorf("text (%v):\n%s", err, text.String())
	}
	if err := res.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"knee": 2.563`) {
		t.Errorf("json (%v):\n%s", err, js.String())
	}
	if err := res.WriteHTML(&html); err != nil || strings.Count(html.String(), `<svg class="chart"`) != 2 || strings.Contains(html.String(), "http://www") && strings.Contains(html.String(), "<script src") {
		t.Errorf("html (%v)", err)
	}
}

func TestSearchStopsWhenTheGeneratorFallsBehind(t *testing.T) {
	runs := 0
	s := &Search{SLOs: []SLO{mustSLO(t, "p(99)<500ms")}, Run: target(10, 2.2, &runs), Step: 0.5}
	res, err := s.Do(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.GeneratorBound || res.GeneratorAt != 2.5 || res.Knee != 2 || res.Breach != 0 {
		t.Errorf("result %+v; want generator-bound at 2.5x, knee 2x, no breach", res)
	}
	// The generator's step ran one pass: nothing more to learn.
	if last := res.Steps[len(res.Steps)-1]; last.Passes != 1 || len(res.Steps) != 4 {
		t.Errorf("steps %d, last passes %d; want 4 steps, 1 pass at the end", len(res.Steps), last.Passes)
	}
	if !strings.Contains(res.Sentence(), "generator fell behind") {
		t.Errorf("Sentence() = %q", res.Sentence())
	}
}

func mustSLO(t *testing.T, s string) SLO {
	t.Helper()
	o, err := ParseSLO(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
