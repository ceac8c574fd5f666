package report

import (
	"math"
	"testing"
)

// TestTimelineAgreesWithTheAggregator: the Timeline's per-second counts
// and percentiles are the Aggregator's, second by second, and its errors by
// class add up to the run's.
func TestTimelineAgreesWithTheAggregator(t *testing.T) {
	info, results := goldenRun()
	a := NewAggregator(info)
	tl := NewTimeline(info.Start)
	for i := range results {
		a.Add(&results[i])
		tl.Add(&results[i])
	}
	s, ts := a.Summary(), tl.Series()
	if len(ts.T) != len(s.PerSecond) {
		t.Fatalf("seconds = %d; want %d", len(ts.T), len(s.PerSecond))
	}
	for i, p := range s.PerSecond {
		if ts.T[i] != float64(p.T) || ts.Intended[i] != float64(p.Intended) || ts.Sent[i] != float64(p.Sent) || ts.OK[i] != float64(p.OK) {
			t.Errorf("second %d: t/intended/sent/ok %v %v %v %v; want %d %d %d %d", i, ts.T[i], ts.Intended[i], ts.Sent[i], ts.OK[i], p.T, p.Intended, p.Sent, p.OK)
		}
		if ts.LatP99[i] != p.P99MS || ts.LateP99[i] != p.LatenessP99MS {
			t.Errorf("second %d: p99 %v, lateness p99 %v; want %v, %v", i, ts.LatP99[i], ts.LateP99[i], p.P99MS, p.LatenessP99MS)
		}
	}
	byClass := map[string]float64{}
	for k, c := range ts.ErrClass {
		for _, v := range ts.ErrBy[k] {
			byClass[c] += v
		}
	}
	for c, n := range s.ErrorsBy {
		if byClass[c] != float64(n) {
			t.Errorf("errors of %s = %v; want %d", c, byClass[c], n)
		}
	}
	for c, n := range s.DroppedBy {
		if byClass[c] != float64(n) {
			t.Errorf("drops of %s = %v; want %d", c, byClass[c], n)
		}
	}
	// A second without a sent request is a gap, not a zero.
	empty := NewTimeline(info.Start)
	r := results[0]
	r.Error = "dropped_deadline"
	empty.Add(&r)
	if v := empty.Series().LatP99[0]; !math.IsNaN(v) {
		t.Errorf("p99 of a second of drops only = %v; want NaN", v)
	}
	var nilTL *Timeline
	nilTL.Add(&r)
	if nilTL.Series() != nil {
		t.Errorf("a nil Timeline's series is not nil")
	}
}
