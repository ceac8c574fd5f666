package fleet

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// TestStateShape: shaper control events on the control topic are folded at
// the schedule offset of their wall time (pauses taken out), the same on
// every agent; bad ones are refused.
func TestStateShape(t *testing.T) {
	start := Event{Run: "r1", Op: OpStart, Spec: testSpec(), At: t0.Add(-10 * time.Second)}
	three := 3.0
	shape := func(at time.Duration, c shaper.Control) Event {
		e := ev(OpShape, at)
		e.Shape = &c
		return e
	}
	set := shaper.Control{Op: shaper.OpSet, Set: &shaper.Settings{Ratio: &three, Ratios: []shaper.ClassSpec{{Name: "live", Match: shaper.Conds{"path=/live/**"}, Ratio: 10}}}}
	exit := shaper.Control{Op: shaper.OpExit, Exit: &shaper.ExitSpec{Fraction: 0.2, Class: "live"}}
	events := []Event{
		start,
		shape(5*time.Second, set),    // offset 5s
		ev(OpPause, 10*time.Second),  //
		shape(12*time.Second, exit),  // in the pause: its start, 10s
		ev(OpResume, 14*time.Second), // 4 s of pause
		shape(20*time.Second, set),   // offset 16s
		shape(21*time.Second, shaper.Control{Op: shaper.OpPause}), // refused: an op of its own
		shape(22*time.Second, shaper.Control{Op: shaper.OpSet, Set: &shaper.Settings{Ratios: []shaper.ClassSpec{{Match: shaper.Conds{"colour=red"}}}}}), // refused: bad key
		ev(OpShape, 23*time.Second), // refused: no event
		shape(24*time.Second, shaper.Control{Op: shaper.OpExit, Exit: &shaper.ExitSpec{Fraction: 0.2, Class: "lvie"}}), // refused: no such class
		shape(25*time.Second, shaper.Control{Op: shaper.OpExit, Exit: &shaper.ExitSpec{Fraction: 0.2, To: "home"}}),    // refused: no such set
	}
	st, errs := Fold("r1", events)
	if len(errs) != 5 || !strings.Contains(errs[0].Error(), "want set or exit") || !strings.Contains(errs[1].Error(), "colour") || !strings.Contains(errs[2].Error(), "no control event") ||
		!strings.Contains(errs[3].Error(), `exit.class: no class "lvie" (did you mean "live"?)`) || !strings.Contains(errs[4].Error(), `exit.to: no session set "home"`) {
		t.Errorf("Fold errors %v; want five refusals", errs)
	}
	var got []string
	for _, c := range st.Shape {
		got = append(got, c.Op+"@"+c.At.String())
	}
	if want := "set@5s exit@10s set@16s"; strings.Join(got, " ") != want {
		t.Errorf("State.Shape = %v; want %s", got, want)
	}
	// Offset is Wall's inverse outside pauses.
	for _, d := range []time.Duration{0, 5 * time.Second, 16 * time.Second, time.Minute} {
		w, _ := st.Wall(d)
		if o := st.Offset(w); o != d {
			t.Errorf("Offset(Wall(%v)) = %v", d, o)
		}
	}
	// The event travels as JSON on the topic, unchanged.
	b, err := json.Marshal(shape(5*time.Second, set))
	if err != nil {
		t.Fatal(err)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil || back.Shape == nil || *back.Shape.Set.Ratio != 3 || back.Shape.Set.Ratios[0].Ratio != 10 {
		t.Errorf("Event JSON round trip = %+v, %v", back, err)
	}
}

// TestFleetShape publishes shaper control events to a running fleet run (a
// class at 3x, then an exit of 30% of it) and checks that the agents send
// exactly the schedule the fold of the events makes on one machine.
func TestFleetShape(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	capture := kafkatest.Topic(t, brokers, 12, "")
	events := synth(150)
	produce(t, capture, events)
	tp := testTopics(t, brokers)
	f := startFleet(t, tp, 2)
	target := newRecorder(t)
	spec := newSpec("run-shape", capture, target.URL, 1)
	start(t, tp, spec)
	// Both published now, seconds ahead of when they take effect (0.8 and
	// 1.5 s into the 2 s run): delivery time cannot change the run.
	set := shaper.Control{Op: shaper.OpSet, Set: &shaper.Settings{Ratios: []shaper.ClassSpec{{Name: "low", Match: shaper.Conds{"path~^/s/s_00[0-7]"}, Ratio: 3}}}}
	controlAt(t, tp, Event{Run: spec.Run, Op: OpShape, Shape: &set}, spec.StartAt.Add(800*time.Millisecond))
	exit := shaper.Control{Op: shaper.OpExit, Exit: &shaper.ExitSpec{Fraction: 0.3, Class: "low"}}
	controlAt(t, tp, Event{Run: spec.Run, Op: OpShape, Shape: &exit}, spec.StartAt.Add(1500*time.Millisecond))

	results, st := finished(t, tp, f, spec.Run)
	if len(st.Shape) != 2 {
		t.Fatalf("state has %d shape events; want 2", len(st.Shape))
	}
	// The fold's schedule: the same shaper with the state's events.
	cfg := spec.shaperConfig()
	cfg.Ratio = shaper.RatioFunc(func(_ *schema.Exchange, at time.Duration) float64 {
		w, _ := st.Wall(at)
		return st.RatioAt(w)
	})
	cfg.Controls, _ = shaper.NewControls(st.Shape...)
	i := 0
	sh, err := shaper.New(cfg, func() (shaper.Source, error) {
		return func() (*schema.Exchange, error) {
			if i == len(events) {
				return nil, io.EOF
			}
			i++
			return &events[i-1], nil
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[key]int{}
	for {
		r, err := sh.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want[key{r.Session, r.Clone, r.Exchange.Seq}]++
	}
	if st := sh.Stats(); st.Exited == 0 || st.Controls != 2 {
		t.Errorf("the fold's shaper: %+v; want the exit to end sessions", st)
	}
	got := map[key]int{}
	for _, r := range results {
		got[key{r.Session, r.Clone, r.Seq}]++
	}
	diff := 0
	for k, n := range want {
		diff += int(math.Abs(float64(got[k] - n)))
	}
	for k, n := range got {
		if want[k] == 0 {
			diff += n
		}
	}
	t.Logf("shape run: %d requests sent, %d expected from the fold, %d differ; events at %v and %v", len(results), len(want), diff, st.Shape[0].At, st.Shape[1].At)
	if diff != 0 {
		t.Errorf("the fleet's set differs from the fold's schedule in %d requests", diff)
	}
}

// finished waits for run to end and returns the fleet's results of it and
// the run's state (with its shape events).
func finished(t *testing.T, tp Topics, f *testFleet, run string) ([]schema.Result, State) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := tp.Wait(ctx, run, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	results := f.results[run]
	f.mu.Unlock()
	st, err := tp.State(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	return results, st
}
