package shaper_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

func TestJitter(t *testing.T) {
	events := synth(500, 3, time.Second, time.Second)
	tests := []struct {
		name   string
		spread time.Duration
		want   time.Duration // the range clones fall in; 0 = unshifted
	}{
		// Zero means DefaultSpread.
		{"default", 0, shaper.DefaultSpread},
		// A set spread.
		{"2s", 2 * time.Second, 2 * time.Second},
		// Negative means no jitter.
		{"none", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := run(t, shaper.Config{Ratio: shaper.Constant(3), Spread: tt.spread, Seed: 3}, events)
			jitters := map[string]time.Duration{} // by virtual session
			var most time.Duration
			for _, r := range got {
				j := r.At - r.Time.Sub(base)
				if r.Clone == 0 && j != 0 {
					t.Errorf("clone 0 of %s seq %d is shifted by %v; want 0", r.Session, r.Seq, j)
				}
				if j < 0 || (tt.want == 0 && j != 0) || (tt.want > 0 && j >= tt.want) {
					t.Errorf("clone %d of %s is shifted by %v; want [0, %v)", r.Clone, r.Session, j, tt.want)
				}
				if prev, ok := jitters[r.VirtualSession]; ok && prev != j {
					t.Errorf("virtual session %s is shifted by %v, then %v; want one shift", r.VirtualSession, prev, j)
				}
				jitters[r.VirtualSession] = j
				most = max(most, j)
			}
			// 1,000 uniform clones: the largest is near the top of the range.
			if most < tt.want*9/10 {
				t.Errorf("largest shift = %v; want clones spread over [0, %v)", most, tt.want)
			}
		})
	}
}

func TestSpeed(t *testing.T) {
	events := synth(300, 4, 700*time.Millisecond, 1300*time.Millisecond)
	cfg := shaper.Config{Ratio: shaper.Constant(2), Spread: -1, Seed: 5}
	want, _ := run(t, cfg, events)
	tests := []struct {
		speed    float64
		mul, div time.Duration // offsets and gaps scale by mul/div
	}{
		{0, 1, 1},   // zero means 1
		{1, 1, 1},   // recorded speed
		{10, 1, 10}, // ten times faster
		{0.5, 2, 1}, // half speed
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.speed), func(t *testing.T) {
			cfg := cfg
			cfg.Speed = tt.speed
			got, _ := run(t, cfg, events)
			if len(got) != len(want) {
				t.Fatalf("requests = %d; want %d", len(got), len(want))
			}
			for i, g := range got {
				w := want[i]
				if g.Session != w.Session || g.Seq != w.Seq || g.Clone != w.Clone {
					t.Fatalf("request %d = %s/%d clone %d; want %s/%d clone %d", i, g.Session, g.Seq, g.Clone, w.Session, w.Seq, w.Clone)
				}
				if g.At != w.At*tt.mul/tt.div || g.Think != w.Think*tt.mul/tt.div {
					t.Errorf("request %d at speed %v: At, Think = %v, %v; want %v, %v", i, tt.speed, g.At, g.Think, w.At*tt.mul/tt.div, w.Think*tt.mul/tt.div)
				}
			}
		})
	}
}

func TestWindow(t *testing.T) {
	// One event every 10 s from base to base + 10 min.
	var events []schema.Exchange
	for i := range 61 {
		events = append(events, schema.Exchange{Time: base.Add(time.Duration(i) * 10 * time.Second), Session: fmt.Sprint("s", i%4), Seq: int32(i / 4)})
	}
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	tests := []struct {
		name        string
		from, to    time.Time
		first, last time.Time // first and last event replayed
		skipped     int64
		events      int64 // events read: reading stops at To
	}{
		// Both bounds: [2 min, 5 min); 12 before, and the one at 5 min ends the pass.
		{"from to", at(2), at(5), at(2), at(5).Add(-10 * time.Second), 13, 31},
		// From only: to the last event.
		{"from", at(2), time.Time{}, at(2), at(10), 12, 61},
		// To only: from the first event.
		{"to", time.Time{}, at(5), at(0), at(5).Add(-10 * time.Second), 1, 31},
		// A From between events: the offsets still count from From.
		{"from between", at(2).Add(-5 * time.Second), at(3), at(2), at(3).Add(-10 * time.Second), 13, 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := run(t, shaper.Config{From: tt.from, To: tt.to}, events)
			start := tt.from
			if start.IsZero() {
				start = base
			}
			for _, r := range got {
				if r.Time.Before(tt.first) || r.Time.After(tt.last) {
					t.Errorf("replayed the event at %v; want [%v, %v]", r.Time, tt.first, tt.last)
				}
				if want := r.Time.Sub(start); r.At != want {
					t.Errorf("event at %v: At = %v; want %v from the window start", r.Time, r.At, want)
				}
			}
			if len(got) == 0 || !got[0].Time.Equal(tt.first) || !got[len(got)-1].Time.Equal(tt.last) {
				t.Fatalf("replayed %d events; want %v to %v", len(got), tt.first, tt.last)
			}
			if st.Skipped != tt.skipped || st.Events != tt.events {
				t.Errorf("Stats() skipped, events = %d, %d; want %d, %d", st.Skipped, st.Events, tt.skipped, tt.events)
			}
		})
	}
}

func TestLoops(t *testing.T) {
	events := synth(50, 3, 2*time.Second, 3*time.Second)
	first, last := events[0].Time, events[len(events)-1].Time
	tests := []struct {
		name     string
		cfg      shaper.Config
		pass     time.Duration // where pass 2 starts
		requests int           // per pass
	}{
		// Open window: the length is the first pass's, last − first event.
		{"open", shaper.Config{Loops: 2}, last.Sub(first), 150},
		// Open window, ten times faster.
		{"open speed 10", shaper.Config{Loops: 2, Speed: 10}, last.Sub(first) / 10, 150},
		// A set window: To − From, even past the last event.
		{"window", shaper.Config{Loops: 3, From: first, To: last.Add(time.Minute)}, last.Sub(first) + time.Minute, 150},
		// A From after the first event.
		{"from", shaper.Config{Loops: 2, From: first.Add(10 * time.Second)}, last.Sub(first) - 10*time.Second, 139},
		// A To only: from the first event to To.
		{"to", shaper.Config{Loops: 2, To: last.Add(time.Minute)}, last.Sub(first) + time.Minute, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := run(t, tt.cfg, events)
			loops := max(tt.cfg.Loops, 1)
			if len(got) != loops*tt.requests {
				t.Fatalf("requests = %d; want %d", len(got), loops*tt.requests)
			}
			passes := make([][]out, loops)
			for _, r := range got {
				passes[r.Loop] = append(passes[r.Loop], r)
			}
			for l := 1; l < loops; l++ {
				offset := time.Duration(l) * tt.pass
				if passes[l][0].At != offset {
					t.Errorf("pass %d starts at %v; want %v, right after pass %d", l+1, passes[l][0].At, offset, l)
				}
				// Ratio 1: pass l is pass 1 shifted, as other virtual sessions.
				for i, r := range passes[l] {
					w := passes[0][i]
					if r.At != w.At+offset || r.Session != w.Session || r.Seq != w.Seq {
						t.Fatalf("pass %d request %d = %s/%d at %v; want %s/%d at %v", l+1, i, r.Session, r.Seq, r.At, w.Session, w.Seq, w.At+offset)
					}
					if r.VirtualSession == w.VirtualSession || r.User == w.User {
						t.Fatalf("pass %d request %d replays virtual session %s user %s of pass 1; want new ones", l+1, i, r.VirtualSession, r.User)
					}
				}
			}
		})
	}
}

func TestPlanLearnsOpenWindow(t *testing.T) {
	events := synth(10, 2, time.Second, time.Second)
	s, err := shaper.New(shaper.Config{Loops: 2, Speed: 2}, open(events))
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Plan(); !p.From.IsZero() || !p.To.IsZero() || p.Duration != 0 {
		t.Errorf("Plan() before reading = %+v; want an open window, duration unknown", p)
	}
	for {
		if _, err := s.Next(); err != nil {
			break
		}
	}
	first, last := events[0].Time, events[len(events)-1].Time
	p := s.Plan()
	if !p.From.Equal(first) || !p.To.Equal(last) || p.Duration != last.Sub(first) {
		t.Errorf("Plan() after reading = %v to %v, duration %v; want %v to %v, %v", p.From, p.To, p.Duration, first, last, last.Sub(first))
	}
}

func TestLoopsOneInstant(t *testing.T) {
	// Every event at one time: the window is empty, the passes coincide,
	// each as its own virtual sessions.
	events := synth(5, 1, 0, 0)
	got, _ := run(t, shaper.Config{Loops: 3, Spread: -1}, events)
	virtual := map[string]bool{}
	for _, r := range got {
		if r.At != 0 {
			t.Errorf("loop %d %s: At = %v; want 0", r.Loop, r.Session, r.At)
		}
		virtual[r.VirtualSession] = true
	}
	if len(got) != 15 || len(virtual) != 15 {
		t.Errorf("requests, virtual sessions = %d, %d; want 15, 15", len(got), len(virtual))
	}
}
