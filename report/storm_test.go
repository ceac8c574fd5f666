package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

func sec(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// TestStormReport: the clients a storm cut off, their attempts, who came
// back when, who gave up and who was still out, from connection attempts
// added in any order.
func TestStormReport(t *testing.T) {
	info := RunInfo{StormPlan: []StormInfo{
		{AtNS: int64(sec(20)), Spec: "target restart", Restart: true, Policy: "full_jitter"},
		{AtNS: int64(sec(10)), Spec: "100% of all dropped", Policy: "exponential", MaxAttempts: 3},
	}}
	agg := NewAggregator(info)
	ms := time.Millisecond
	for _, a := range []ConnAttempt{
		// c1: cut at 10 s, refused once, back at 11.502 s.
		{Client: "c1", Attempt: 2, Start: sec(11.5), Handshake: 2 * ms, OK: true, End: sec(30), Closed: true},
		{Client: "c1", Attempt: 0, Start: sec(1), Handshake: ms, OK: true, End: sec(10), Dropped: true},
		{Client: "c1", Attempt: 1, Start: sec(10.5), Handshake: ms},
		// c2: back at once.
		{Client: "c2", Attempt: 0, Start: sec(2), Handshake: ms, OK: true, End: sec(10.01), Dropped: true},
		{Client: "c2", Attempt: 1, Start: sec(10.5), Handshake: 3 * ms, OK: true, End: sec(19)},
		// c3: refused three times: gave up (max_attempts 3).
		{Client: "c3", Attempt: 0, Start: sec(3), Handshake: ms, OK: true, End: sec(10.02), Dropped: true},
		{Client: "c3", Attempt: 1, Start: sec(10.5), Handshake: 4 * ms},
		{Client: "c3", Attempt: 2, Start: sec(11.5), Handshake: 5 * ms},
		{Client: "c3", Attempt: 3, Start: sec(12.5), Handshake: 6 * ms},
		// c4: no answer, then the run ended: still out.
		{Client: "c4", Attempt: 0, Start: sec(4), Handshake: ms, OK: true, End: sec(10.03), Dropped: true},
		{Client: "c4", Attempt: 1, Start: sec(10.5)},
		// c5: closed by the target with no restart near: not a storm's.
		{Client: "c5", Attempt: 0, Start: sec(5), Handshake: ms, OK: true, End: sec(12), Closed: true},
		// c6: the target's restart at 20 s closes it; back 1.2 s later.
		{Client: "c6", Attempt: 0, Start: sec(6), Handshake: ms, OK: true, End: sec(20.1), Closed: true},
		{Client: "c6", Attempt: 1, Start: sec(21.199), Handshake: ms, OK: true, End: sec(40)},
		// c7: dropped long after the storm: not the storm's.
		{Client: "c7", Attempt: 0, Start: sec(5), Handshake: ms, OK: true, End: sec(17), Dropped: true},
	} {
		agg.AddConnAttempt(a)
	}
	s := agg.Summary()
	if len(s.Storms) != 2 {
		t.Fatalf("%d storm reports; want 2", len(s.Storms))
	}
	drop, restart := s.Storms[0], s.Storms[1]
	for _, tc := range []struct{ name, got, want string }{
		// sorted by time: the drop at 10 s first.
		{"order", drop.Spec + "; " + restart.Spec, "100% of all dropped; target restart"},
		{"drop counts", fmt.Sprint(drop.Dropped, drop.Back, drop.GaveUp, drop.Out), "4 2 1 1"},
		{"drop attempts", fmt.Sprint(drop.Attempts, drop.Refused, drop.Failed, drop.PeakAttemptsPerSecond), "7 4 1 4"},
		{"attempts per second", fmt.Sprint(drop.AttemptsPerSecond), "[4 2 1]"},
		{"back per second", fmt.Sprint(drop.BackPerSecond), "[1 1]"},
		// the 2nd of 4 back at 1.502 s; 95% (4 clients) never.
		{"back times", fmt.Sprint(drop.Back50MS, drop.Back95MS), "1502 -1"},
		{"handshake", fmt.Sprintf("%.0f %.0f", drop.Handshake.P50, drop.Handshake.Max), "3 6"}, // of 1, 2, 3, 4, 5, 6 ms
		{"restart counts", fmt.Sprint(restart.Dropped, restart.Back, restart.Back50MS, restart.Back95MS), "1 1 1200 1200"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %s; want %s", tc.name, tc.got, tc.want)
		}
	}
	var text bytes.Buffer
	s.Scheduled = 1 // the text report's sections need results
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"reconnect storms",
		"storm 1 at +10s: 100% of all dropped",
		"clients cut off 4: back 2 (50% in 1.50s, 95% in never), gave up 1, still out at the end 1",
		"reconnect attempts 7 (peak 4/s), refused 4, no answer 1; handshake p50 3.0ms p99 6.0ms",
		"attempts/s  █▄▂  (3 s from the storm: 4 2 1)",
	} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text report lacks %q:\n%s", w, text.String())
		}
	}
	var js bytes.Buffer
	s.WriteJSON(&js)
	var back struct {
		Plan   []StormInfo   `json:"storm_plan"`
		Storms []StormReport `json:"storms"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Plan) != 2 || len(back.Storms) != 2 || back.Storms[0].Back95MS != -1 {
		t.Errorf("JSON storms: %v %+v", err, back)
	}
}

// TestNoStorms: without a plan, attempts are not kept and nothing is
// reported.
func TestNoStorms(t *testing.T) {
	agg := NewAggregator(RunInfo{})
	agg.AddConnAttempt(ConnAttempt{Client: "c", Dropped: true, OK: true})
	if s := agg.Summary(); s.Storms != nil || agg.storms != nil {
		t.Errorf("storms without a plan: %+v", s.Storms)
	}
}

// TestStormHTML: the HTML report marks each storm on its time axes and
// charts its attempts and clients back.
func TestStormHTML(t *testing.T) {
	agg := NewAggregator(RunInfo{StormPlan: []StormInfo{{AtNS: int64(sec(10)), Spec: "50% of all dropped", Policy: "fixed"}}})
	agg.Add(&schema.Result{Intended: time.Unix(100, 0), Status: 200})
	agg.AddConnAttempt(ConnAttempt{Client: "c", Start: sec(1), Handshake: time.Millisecond, OK: true, End: sec(10), Dropped: true})
	agg.AddConnAttempt(ConnAttempt{Client: "c", Attempt: 1, Start: sec(12), Handshake: time.Millisecond, OK: true, End: sec(20)})
	var b bytes.Buffer
	if err := (&HTMLReport{Summary: agg.Summary()}).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"storm 1", "Reconnect storms: reconnect attempts and clients back per second", "storm 1 attempts", "storm 1 back"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("HTML lacks %q", w)
		}
	}
}
