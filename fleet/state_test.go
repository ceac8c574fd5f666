package fleet

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)

func testSpec() *RunSpec {
	return &RunSpec{
		Run: "r1", Capture: "kafka://127.0.0.1:9092/captures",
		WindowFrom: t0.Add(-time.Hour), WindowTo: t0.Add(-time.Hour + time.Minute),
		Ratio: 3, Speed: 1, StartAt: t0, Target: "http://127.0.0.1:8080",
	}
}

func ratio(r float64) *float64 { return &r }

func ev(op string, at time.Duration) Event {
	return Event{Run: "r1", Op: op, At: t0.Add(at)}
}

func TestFold(t *testing.T) {
	start := Event{Run: "r1", Op: OpStart, Spec: testSpec(), At: t0.Add(-10 * time.Second)}
	set := func(at time.Duration, r float64) Event { e := ev(OpSet, at); e.Ratio = ratio(r); return e }
	tests := []struct {
		name   string
		events []Event
		errs   []string // substrings of the refusals, in order
		// probes: schedule offset → wall time (ok) and ratio there
		probes []probe
		stop   time.Duration // -1: not stopped
	}{
		{
			// the start alone: offsets map straight onto StartAt, spec ratio
			name:   "start",
			events: []Event{start},
			probes: []probe{{0, 0, true, 3}, {30 * time.Second, 30 * time.Second, true, 3}},
			stop:   -1,
		},
		{
			// a set takes effect at its At, for sessions starting from then
			name:   "set ratio",
			events: []Event{start, set(5*time.Second, 5)},
			probes: []probe{{4 * time.Second, 4 * time.Second, true, 3}, {5 * time.Second, 5 * time.Second, true, 5}},
			stop:   -1,
		},
		{
			// an open pause: times at and after it are unknown
			name:   "paused",
			events: []Event{start, ev(OpPause, 10*time.Second)},
			probes: []probe{{9 * time.Second, 9 * time.Second, true, 3}, {10 * time.Second, 10 * time.Second, false, 3}},
			stop:   -1,
		},
		{
			// a resumed pause shifts everything after it by its length
			name:   "pause and resume",
			events: []Event{start, ev(OpPause, 10*time.Second), ev(OpResume, 14*time.Second)},
			probes: []probe{{9 * time.Second, 9 * time.Second, true, 3}, {10 * time.Second, 14 * time.Second, true, 3}, {20 * time.Second, 24 * time.Second, true, 3}},
			stop:   -1,
		},
		{
			// two pauses add up; the second is in wall time, after the first's shift
			name:   "two pauses",
			events: []Event{start, ev(OpPause, 10*time.Second), ev(OpResume, 12*time.Second), ev(OpPause, 20*time.Second), ev(OpResume, 23*time.Second)},
			probes: []probe{{17 * time.Second, 19 * time.Second, true, 3}, {18 * time.Second, 23 * time.Second, true, 3}},
			stop:   -1,
		},
		{
			// an event stamped before the one before it takes effect with it
			name:   "effective times never go back",
			events: []Event{start, ev(OpPause, 10*time.Second), ev(OpResume, 5*time.Second)},
			probes: []probe{{10 * time.Second, 10 * time.Second, true, 3}},
			stop:   -1,
		},
		{
			// a ratio set during a pause applies from its wall time
			name:   "set while paused",
			events: []Event{start, ev(OpPause, 10*time.Second), set(11*time.Second, 0.5), ev(OpResume, 12*time.Second)},
			probes: []probe{{10 * time.Second, 12 * time.Second, true, 0.5}},
			stop:   -1,
		},
		{
			// stop; later events are refused
			name:   "stop",
			events: []Event{start, ev(OpStop, 8*time.Second), set(9*time.Second, 2)},
			errs:   []string{"after the run stopped"},
			probes: []probe{{0, 0, true, 3}},
			stop:   8 * time.Second,
		},
		{
			// refusals: changes before the start, a second start, resume while running, pause twice
			name:   "refused",
			events: []Event{ev(OpPause, 0), start, start, ev(OpResume, time.Second), ev(OpPause, 2*time.Second), ev(OpPause, 3*time.Second)},
			errs:   []string{"before the run started", "started twice", "resume while not paused", "pause while paused"},
			probes: []probe{{time.Second, time.Second, true, 3}},
			stop:   -1,
		},
		{
			// a bad ratio is refused and the old one stays
			name:   "bad ratio",
			events: []Event{start, set(time.Second, -1)},
			errs:   []string{"negative"},
			probes: []probe{{2 * time.Second, 2 * time.Second, true, 3}},
			stop:   -1,
		},
		{
			// other runs' events are not this run's
			name:   "other run",
			events: []Event{start, {Run: "r2", Op: OpStop, At: t0}},
			probes: []probe{{0, 0, true, 3}},
			stop:   -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := Fold("r1", tt.events)
			if len(errs) != len(tt.errs) {
				t.Fatalf("Fold errors = %v; want %d like %q", errs, len(tt.errs), tt.errs)
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tt.errs[i]) {
					t.Errorf("error %d = %q; want it to say %q", i, err, tt.errs[i])
				}
			}
			for _, p := range tt.probes {
				w, ok := s.Wall(p.offset)
				if ok != p.ok || (ok && !w.Equal(t0.Add(p.wall))) {
					t.Errorf("Wall(%v) = %v, %v; want t0+%v, %v", p.offset, w.Sub(t0), ok, p.wall, p.ok)
				}
				if r := s.RatioAt(w); r != p.ratio {
					t.Errorf("RatioAt(t0+%v) = %v; want %v", w.Sub(t0), r, p.ratio)
				}
			}
			if tt.stop < 0 && !s.Stop.IsZero() || tt.stop >= 0 && !s.Stop.Equal(t0.Add(tt.stop)) {
				t.Errorf("Stop = %v; want t0+%v", s.Stop, tt.stop)
			}
		})
	}
}

type probe struct {
	offset, wall time.Duration
	ok           bool
	ratio        float64
}

// TestApplyKeepsValue checks Apply leaves the State it is called on as it was.
func TestApplyKeepsValue(t *testing.T) {
	s, _ := Fold("r1", []Event{{Run: "r1", Op: OpStart, Spec: testSpec()}, ev(OpPause, time.Second)})
	before := len(s.Pauses)
	n, err := s.Apply(ev(OpResume, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pauses) != before || !s.Pauses[0].To.IsZero() {
		t.Errorf("Apply changed its receiver: %+v", s.Pauses)
	}
	if n.Pauses[0].To.IsZero() {
		t.Errorf("Apply(resume).Pauses = %+v; want the pause closed", n.Pauses)
	}
}

func TestParseSet(t *testing.T) {
	tests := []struct {
		args []string
		want float64 // ratio; -1 means an error
	}{
		{[]string{"ratio=5"}, 5},     // the example
		{[]string{"ratio=2.5"}, 2.5}, // fractional
		{[]string{"ratio=0"}, 0},     // drop everything from now on
		{[]string{"ratio=-1"}, -1},   // negative
		{[]string{"ratio=x"}, -1},    // not a number
		{[]string{"ratio=NaN"}, -1},  // not a number either
		{[]string{"speed=2"}, -1},    // unknown key
		{[]string{"ratio"}, -1},      // no value
		{nil, -1},                    // nothing
	}
	for _, tt := range tests {
		e, err := ParseSet("r1", tt.args)
		if tt.want < 0 {
			if err == nil {
				t.Errorf("ParseSet(%q) = %v; want an error", tt.args, *e.Ratio)
			}
			continue
		}
		if err != nil || e.Ratio == nil || *e.Ratio != tt.want {
			t.Errorf("ParseSet(%q) = %+v, %v; want ratio %v", tt.args, e, err, tt.want)
		}
	}
}
