package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// agentReport returns agent's report seq of n results (latency 1..n ms,
// lateness 0.1 ms) with clock offset off (known or not), as an agent
// publishes it: through JSON.
func agentReport(t *testing.T, spec *RunSpec, agent string, seq int64, n int, off time.Duration, known bool) AgentReport {
	return agentReportRTT(t, spec, agent, seq, n, off, 0, known)
}

// agentReportRTT is agentReport with the clock probe's round trip.
func agentReportRTT(t *testing.T, spec *RunSpec, agent string, seq int64, n int, off, rtt time.Duration, known bool) AgentReport {
	t.Helper()
	agg := report.NewAggregator(spec.Info())
	gate, err := spec.newGate()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		at := spec.StartAt.Add(time.Duration(i) * time.Millisecond)
		sent := at.Add(100 * time.Microsecond)
		r := schema.Result{
			Intended: at, Sent: &sent, Route: "GET /a", Method: "GET", Status: 200,
			LatencyNS: int64(i) * 1e6, ServiceNS: int64(i)*1e6 - 1e5, LatenessNS: 1e5,
		}
		agg.Add(&r)
		if gate != nil {
			gate.Add(&r)
		}
	}
	rep := AgentReport{Run: spec.Run, Agent: agent, Seq: seq, Final: true, ClockOffsetNS: int64(off), ClockRTTNS: int64(rtt), ClockKnown: known}
	if rep.State, err = agg.State(); err != nil {
		t.Fatal(err)
	}
	if gate != nil {
		if rep.Gate, err = gate.State(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back AgentReport
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// TestMerge: the merged report is the sum of the agents' (a report
// written twice counts once), the run's thresholds are evaluated on the
// merged results and decide the verdict, and the report warns when the
// agents' clock offsets differ by more than 5 ms.
func TestMerge(t *testing.T) {
	type agent struct {
		off   time.Duration
		known bool
		rtt   time.Duration
	}
	tests := []struct {
		name       string
		agents     []agent
		thresholds []string
		spread     float64 // ms
		warn       string  // what the clock warning says, "" for none
		outcome    string
	}{
		// Offsets within 5 ms of each other: no warning.
		{"clocks agree", []agent{{0, true, 0}, {3 * time.Millisecond, true, 0}, {4900 * time.Microsecond, true, 0}}, nil, 4.9, "", report.VerdictPass},
		// 7 ms apart (one behind, one ahead), each ± 0.5 ms: over 5 ms
		// beyond the error.
		{"clocks disagree", []agent{{-3 * time.Millisecond, true, 0}, {4 * time.Millisecond, true, 0}, {0, true, 0}}, nil, 7, "disagree by 7.0 ms ± 1.0", report.VerdictPass},
		// 7 ms apart, but one probe took 4 ms: ± 3 ms, cannot tell.
		{"clocks too uncertain", []agent{{-3 * time.Millisecond, true, 4 * time.Millisecond}, {4 * time.Millisecond, true, 0}}, nil, 7, "too slow to tell", report.VerdictPass},
		// An agent whose clock is unknown (a topic without append
		// times) does not count.
		{"unknown clock left out", []agent{{0, true, 0}, {time.Second, false, 0}, {time.Millisecond, true, 0}}, nil, 1, "", report.VerdictPass},
		// Thresholds on the merged results: the count is the sum of
		// three agents'; p(50) of 1..100 ms three times over is 50 ms.
		{"thresholds pass", []agent{{0, true, 0}, {0, true, 0}, {0, true, 0}}, []string{"latency_ms:count==300", "latency_ms:p(50)<=50.1"}, 0, "", report.VerdictPass},
		// One fails: exit 4's verdict.
		{"a threshold fails", []agent{{0, true, 0}, {0, true, 0}, {0, true, 0}}, []string{"latency_ms:count==300", "latency_ms:max<99"}, 0, "", report.VerdictThresholdsFailed},
	}
	for _, tt := range tests {
		spec := &RunSpec{Run: "r", StartAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Ratio: 1, Thresholds: tt.thresholds}
		var reps []AgentReport
		for i, a := range tt.agents {
			reps = append(reps, agentReportRTT(t, spec, fmt.Sprintf("a%d", i), 0, 100, a.off, a.rtt, a.known))
		}
		reps = append(reps, reps[0]) // a report written twice
		fr, err := Merge(spec, reps)
		if err != nil {
			t.Fatalf("%s: Merge: %v", tt.name, err)
		}
		var sum int64
		for _, a := range fr.Agents {
			sum += a.Summary.Scheduled
		}
		n := int64(100 * len(tt.agents))
		if fr.Summary.Scheduled != n || sum != n || fr.Summary.Completed != n {
			t.Errorf("%s: merged scheduled %d, completed %d, agents' sum %d; want %d", tt.name, fr.Summary.Scheduled, fr.Summary.Completed, sum, n)
		}
		if fr.ClockSpread != tt.spread {
			t.Errorf("%s: clock spread %v ms; want %v", tt.name, fr.ClockSpread, tt.spread)
		}
		var warn string
		for _, w := range fr.Warnings {
			if strings.Contains(w, "clock") {
				warn = w
			}
		}
		if (tt.warn == "") != (warn == "") || !strings.Contains(warn, tt.warn) {
			t.Errorf("%s: clock warning %q; want one saying %q", tt.name, warn, tt.warn)
		}
		if len(fr.Summary.Thresholds) != len(tt.thresholds) || fr.Summary.Outcome != tt.outcome {
			t.Errorf("%s: thresholds %v, verdict %s; want %d thresholds, %s", tt.name, fr.Summary.Thresholds, fr.Summary.Outcome, len(tt.thresholds), tt.outcome)
		}
	}
}

// TestMeasureClock measures an agent's clock against the broker's append
// times on the real broker: on the broker's own machine the offset is
// within the probe's round trip, an agent clock 20 ms fast measures about
// -20 ms, and Merge warns about the two.
func TestMeasureClock(t *testing.T) {
	tp := testTopics(t, kafkatest.Brokers(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const skew = 20 * time.Millisecond
	fast := func() time.Time { return time.Now().Add(skew) }
	var clocks []clock
	for _, now := range []func() time.Time{time.Now, fast} {
		c, err := measureClock(ctx, tp, "probe", 5, now)
		if err != nil {
			t.Fatal(err)
		}
		if !c.known {
			t.Fatalf("clock unknown: %s does not stamp append times", tp.results())
		}
		clocks = append(clocks, c)
	}
	t.Logf("offsets: own clock %v (rtt %v), clock %v fast %v (rtt %v)", clocks[0].offset, clocks[0].rtt, skew, clocks[1].offset, clocks[1].rtt)
	// The broker's ms timestamps add ±0.5 ms to half the round trip.
	for i, want := range []time.Duration{0, -skew} {
		c := clocks[i]
		if tol := c.rtt/2 + time.Millisecond; c.offset < want-tol || c.offset > want+tol {
			t.Errorf("probe %d: offset %v; want %v ± %v", i, c.offset, want, tol)
		}
	}
	spec := &RunSpec{Run: "r", StartAt: time.Now(), Ratio: 1}
	fr, err := Merge(spec, []AgentReport{
		agentReportRTT(t, spec, "a0", 0, 10, clocks[0].offset, clocks[0].rtt, true),
		agentReportRTT(t, spec, "a1", 0, 10, clocks[1].offset, clocks[1].rtt, true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(fr.Warnings, "\n"), "clock") {
		t.Errorf("agents %v ms apart: no clock warning in %q", fr.ClockSpread, fr.Warnings)
	}
}
