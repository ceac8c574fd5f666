package shaper_test

import (
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

func TestOrder(t *testing.T) {
	// Times on whole seconds: many events share a time.
	events := synth(2_000, 5, 300*time.Millisecond, 2*time.Second)
	for i := range events {
		events[i].Time = events[i].Time.Truncate(time.Second)
	}
	index := map[*schema.Exchange]int{}
	for i := range events {
		index[&events[i]] = i
	}
	tests := []struct {
		name string
		cfg  shaper.Config
	}{
		// Jittered clones interleave with later events.
		{"jitter", shaper.Config{Ratio: shaper.Constant(3), Spread: 5 * time.Second, Loops: 2}},
		// No jitter: the clones of an event share its time, in clone order.
		{"no jitter", shaper.Config{Ratio: shaper.Constant(3), Spread: -1}},
		// Fractional ratio, ten times faster.
		{"2.5 speed 10", shaper.Config{Ratio: shaper.Constant(2.5), Speed: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := run(t, tt.cfg, events)
			for i := 1; i < len(got); i++ {
				a, b := got[i-1], got[i]
				if b.At < a.At {
					t.Fatalf("request %d at %v comes after one at %v; want non-decreasing At", i, b.At, a.At)
				}
				if b.At > a.At {
					continue
				}
				ka := []int{int(a.Loop), index[a.Exchange], int(a.Clone)}
				kb := []int{int(b.Loop), index[b.Exchange], int(b.Clone)}
				if slices.Compare(ka, kb) >= 0 {
					t.Fatalf("at %v: (loop, input, clone) %v before %v; want input order, then clone order", a.At, ka, kb)
				}
			}
		})
	}
}

func TestSessionsWhole(t *testing.T) {
	events := synth(1_000, 6, 500*time.Millisecond, 1700*time.Millisecond)
	for _, speed := range []float64{1, 4} {
		t.Run(fmt.Sprint("speed ", speed), func(t *testing.T) {
			got, _ := run(t, shaper.Config{Ratio: shaper.Constant(2.5), Speed: speed, Seed: 11}, events)
			sessions := map[string][]out{}
			for _, r := range got {
				sessions[r.VirtualSession] = append(sessions[r.VirtualSession], r)
			}
			div := time.Duration(speed)
			for v, reqs := range sessions {
				if len(reqs) != 6 {
					t.Fatalf("virtual session %s has %d requests; want the 6 recorded", v, len(reqs))
				}
				for i, r := range reqs {
					if r.Seq != int32(i) || r.First != (i == 0) {
						t.Fatalf("virtual session %s request %d: Seq %d, First %t; want %d, %t", v, i, r.Seq, r.First, i, i == 0)
					}
					gap := r.Time.Sub(reqs[0].Time) / div
					if r.At-reqs[0].At != gap {
						t.Errorf("virtual session %s request %d is %v after the first; want %v", v, i, r.At-reqs[0].At, gap)
					}
					think := time.Duration(0)
					if i > 0 {
						think = r.Time.Sub(reqs[i-1].Time) / div
					}
					if r.Think != think {
						t.Errorf("virtual session %s request %d: Think = %v; want %v", v, i, r.Think, think)
					}
				}
			}
		})
	}
}

func TestIdleGap(t *testing.T) {
	// Session a: two events, then one 2 h later.
	events := []schema.Exchange{
		{Time: base, Session: "a", User: "u_a", Seq: 0},
		{Time: base.Add(10 * time.Second), Session: "a", User: "u_a", Seq: 1},
		{Time: base.Add(2 * time.Hour), Session: "a", User: "u_a", Seq: 2},
	}
	tests := []struct {
		name     string
		gap      time.Duration
		sessions int64
		think    time.Duration // of the last event
	}{
		// Default 30 min: the last event starts the session afresh.
		{"default", 0, 2, 0},
		// 3 h: one session throughout.
		{"3h", 3 * time.Hour, 1, 2*time.Hour - 10*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := run(t, shaper.Config{IdleGap: tt.gap}, events)
			if st.Sessions != tt.sessions {
				t.Errorf("Stats().Sessions = %d; want %d", st.Sessions, tt.sessions)
			}
			if last := got[2]; last.Think != tt.think || last.First != (tt.sessions == 2) {
				t.Errorf("last request: Think %v, First %t; want %v, %t", last.Think, last.First, tt.think, tt.sessions == 2)
			}
		})
	}
}

func TestBoundedMemory(t *testing.T) {
	// 20,000 sessions over about 7 hours, each a minute long: a long
	// capture with few sessions live at a time.
	events := synth(20_000, 5, 1200*time.Millisecond, 15*time.Second)
	got, st := run(t, shaper.Config{Ratio: shaper.Constant(3), IdleGap: 2 * time.Minute, Spread: 5 * time.Second}, events)
	if len(got) != 300_000 {
		t.Fatalf("requests = %d; want 300000", len(got))
	}
	// Live: sessions seen within 2 min (+ half a gap before a sweep), one
	// starting every 1.2 s. Held: 5 s of jitter at ~12 requests/s.
	t.Logf("Stats() = %+v", st)
	if st.MaxLive > 300 || st.MaxHeld > 200 {
		t.Errorf("Stats() MaxLive, MaxHeld = %d, %d; want ≤ 300, ≤ 200 (bounded by live sessions, not the 100,000 events)", st.MaxLive, st.MaxHeld)
	}
}

func TestNoMutation(t *testing.T) {
	events := synth(100, 4, time.Second, time.Second)
	for i := range events {
		events[i].Headers = []schema.Header{{Name: "Accept", Value: "*/*"}}
		events[i].Body = []byte("{}")
		events[i].Status = schema.Int32(200)
	}
	want := make([]schema.Exchange, len(events))
	for i, e := range events {
		want[i] = e
		want[i].Headers = slices.Clone(e.Headers)
		want[i].Body = slices.Clone(e.Body)
		want[i].Status = schema.Int32(*e.Status)
	}
	run(t, shaper.Config{Ratio: shaper.Constant(2.5), Loops: 2, Speed: 3}, events)
	if !reflect.DeepEqual(events, want) {
		t.Error("the input exchanges changed; want them read-only")
	}
}

func TestNextErrors(t *testing.T) {
	boom := errors.New("boom")
	good := synth(3, 2, time.Second, time.Second)
	tests := []struct {
		name  string
		cfg   shaper.Config
		open  shaper.Opener
		match func(error) bool
	}{
		// The Source's error, wrapped.
		{"source", shaper.Config{}, failAfter(good, 3, boom), func(err error) bool { return errors.Is(err, boom) }},
		// Events out of time order.
		{"unordered", shaper.Config{}, open(slices.Concat(good, good[:1])), func(err error) bool { return errors.Is(err, shaper.ErrUnordered) }},
		// A RatioFunc that gives a negative ratio.
		{"negative ratio", shaper.Config{Ratio: constFunc(-1)}, open(good), isRatioError},
		// A RatioFunc that gives NaN.
		{"NaN ratio", shaper.Config{Ratio: constFunc(math.NaN())}, open(good), isRatioError},
		// A Source that returns neither an exchange nor an error.
		{"nil exchange", shaper.Config{}, func() (shaper.Source, error) {
			return func() (*schema.Exchange, error) { return nil, nil }, nil
		}, func(err error) bool { return strings.Contains(err.Error(), "no exchange") }},
		// The capture does not open again for the second pass.
		{"reopen", shaper.Config{Loops: 2}, openOnce(good, boom), func(err error) bool { return errors.Is(err, boom) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := shaper.New(tt.cfg, tt.open)
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			for err == nil {
				_, err = s.Next()
			}
			if err == io.EOF || !tt.match(err) {
				t.Fatalf("Next() = %v; want the %s error", err, tt.name)
			}
			if _, again := s.Next(); again != err {
				t.Errorf("Next() after %v = %v; want the same error", err, again)
			}
		})
	}
}

func isRatioError(err error) bool {
	var re *shaper.RatioError
	return errors.As(err, &re) && re.Session != ""
}

func constFunc(r float64) shaper.RatioFunc {
	return func(*schema.Exchange, time.Duration) float64 { return r }
}

// failAfter returns an Opener whose Source yields n events, then err.
func failAfter(events []schema.Exchange, n int, err error) shaper.Opener {
	return func() (shaper.Source, error) {
		src, _ := open(events[:n])()
		return func() (*schema.Exchange, error) {
			e, end := src()
			if end == io.EOF {
				return nil, err
			}
			return e, end
		}, nil
	}
}

// openOnce returns an Opener that fails with err after the first open.
func openOnce(events []schema.Exchange, err error) shaper.Opener {
	n := 0
	return func() (shaper.Source, error) {
		if n++; n > 1 {
			return nil, fmt.Errorf("reopen: %w", err)
		}
		return open(events)()
	}
}
