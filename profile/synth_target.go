package profile

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/surge-replay/surge/schema"
)

// SynthTarget is what Synth makes a resampled capture follow: the parts of
// a profile it matches. A profile directory gives one (TargetOf); so does a
// capture itself (CaptureTarget), which makes a capture's own shape the
// target.
type SynthTarget struct {
	// Start is the time of the first Arrivals bin (UTC); the synthetic
	// capture starts there unless SynthConfig.Start says otherwise.
	Start time.Time
	// Step is the width of one Arrivals bin; zero means one minute.
	Step time.Duration
	// Arrivals is the number of new sessions per Step, from Start. A
	// synthetic capture longer than len(Arrivals) steps repeats the curve
	// (a daily profile over a week repeats the day).
	Arrivals []float64
	// Routes is each route group's share of requests (report.RouteGroup
	// of method and path), summing to 1; nil means not matched.
	Routes map[string]float64
	// Classes is each session class's share of sessions (SessionClass of
	// its first request), summing to 1; nil means not matched.
	Classes map[string]float64
	// Lengths is the distribution of session length (first to last
	// request), in seconds; no bins means not matched.
	Lengths Histogram
}

// Histogram is a distribution as bins: Counts[i] values in
// (Upper[i-1], Upper[i]], the first bin from -Inf. The last Upper may be
// +Inf.
type Histogram struct {
	Upper  []float64
	Counts []float64
}

// step returns the bin width, one minute by default.
func (t *SynthTarget) step() time.Duration {
	if t.Step <= 0 {
		return time.Minute
	}
	return t.Step
}

// Validate returns every problem of t, each naming the field.
func (t *SynthTarget) Validate() []error {
	var errs []error
	if len(t.Arrivals) == 0 {
		errs = append(errs, errors.New("profile: no arrival curve (new sessions per minute)"))
	}
	for i, a := range t.Arrivals {
		if a < 0 || math.IsNaN(a) || math.IsInf(a, 0) {
			errs = append(errs, fmt.Errorf("profile: arrivals at %s: %v is not a count", t.Start.Add(time.Duration(i)*t.step()).UTC().Format(time.RFC3339), a))
		}
	}
	if len(t.Lengths.Upper) != len(t.Lengths.Counts) {
		errs = append(errs, fmt.Errorf("profile: session lengths: %d bin bounds for %d counts", len(t.Lengths.Upper), len(t.Lengths.Counts)))
	} else if !sort.Float64sAreSorted(t.Lengths.Upper) {
		errs = append(errs, errors.New("profile: session lengths: bin bounds are not ascending"))
	}
	return errs
}

// Total returns the sum of the counts.
func (h Histogram) Total() float64 {
	var n float64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// bin returns the index of the bin x falls in.
func (h Histogram) bin(x float64) int {
	i := sort.SearchFloat64s(h.Upper, x) // first Upper >= x
	if i == len(h.Upper) {
		i--
	}
	return i
}

// cdf returns the cumulative share at each bin's upper bound.
func (h Histogram) cdf() []float64 {
	total := h.Total()
	out := make([]float64, len(h.Counts))
	var run float64
	for i, c := range h.Counts {
		run += c
		if total > 0 {
			out[i] = run / total
		}
	}
	return out
}

// KS returns the Kolmogorov–Smirnov distance of two histograms over the
// same bins: the largest difference of their cumulative shares at a bin
// bound (the distance at the histograms' resolution).
func KS(a, b Histogram) float64 {
	ca, cb := a.cdf(), b.cdf()
	var d float64
	for i := range min(len(ca), len(cb)) {
		d = max(d, math.Abs(ca[i]-cb[i]))
	}
	return d
}

// SessionClass is the class of a session, from its first request: its
// device class (schema.Exchange.Device), or "other" when none was recorded.
func SessionClass(first *schema.Exchange) string {
	if first.Device == "" {
		return "other"
	}
	return first.Device
}

// lengthBins are the session-length bins CaptureTarget uses, in seconds:
// 15 s wide up to two hours, then one open bin.
func lengthBins() []float64 {
	var b []float64
	for s := 15.0; s <= 2*3600; s += 15 {
		b = append(b, s)
	}
	return append(b, math.Inf(1))
}
