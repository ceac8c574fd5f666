package shaper_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

func TestRatioVirtualSessions(t *testing.T) {
	const n = 10_000
	events := synth(n, 3, 100*time.Millisecond, time.Second)
	// Five standard deviations of a binomial count of n sessions with
	// p = 0.5 (the widest, whatever the fraction).
	tol := 5 * math.Sqrt(n*0.5*0.5)
	tests := []struct {
		name  string
		ratio shaper.Constant
		want  float64
		tol   float64
	}{
		// 2.5: each session makes 2 or 3, 25,000 in expectation.
		{"2.5", 2.5, 25_000, tol},
		// 0.6: each session makes 0 or 1, 6,000 in expectation.
		{"0.6", 0.6, 6_000, tol},
		// Whole ratios are exact.
		{"3", 3, 30_000, 0},
		{"1", 1, 10_000, 0},
		// 0 drops everything.
		{"0", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := run(t, shaper.Config{Ratio: tt.ratio, Seed: 7}, events)
			t.Logf("ratio %v: %d virtual sessions of %d", tt.ratio, st.VirtualSessions, n)
			if d := math.Abs(float64(st.VirtualSessions) - tt.want); d > tt.tol {
				t.Errorf("Stats().VirtualSessions = %d; want %v ± %v", st.VirtualSessions, tt.want, tt.tol)
			}
			virtual := map[string]bool{}
			for _, r := range got {
				virtual[r.VirtualSession] = true
			}
			if int64(len(virtual)) != st.VirtualSessions {
				t.Errorf("distinct virtual sessions = %d; want Stats().VirtualSessions = %d", len(virtual), st.VirtualSessions)
			}
			if want := 3 * st.VirtualSessions; int64(len(got)) != want {
				t.Errorf("requests = %d; want %d (3 per virtual session)", len(got), want)
			}
			lo, hi := int(math.Floor(float64(tt.ratio))), int(math.Ceil(float64(tt.ratio)))
			for k, c := range cloneCounts(got) {
				if c < lo || c > hi {
					t.Fatalf("session %s has %d clones; want %d or %d", k, c, lo, hi)
				}
			}
			if st.Sessions != n || st.Dropped != n-int64(len(cloneCounts(got))) {
				t.Errorf("Stats() = %+v; want %d sessions, %d dropped", st, n, n-len(cloneCounts(got)))
			}
		})
	}
}

func TestRatioFuncPerSession(t *testing.T) {
	events := synth(300, 4, time.Second, 2*time.Second)
	firstAt := map[string]time.Duration{} // what the Ratio was asked, by session
	live := shaper.RatioFunc(func(first *schema.Exchange, at time.Duration) float64 {
		firstAt[first.Session] = at
		if strings.HasPrefix(first.Path, "/live") {
			return 3
		}
		return 1
	})
	got, st := run(t, shaper.Config{Ratio: live, Seed: 1}, events)
	counts := cloneCounts(got)
	for _, r := range got {
		if r.Clone == 0 && r.First && firstAt[r.Session] != r.At {
			t.Errorf("Ratio asked at %v for session %s; want its first offset %v", firstAt[r.Session], r.Session, r.At)
		}
		if r.First {
			// Later requests of a live session are /api/ping: the decision
			// is the first event's, for the whole session.
			want := 1
			if strings.HasPrefix(r.Path, "/live") {
				want = 3
			}
			if c := counts[r.Session+"/0"]; c != want {
				t.Errorf("session %s starting on %s has %d virtual sessions; want %d", r.Session, r.Path, c, want)
			}
		}
	}
	if want := int64(100*3 + 200); st.VirtualSessions != want {
		t.Errorf("Stats().VirtualSessions = %d; want %d", st.VirtualSessions, want)
	}
	if want := 4 * st.VirtualSessions; int64(len(got)) != want {
		t.Errorf("requests = %d; want %d", len(got), want)
	}
}

func TestSeed(t *testing.T) {
	events := synth(2_000, 3, 100*time.Millisecond, time.Second)
	cfg := shaper.Config{Ratio: shaper.Constant(2.5), Seed: 1, Loops: 2}
	a, _ := run(t, cfg, events)
	b, _ := run(t, cfg, events)
	if da, db := digest(a), digest(b); da != db {
		t.Errorf("digest with seed 1 = %s, then %s; want the same", da, db)
	}
	cfg.Seed = 2
	c, _ := run(t, cfg, events)
	if da, dc := digest(a), digest(c); da == dc {
		t.Errorf("digest with seed 1 and 2 = %s; want different", da)
	}
	// The sessions that got the third clone differ.
	ca, cc := cloneCounts(a), cloneCounts(c)
	differ := 0
	for k := range ca {
		if ca[k] != cc[k] {
			differ++
		}
	}
	// Two independent fair coins differ half the time: 4,000 draws.
	if differ < 1_500 || differ > 2_500 {
		t.Errorf("sessions whose clone count differs between seeds 1 and 2 = %d of 4000; want about 2000", differ)
	}
}

func TestVirtualIDs(t *testing.T) {
	events := synth(200, 3, time.Second, time.Second)
	events = append(events, schema.Exchange{Time: events[len(events)-1].Time, Session: "anon", Path: "/"})
	got, _ := run(t, shaper.Config{Ratio: shaper.Constant(3), Seed: 9, Loops: 2}, events)

	type key struct {
		session     string
		clone, loop int32
	}
	bySession := map[string]key{} // virtual session → what it is
	userOf := map[key]string{}
	for _, r := range got {
		k := key{r.Session, r.Clone, r.Loop}
		if prev, ok := bySession[r.VirtualSession]; ok && prev != k {
			t.Fatalf("virtual session %s is both %v and %v", r.VirtualSession, prev, k)
		}
		bySession[r.VirtualSession] = k
		if u, ok := userOf[k]; ok && u != r.User {
			t.Fatalf("%v has users %s and %s; want one", k, u, r.User)
		}
		userOf[k] = r.User
		recorded := r.Exchange.User
		switch {
		case r.Clone == 0 && r.Loop == 0:
			if r.VirtualSession != r.Session || r.User != recorded {
				t.Errorf("clone 0 loop 0 of %s = (%s, %s); want the recorded (%s, %s)", r.Session, r.VirtualSession, r.User, r.Session, recorded)
			}
		case recorded == "":
			if r.User != "" {
				t.Errorf("clone %d loop %d of anonymous %s has user %q; want none", r.Clone, r.Loop, r.Session, r.User)
			}
		case r.User == recorded || r.VirtualSession == r.Session:
			t.Errorf("clone %d loop %d of %s = (%s, %s); want a virtual session and user", r.Clone, r.Loop, r.Session, r.VirtualSession, r.User)
		}
	}
	if len(bySession) != 201*3*2 {
		t.Errorf("virtual sessions = %d; want %d (201 sessions × 3 clones × 2 loops)", len(bySession), 201*3*2)
	}
	// Clones are distinct users; a recorded user's two sessions stay one
	// virtual user per clone and loop.
	users := map[string]key{}
	for k, u := range userOf {
		if k.session == "anon" {
			continue
		}
		if prev, ok := users[u]; ok && (prev.clone != k.clone || prev.loop != k.loop) {
			t.Errorf("user %s is clone %d loop %d and clone %d loop %d", u, prev.clone, prev.loop, k.clone, k.loop)
		}
		users[u] = k
	}
	if want := 100 * 3 * 2; len(users) != want {
		t.Errorf("virtual users = %d; want %d (100 recorded users × 3 clones × 2 loops)", len(users), want)
	}
	for c := range int32(3) {
		a, b := userOf[key{"s_00010", c, 1}], userOf[key{"s_00011", c, 1}]
		if a != b {
			t.Errorf("clone %d loop 1 users of s_00010 and s_00011 (one recorded user) = %s, %s; want the same", c, a, b)
		}
	}
}

func TestConstant(t *testing.T) {
	tests := []struct {
		c    shaper.Constant
		str  string
		errs bool
	}{
		{3, "3x", false},                // whole
		{2.5, "2.5x", false},            // fractional
		{0, "0x", false},                // drops every session: valid
		{-1, "-1x", true},               // negative
		{shaper.MaxRatio + 1, "", true}, // too many clones
		{shaper.Constant(math.NaN()), "NaNx", true},
	}
	for _, tt := range tests {
		if tt.str != "" && tt.c.String() != tt.str {
			t.Errorf("Constant(%v).String() = %q; want %q", float64(tt.c), tt.c.String(), tt.str)
		}
		if err := tt.c.Validate(); (err != nil) != tt.errs {
			t.Errorf("Constant(%v).Validate() = %v; want error %t", float64(tt.c), err, tt.errs)
		}
	}
}
