package shaper_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// longSessions returns n sessions of m requests 10 s apart, starting 2 ms
// apart; even sessions start on /live, odd ones on /vod.
func longSessions(n, m int) []schema.Exchange {
	var events []schema.Exchange
	for j := range m {
		for i := range n {
			path := "/vod/1"
			if i%2 == 0 {
				path = "/live/1"
			}
			events = append(events, schema.Exchange{
				Time:    base.Add(time.Duration(j)*10*time.Second + time.Duration(i)*2*time.Millisecond),
				Session: fmt.Sprintf("s_%05d", i), User: fmt.Sprintf("u_%05d", i), Seq: int32(j), Method: "GET", Path: path,
			})
		}
	}
	return events
}

// homeSet collects the set of the recorded sessions starting on the home
// page from a small capture of its own.
func homeSet(t *testing.T) map[string]shaper.SessionSet {
	t.Helper()
	var events []schema.Exchange
	for i := range 5 {
		for j := range 3 {
			path := "/api/v1/home"
			if j > 0 {
				path = "/api/v1/rails"
			}
			events = append(events, schema.Exchange{Time: base.Add(time.Duration(i*3+j) * time.Second), Session: fmt.Sprintf("h_%d", i), Seq: int32(j), Method: "GET", Path: path})
		}
	}
	src, _ := open(events)()
	sets, err := shaper.CollectSets(map[string]shaper.SetSpec{"home": {Match: shaper.Conds{"path=/api/v1/home"}, Max: 4}}, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets["home"]) != 4 || len(sets["home"][0]) != 3 {
		t.Fatalf("CollectSets = %d sessions (first %d requests); want 4 of 3", len(sets["home"]), len(sets["home"][0]))
	}
	return sets
}

func TestExit(t *testing.T) {
	const n, m = 4000, 20
	events := longSessions(n, m)
	sets := homeSet(t)
	shape := shaper.Settings{
		Ratios: []shaper.ClassSpec{{Name: "live", Match: shaper.Conds{"path=/live/**"}, Ratio: 2}},
		Exits:  []shaper.ExitSpec{{At: "+100s", Fraction: 0.2, Class: "live", To: "home", Within: shaper.Duration(10 * time.Second)}},
	}
	cfg := shaper.Config{Seed: 5, Spread: -1, Shape: shape, Sets: sets}
	got, st := run(t, cfg, events)
	const exitAt = 100 * time.Second

	// Per virtual session: class, last request's offset, user.
	type vs struct {
		class  string
		last   time.Duration
		user   string
		follow bool
		first  time.Duration
	}
	sessions := map[string]*vs{}
	for _, r := range got {
		v := sessions[r.VirtualSession]
		if v == nil {
			v = &vs{class: r.Class, user: r.User, follow: r.Clone == -1, first: r.At}
			sessions[r.VirtualSession] = v
		}
		v.last = r.At
	}
	var live, liveEnded, vod, vodEnded, follows int
	users := map[string]bool{}
	for _, v := range sessions {
		switch {
		case v.follow:
			follows++
			if v.first < exitAt || v.first >= exitAt+10*time.Second {
				t.Errorf("follow-up session starts at %v; want in [%v, %v)", v.first, exitAt, exitAt+10*time.Second)
			}
			if v.class != "home" {
				t.Errorf("follow-up class %q; want home", v.class)
			}
		case v.class == "live":
			live++
			if v.last < exitAt {
				liveEnded++
				users[v.user] = true
			}
		default:
			vod++
			if v.last < exitAt {
				vodEnded++
			}
		}
	}
	// 2,000 live sessions at ratio 2: 4,000 virtual ones, a fifth ended.
	sd := math.Sqrt(4000 * 0.2 * 0.8)
	if live != 4000 || math.Abs(float64(liveEnded)-800) > 5*sd {
		t.Errorf("live: %d of %d virtual sessions ended at the exit; want 800 ± %.0f of 4000", liveEnded, live, 5*sd)
	}
	if vod != n/2 || vodEnded != 0 {
		t.Errorf("vod: %d of %d ended; want none of %d (the exit is for live only)", vodEnded, vod, n/2)
	}
	if follows != liveEnded || st.Exited != int64(liveEnded) || st.FollowUps != int64(follows) {
		t.Errorf("%d follow-ups for %d ended (Stats %+v); want one per ended session", follows, liveEnded, st)
	}
	for _, v := range sessions {
		if v.follow && !users[v.user] {
			t.Fatalf("follow-up user %s is not the user of an ended session", v.user)
		}
	}

	// The same exit as a control event at the same offset gives the same
	// schedule: scheduled exits and live ones are one mechanism.
	live2 := shape
	live2.Exits = nil
	exit := shape.Exits[0]
	exit.At = ""
	ctl, err := shaper.NewControls(shaper.Control{Op: shaper.OpExit, At: exitAt, Exit: &exit})
	if err != nil {
		t.Fatal(err)
	}
	got2, _ := run(t, shaper.Config{Seed: 5, Spread: -1, Shape: live2, Sets: sets, Controls: ctl}, events)
	if digest(got) != digest(got2) {
		t.Errorf("exit as a control event: a different schedule (%d requests, %d before)", len(got2), len(got))
	}
	// And the same config again gives the same schedule.
	got3, _ := run(t, cfg, events)
	if digest(got) != digest(got3) {
		t.Error("the same config twice: different schedules")
	}
}

func TestControlSetAndStop(t *testing.T) {
	events := flat(4, 1000) // 1,000 one-request sessions a minute
	set := 3.0
	ctl, err := shaper.NewControls(
		shaper.Control{Op: shaper.OpSet, At: time.Minute, Set: &shaper.Settings{Ratio: &set}, By: "test"},
		shaper.Control{Op: shaper.OpSet, At: 2 * time.Minute, Set: &shaper.Settings{Ratios: []shaper.ClassSpec{{Match: shaper.Conds{"path=/live/**"}, Ratio: 0.5}}}},
		shaper.Control{Op: shaper.OpStop, At: 3 * time.Minute},
	)
	if err != nil {
		t.Fatal(err)
	}
	got, st := run(t, shaper.Config{Seed: 1, Spread: -1, IdleGap: time.Second, Controls: ctl}, events)
	perMin := make([]float64, 4)
	for _, r := range got {
		perMin[r.At/time.Minute]++
	}
	sd := math.Sqrt(1000 * 0.25)
	for i, want := range []float64{1000, 3000, 500, 0} {
		if math.Abs(perMin[i]-want) > 5*sd {
			t.Errorf("minute %d: %v requests; want %v ± %.0f", i, perMin[i], want, 5*sd)
		}
	}
	if st.Controls != 3 {
		t.Errorf("Stats().Controls = %d; want 3", st.Controls)
	}
}

func TestControlsAppend(t *testing.T) {
	c, _ := shaper.NewControls()
	if _, err := c.Append(shaper.Control{Op: "explode"}); err == nil {
		t.Error("Append(unknown op) = nil error")
	}
	if _, err := c.Append(shaper.Control{Op: shaper.OpSet, Set: &shaper.Settings{Ratios: []shaper.ClassSpec{{Match: shaper.Conds{"colour=red"}, Ratio: 1}}}}); err == nil {
		t.Error("Append(bad set) = nil error")
	}
	if _, err := c.Append(shaper.Control{Op: shaper.OpExit, Exit: &shaper.ExitSpec{Fraction: 2}}); err == nil {
		t.Error("Append(exit of 200%) = nil error")
	}
	a, _ := c.Append(shaper.Control{Op: shaper.OpPause, At: time.Minute})
	b, _ := c.Append(shaper.Control{Op: shaper.OpResume, At: time.Second})
	if a.At != time.Minute || b.At != time.Minute {
		t.Errorf("offsets %v, %v; want 1m0s, 1m0s (never back)", a.At, b.At)
	}
	if c.Len() != 2 {
		t.Errorf("Len() = %d; want 2 (the bad ones refused)", c.Len())
	}
}

// TestDynamicBaseWithClasses: a Ratio that is not a Constant (a fleet
// agent's live ratio) stays the default class's ratio when a control adds
// classes, times the default curves.
func TestDynamicBaseWithClasses(t *testing.T) {
	events := flat(2, 1000)
	live := shaper.RatioFunc(func(_ *schema.Exchange, at time.Duration) float64 { return 2 })
	ctl, _ := shaper.NewControls(shaper.Control{Op: shaper.OpSet, At: time.Minute, Set: &shaper.Settings{
		Ratios: []shaper.ClassSpec{{Match: shaper.Conds{"path=/vod/**"}, Ratio: 5}},
		Curves: []shaper.CurveSpec{{Step: []shaper.PointSpec{{At: "+1m", Value: 1.5}}}},
	}})
	got, _ := run(t, shaper.Config{Seed: 1, Spread: -1, IdleGap: time.Second, Ratio: live, Controls: ctl}, events)
	perMin := make([]int, 2)
	for _, r := range got {
		perMin[r.At/time.Minute]++
	}
	// Minute 0: 2x; minute 1: the default class (all /live) at 2 × 1.5.
	if perMin[0] != 2000 || perMin[1] != 3000 {
		t.Errorf("requests per minute %v; want [2000 3000]", perMin)
	}
}
