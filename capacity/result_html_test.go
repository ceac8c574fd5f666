package capacity

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestResultHTMLLabels: ratios found by bisection and axis ticks of a
// fractional step are labelled as a person writes them, never with float
// noise (1.2000000000000002x).
func TestResultHTMLLabels(t *testing.T) {
	r := &Result{SLOs: []string{"p(99)<500ms"}, Knee: 0.6000000000000001, Breach: 1.2000000000000002}
	for i, ratio := range []float64{0.2, 0.4, 0.6000000000000001, 0.8, 1, 1.2000000000000002} {
		r.Steps = append(r.Steps, Step{Ratio: ratio, Phase: "ramp", Passes: 2, P99MS: 100 + 123.456*float64(i), Holds: i < 3, Settled: true, AchievedRPS: 2251.368 * ratio})
	}
	var page bytes.Buffer
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	noise := regexp.MustCompile(`\d\.\d*0000000\d|\d\.\d*9999999\d`)
	for name, out := range map[string]string{"html": page.String(), "text": text.String()} {
		if m := noise.FindString(out); m != "" {
			t.Errorf("%s shows float noise %q", name, m)
		}
	}
	for _, want := range []string{">1.2x<", "holds 0.6x", "breach 1.2x"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("html lacks %q", want)
		}
	}
	// Figures by the reports' one rule (report.Fig): 2251.368 × 1.2 = 2,702 req/s.
	if !strings.Contains(text.String(), "2,702") || !strings.Contains(r.Sentence(), "holds 0.6x") {
		t.Errorf("text:\n%s\n%s", &text, r.Sentence())
	}
}
