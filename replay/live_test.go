package replay_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// oneASecond returns an Opener of n one-request sessions, one a second.
func oneASecond(n int) shaper.Opener {
	t0 := time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)
	return func() (shaper.Source, error) {
		i := 0
		return func() (*schema.Exchange, error) {
			if i == n {
				return nil, io.EOF
			}
			e := &schema.Exchange{Time: t0.Add(time.Duration(i) * time.Second), Session: fmt.Sprintf("s_%d", i), Method: "GET", Path: "/"}
			i++
			return e, nil
		}, nil
	}
}

// TestLiveGateAndPause: the shaper reads no further than the look-ahead
// ahead of the clock, a change made at 2.5 s applies to sessions from then
// on, and a pause of 3 s shifts every later request by 3 s while the
// schedule's offsets stay the same.
func TestLiveGateAndPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		controls, _ := shaper.NewControls()
		live := replay.NewLive(context.Background(), controls, shaper.Settings{}, 100*time.Millisecond)
		sh, err := shaper.New(shaper.Config{Spread: -1, Controls: controls, Gate: live.Gate}, oneASecond(8))
		if err != nil {
			t.Fatal(err)
		}
		live.Bind(sh)
		start := time.Now()
		type got struct {
			at, handed time.Duration // request offset, and when Next returned it
			clones     int32
		}
		out := make(chan got, 100)
		go func() {
			for {
				r, err := live.Next()
				if err != nil {
					close(out)
					return
				}
				if r.First && r.Clone == 0 && time.Since(start) == 0 {
					live.Start(start) // the engine starts its clock on the first request
				}
				out <- got{r.At, time.Since(start), r.Clone}
			}
		}()
		time.Sleep(2500 * time.Millisecond)
		three := 3.0
		if _, err := live.Set(shaper.Settings{Ratio: &three}, false, "test"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // 4.5 s
		if _, err := live.Pause("test"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		if _, err := live.Resume("test"); err != nil {
			t.Fatal(err)
		}
		var reqs []got
		for g := range out {
			reqs = append(reqs, g)
		}
		// Sessions at 0, 1, 2 s: one request; from 3 s on three clones; the
		// one at 5 s and later shifted by the 3 s pause (it began at 4.5 s).
		want := []time.Duration{0, 1, 2, 3, 3, 3, 4, 4, 4, 8, 8, 8, 9, 9, 9, 10, 10, 10}
		if len(reqs) != len(want) {
			t.Fatalf("%d requests %v; want %d", len(reqs), reqs, len(want))
		}
		for i, r := range reqs {
			if r.at != want[i]*time.Second {
				t.Errorf("request %d at %v; want %v", i, r.at, want[i]*time.Second)
			}
			if early := r.at - r.handed; early > 100*time.Millisecond {
				t.Errorf("request %d at %v handed on at %v: %v early; want at most the 100ms look-ahead", i, r.at, r.handed, early)
			}
		}
		ctls, _ := controls.Since(0)
		if len(ctls) != 3 || ctls[0].At < 2500*time.Millisecond || ctls[0].At > 2600*time.Millisecond+1 {
			t.Errorf("controls %v; want a set at 2.5s (up to the look-ahead later), a pause, a resume", ctls)
		}
		// The recorded control events replayed without a clock give the
		// same schedule (the pause aside, which only moves wall times).
		again, _ := shaper.NewControls(ctls...)
		pure, err := shaper.New(shaper.Config{Spread: -1, Controls: again}, oneASecond(8))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			r, err := pure.Next()
			if err == io.EOF {
				if i != len(reqs) {
					t.Errorf("replayed controls: %d requests; want %d", i, len(reqs))
				}
				break
			}
			if i >= len(reqs) || r.Clone != reqs[i].clones {
				t.Fatalf("replayed controls: request %d is clone %d; want the live run's", i, r.Clone)
			}
		}
	})
}
