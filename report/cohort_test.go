package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

func TestDetectSurge(t *testing.T) {
	tests := []struct {
		name   string
		counts []int64
		want   int // -1: none
	}{
		// Flat traffic: no surge.
		{"flat", []int64{100, 110, 95, 105, 100, 98, 102}, -1},
		// A step from 100 to 300 at minute 5.
		{"step", []int64{100, 100, 100, 100, 100, 300, 320, 310}, 5},
		// Exactly twice the median is not more than twice.
		{"at the factor", []int64{100, 100, 100, 200, 201}, 4},
		// A jump before three minutes of history does not count.
		{"too early", []int64{10, 100, 100, 100, 100}, -1},
		// A median of zero (traffic starting from nothing) never triggers.
		{"from zero", []int64{0, 0, 0, 50, 50}, -1},
		// The median of the trailing ten minutes, not of all before: a slow
		// ramp (5%/min) does not trigger, a late spike does.
		{"ramp then spike", []int64{100, 105, 110, 116, 122, 128, 134, 141, 148, 155, 163, 171, 180, 400}, 13},
		// Too short to tell.
		{"empty", nil, -1},
	}
	for _, tt := range tests {
		got, ok := DetectSurge(tt.counts)
		if !ok {
			got = -1
		}
		if got != tt.want {
			t.Errorf("%s: DetectSurge(%v) = %d; want %d", tt.name, tt.counts, got, tt.want)
		}
	}
}

func TestSurgeCounter(t *testing.T) {
	var c SurgeCounter
	// Five quiet minutes at 10/min, then 50/min.
	for m := range 8 {
		n := 10
		if m >= 5 {
			n = 50
		}
		for i := range n {
			c.Add(t0.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Second))
		}
	}
	at, ok := c.Detect()
	if want := t0.Add(5 * time.Minute); !ok || !at.Equal(want) {
		t.Errorf("Detect() = %v, %v; want %v", at, ok, want)
	}
	var empty SurgeCounter
	if _, ok := empty.Detect(); ok {
		t.Error("an empty counter detected a surge")
	}
}

// sessionResult is a sent result of session s at offset at, ok or 5xx.
func sessionResult(s string, at time.Duration, latMS float64, status int32) schema.Result {
	r := result("GET /live/{id}/seg-{n}.ts", status, latMS, "")
	r.Intended = t0.Add(at)
	sent := r.Intended
	r.Sent = &sent
	r.Session = s
	return r
}

func TestGateCohorts(t *testing.T) {
	surge := Surge{Offset: 60 * time.Second, Source: "config"}
	th, err := ParseThresholdFlag("latency_ms{cohort:existing}:p(99)<50")
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGate([]Threshold{th}, &surge)
	if err != nil {
		t.Fatal(err)
	}
	g.SetStart(t0)
	var rs []schema.Result
	// Two viewers watch before the surge at 10 ms, then at 80 ms after it.
	for _, s := range []string{"a", "b"} {
		for i := range 10 {
			rs = append(rs, sessionResult(s, time.Duration(i)*5*time.Second, 10, 200))
			rs = append(rs, sessionResult(s, 60*time.Second+time.Duration(i)*time.Second, 80, 200))
		}
	}
	// Clone 1 of viewer a is another session that arrives with the surge,
	// and so do three new viewers; one of their requests fails.
	for _, s := range []string{"a", "c", "d", "e"} {
		for i := range 5 {
			r := sessionResult(s, 61*time.Second+time.Duration(i)*time.Second, 30, 200)
			if s == "a" {
				r.Clone = 1
			}
			if s == "e" && i == 0 {
				r.Status = 503
			}
			rs = append(rs, r)
		}
	}
	for i := range rs {
		g.Add(&rs[i])
	}
	c := g.Cohorts()
	if c.SessionsBefore != 2 || c.SessionsArrived != 4 || c.OffsetS != 60 || !c.SurgeAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("cohorts = %+v; want 2 sessions before, 4 arrived, surge at +60 s", c)
	}
	want := map[string]struct {
		sent, errs int64
		p50        float64
	}{
		CohortBefore:   {20, 0, 10},
		CohortExisting: {20, 0, 80},
		CohortArrived:  {20, 1, 30},
	}
	for _, got := range c.Cohorts {
		w := want[got.Cohort]
		if got.Sent != w.sent || got.Errors != w.errs || !nearRel(got.Latency.P50, w.p50, 0.002) {
			t.Errorf("cohort %s = %+v; want sent %d errors %d p50 %g", got.Cohort, got, w.sent, w.errs, w.p50)
		}
	}
	// The existing viewers' p99 (80 ms) fails the cohort threshold.
	if r := g.Evaluate(true)[0]; r.OK || !nearRel(r.Value, 80, 0.002) {
		t.Errorf("existing cohort threshold = %+v; want 80 ms failing", r)
	}
	// The text and JSON reports carry the split.
	s := &RunSummary{Scheduled: 1, Sent: 1, Cohorts: c}
	var text, js bytes.Buffer
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "cohorts at the surge") || !strings.Contains(text.String(), "2 alive before") {
		t.Errorf("text:\n%s", text.String())
	}
	if err := s.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Cohorts CohortReport `json:"cohorts"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Cohorts.Cohorts) != 3 || back.Cohorts.Source != "config" {
		t.Errorf("JSON cohorts = %+v, %v", back.Cohorts, err)
	}
}

// TestCohortTextEmpty: a cohort that sent nothing shows no latency ("-"),
// not 0 ms; one that sent shows its percentiles.
func TestCohortTextEmpty(t *testing.T) {
	s := &RunSummary{Cohorts: &CohortReport{Surge: Surge{Source: "config"}, Cohorts: []CohortSummary{
		{Cohort: CohortBefore, Sent: 10, Latency: Percentiles{P50: 12, P99: 40}},
		{Cohort: CohortExisting},
	}}}
	var b strings.Builder
	s.writeCohorts(&b)
	lines := strings.Split(b.String(), "\n")
	var before, existing string
	for _, l := range lines {
		switch f := strings.Fields(l); {
		case len(f) > 0 && f[0] == CohortBefore:
			before = l
		case len(f) > 0 && f[0] == CohortExisting:
			existing = l
		}
	}
	if !strings.Contains(before, "12") || !strings.Contains(before, "40") {
		t.Errorf("before row %q; want p50 12 and p99 40", before)
	}
	if f := strings.Fields(existing); len(f) < 6 || f[4] != "-" || f[5] != "-" {
		t.Errorf("existing row %q; want - for p50 and p99", existing)
	}
}
