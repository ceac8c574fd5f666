package fleet

import (
	"io"
	"math"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// TestFleetShapeBlock runs a spec with a shape block (a class at 3x, a
// session set, a scheduled exit of half the class to the set) and a live
// exit to the same set, across two agents: they send exactly the schedule
// one machine makes with the same sets and events, follow-up sessions
// (clone -1) included.
func TestFleetShapeBlock(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	capture := kafkatest.Topic(t, brokers, 12, "")
	events := synth(150)
	produce(t, capture, events)
	tp := testTopics(t, brokers)
	f := startFleet(t, tp, 2)
	target := newRecorder(t)
	spec := newSpec("run-shape-block", capture, target.URL, 1)
	spec.Shape = &shaper.Settings{
		Ratios:   []shaper.ClassSpec{{Name: "low", Match: shaper.Conds{"path~^/s/s_00[0-7]"}, Ratio: 3}},
		Sessions: map[string]shaper.SetSpec{"home": {Match: shaper.Conds{"path~^/s/s_001[0-4]/0$"}, Max: 5}},
		Exits:    []shaper.ExitSpec{{At: "+1s", Fraction: 0.5, Class: "low", To: "home", Within: shaper.Duration(200 * time.Millisecond)}},
	}
	if errs := spec.Validate(); len(errs) > 0 {
		t.Fatalf("spec: %v", errs)
	}
	start(t, tp, spec)
	// A live exit to the set, too: a second of schedule in (2 s of
	// capture at speed 2), after the scheduled one; published now, seconds
	// ahead, so that delivery time cannot change the run.
	exit := shaper.Control{Op: shaper.OpExit, Exit: &shaper.ExitSpec{Fraction: 0.5, Class: "low", To: "home"}}
	controlAt(t, tp, Event{Run: spec.Run, Op: OpShape, Shape: &exit}, spec.StartAt.Add(time.Second))
	// One to a set the run does not have is refused by every agent.
	bad := shaper.Control{Op: shaper.OpExit, Exit: &shaper.ExitSpec{Fraction: 0.5, To: "away"}}
	controlAt(t, tp, Event{Run: spec.Run, Op: OpShape, Shape: &bad}, spec.StartAt.Add(time.Second))

	results, st := finished(t, tp, f, spec.Run)
	if len(st.Shape) != 1 {
		t.Fatalf("state has %d shape events; want 1 (the exit to a set the run lacks refused)", len(st.Shape))
	}
	// One machine: the same shaper, sets collected from the same events.
	open := func() (shaper.Source, error) {
		i := 0
		return func() (*schema.Exchange, error) {
			if i == len(events) {
				return nil, io.EOF
			}
			i++
			e := events[i-1]
			return &e, nil
		}, nil
	}
	src, _ := open()
	sets, err := shaper.CollectSets(spec.Shape.Sessions, src)
	if err != nil {
		t.Fatal(err)
	}
	cfg := spec.shaperConfig()
	cfg.Sets = sets
	cfg.Ratio = shaper.RatioFunc(func(_ *schema.Exchange, at time.Duration) float64 {
		w, _ := st.Wall(at)
		return st.RatioAt(w)
	})
	cfg.Controls, _ = shaper.NewControls(st.Shape...)
	sh, err := shaper.New(cfg, open)
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
	if st := sh.Stats(); st.Exited == 0 || st.FollowUps == 0 {
		t.Fatalf("the single-machine shaper: %+v; want the exits to end sessions and start follow-ups", st)
	}
	got := map[key]int{}
	followUps := 0
	for _, r := range results {
		got[key{r.Session, r.Clone, r.Seq}]++
		if r.Clone == -1 {
			followUps++
		}
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
	t.Logf("shape block run: %d requests sent (%d of follow-ups), %d expected, %d differ; %d sessions ended, %d follow-ups",
		len(results), followUps, sh.Stats().Requests, diff, sh.Stats().Exited, sh.Stats().FollowUps)
	if followUps == 0 {
		t.Error("the fleet sent no follow-up request")
	}
	if diff != 0 {
		t.Errorf("the fleet's set differs from the single-machine schedule in %d requests", diff)
	}
}
