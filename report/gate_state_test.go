package report

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// TestGateStateMerge splits a run's results over three gates that each
// publish two deltas (as fleet agents do), sends every state through JSON
// and merges them: the merged Gate evaluates every threshold as one Gate
// fed every result does.
func TestGateStateMerge(t *testing.T) {
	flags := []string{
		"latency_ms{route:/api/search}:p(99)<100",
		"latency_ms{route:/api/search}:avg<=50.5", // shares its filter with the first
		"latency_ms:min>=1",
		"latency_ms:max<90",
		"service_ms:med<30",
		"lateness_ms:p(99)<1",
		"errors:rate<0.1",
		"new_errors:count==12",
		"errors{status:5xx}:count==2",
		"dropped:count<1",
		"achieved_rps:value>=50",
		"latency_ms{region:mars}:p(99)<500,no_data=pass",
	}
	var ths []Threshold
	for _, f := range flags {
		th, err := ParseThresholdFlag(f)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	var rs []schema.Result
	for i := 1; i <= 100; i++ {
		status := int32(200)
		if i > 98 {
			status = 500
		}
		r := result("GET /api/search", status, float64(i), "")
		r.Intended = t0.Add(time.Duration(i) * 10 * time.Millisecond) // 1 s of schedule
		rs = append(rs, r)
	}
	for range 10 {
		rs = append(rs, result("POST /api/login", 0, 3, schema.ErrConnect))
	}
	nf := result("GET /missing", 404, 1, "")
	nf.RecordedStatus = 404
	rs = append(rs, nf, schema.Result{Intended: t0, Route: "GET /api/search", Method: "GET", Error: schema.DroppedDeadline})

	one, err := NewGate(ths, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		one.Add(&rs[i])
	}
	var states [][]byte
	for agent := range 3 {
		g, _ := NewGate(ths, nil)
		for i := agent; i < len(rs); i += 3 {
			g.Add(&rs[i])
			if i == len(rs)/2+agent { // a delta: publish and start again
				states = append(states, gateJSON(t, g))
				g, _ = NewGate(ths, nil)
			}
		}
		states = append(states, gateJSON(t, g))
	}
	merged, _ := NewGate(ths, nil)
	for _, b := range states {
		var s GateState
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if err := merged.MergeState(&s); err != nil {
			t.Fatal(err)
		}
	}
	want, got := one.Evaluate(true), merged.Evaluate(true)
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: merged = %+v; one gate = %+v", flags[i], got[i], want[i])
		}
	}
	if !want.Failed() || want[3].OK || !want[0].OK {
		t.Errorf("the test's thresholds do not both pass and fail: %+v", want)
	}
}

func gateJSON(t *testing.T, g *Gate) []byte {
	t.Helper()
	s, err := g.State()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGateStateErrors: a state of other thresholds and a gate with
// cohorts are refused.
func TestGateStateErrors(t *testing.T) {
	a, _ := ParseThresholdFlag("latency_ms{route:/a}:p(99)<5")
	b, _ := ParseThresholdFlag("latency_ms{route:/b}:p(99)<5")
	ga, _ := NewGate([]Threshold{a}, nil)
	gb, _ := NewGate([]Threshold{b}, nil)
	r := result("GET /a", 200, 1, "")
	ga.Add(&r)
	s, err := ga.State()
	if err != nil {
		t.Fatal(err)
	}
	if err := gb.MergeState(s); err == nil || !strings.Contains(err.Error(), "{route:/a}") {
		t.Errorf("MergeState of another threshold's filter = %v; want an error naming {route:/a}", err)
	}
	gc, _ := NewGate([]Threshold{a}, &Surge{Offset: time.Second})
	if _, err := gc.State(); err == nil {
		t.Error("State of a gate with cohorts: no error")
	}
}

// TestThresholdFlagRoundTrip: Flag gives what ParseThresholdFlag reads
// back to the same threshold, options included.
func TestThresholdFlagRoundTrip(t *testing.T) {
	for _, s := range []string{
		"latency_ms{method:GET,route:/api/search}:p(99.9)<500", // tags and a fractional percentile
		"errors:rate<0.05,abort_on_fail,delay_abort_eval=10s",  // every abort option
		"dropped{region:eu}:count<=3,no_data=pass",             // no data passes
	} {
		th, err := ParseThresholdFlag(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseThresholdFlag(th.Flag())
		if err != nil || !reflect.DeepEqual(back, th) {
			t.Errorf("ParseThresholdFlag(%q.Flag() = %q) = %+v, %v; want %+v", s, th.Flag(), back, err, th)
		}
	}
}
