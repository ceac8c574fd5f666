package storm

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/surge-replay/surge/shaper"
)

// fakeConns records the drops and the first delays of three clients.
type fakeConns struct {
	start time.Time
	drops []string
}

func (f *fakeConns) Drop(fraction float64, class string, reconnect func(string) Reconnect) (int, error) {
	line := fmt.Sprintf("+%v %v %q", time.Since(f.start), fraction, class)
	for _, c := range []string{"a", "b", "a"} {
		rc := reconnect(c)
		var ds []time.Duration
		for i := 1; ; i++ {
			d, ok := rc(i)
			if !ok {
				break
			}
			ds = append(ds, d)
		}
		line += fmt.Sprintf(" %s%v", c, ds)
	}
	f.drops = append(f.drops, line)
	return 3, nil
}

func TestRunner(t *testing.T) {
	base := time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)
	s, err := shaper.DecodeSettings([]byte(`{"storm": [
		{"at": "+1m", "fraction": 0.5, "policy": "exponential", "base": "1s", "cap": "4s", "max_attempts": 4},
		{"at": "+2m", "restart": "/_demo/restart", "policy": "fixed"},
		{"at": "+3m", "class": "live", "fraction": 1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	storms, err := s.Storms(base, base.Add(30*time.Minute), 30, 1) // at 2 s, 4 s, 6 s
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		conns := &fakeConns{start: start}
		var restarts []string
		r := &Runner{Storms: storms, Seed: 7, Conns: conns, Clock: WallClock(start),
			Restart: func(ctx context.Context, path string) error {
				restarts = append(restarts, fmt.Sprintf("+%v %s", time.Since(start), path))
				return nil
			}}
		if err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{
			// exponential: the same delays for every client; each call of
			// reconnect is a client of its own (a again starts afresh).
			`+2s 0.5 "" a[1s 2s 4s 4s] b[1s 2s 4s 4s] a[1s 2s 4s 4s]`,
			// policy none: no reconnect.
			`+6s 1 "live" a[] b[] a[]`,
		}
		if fmt.Sprint(conns.drops) != fmt.Sprint(want) {
			t.Errorf("drops:\n%s\nwant:\n%s", conns.drops, want)
		}
		if fmt.Sprint(restarts) != "[+4s /_demo/restart]" {
			t.Errorf("restarts %v; want one at +4s", restarts)
		}
		if f := r.Fired(); len(f) != 3 || f[0].Dropped != 3 || f[1].Err != nil {
			t.Errorf("fired %+v", f)
		}
	})
}

// TestReconnectFor: jittered delays are the client's own: the same client
// and seed give the same delays, other clients others.
func TestReconnectFor(t *testing.T) {
	st := &shaper.Storm{StormSpec: shaper.StormSpec{Policy: "decorrelated_jitter", Base: shaper.Duration(100 * time.Millisecond), Cap: shaper.Duration(10 * time.Second)}}
	seq := func(client string, seed uint64) string {
		rc := ReconnectFor(st, seed, client)
		var ds []time.Duration
		for i := 1; i <= 6; i++ {
			d, _ := rc(i)
			ds = append(ds, d)
		}
		return fmt.Sprint(ds)
	}
	if seq("a", 1) != seq("a", 1) {
		t.Error("client a, seed 1: two sequences")
	}
	if seq("a", 1) == seq("b", 1) || seq("a", 1) == seq("a", 2) {
		t.Error("clients a and b (or seeds 1 and 2) reconnect in lockstep")
	}
}

// TestRunnerErrors: a restart without a Restarter is recorded and the run
// goes on; an ended context stops the runner.
func TestRunnerErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		storms := []shaper.Storm{
			{StormSpec: shaper.StormSpec{Restart: "/r"}, Offset: time.Second},
			{StormSpec: shaper.StormSpec{Fraction: 1}, Offset: time.Hour},
		}
		r := &Runner{Storms: storms, Conns: &fakeConns{start: time.Now()}, Clock: WallClock(time.Now())}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := r.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run = %v; want the context's deadline", err)
		}
		if f := r.Fired(); len(f) != 1 || !errors.Is(f[0].Err, ErrNoRestarter) {
			t.Errorf("fired %+v; want the restart with ErrNoRestarter", f)
		}
	})
}
