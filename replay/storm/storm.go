// Package storm runs the reconnect storms of a replay (the `storm:` entries
// of the shape config, shaper.StormSpec): at each storm's schedule offset it
// drops the chosen live WebSocket connections, or asks the target to
// restart, and gives every client cut off its own reconnect delays from
// replay/backoff, seeded by the run's seed, the storm and the client, so the
// same run reconnects the same way twice.
//
// The runner knows nothing of WebSocket itself: it acts on the run's live
// connections through Conns (replay's registry) and on the target through
// a Restarter, and it waits for offsets with a Clock. The report computes
// what the storm did from the connection attempts' results
// (report.StormReport).
package storm

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/surge-replay/surge/replay/backoff"
	"github.com/surge-replay/surge/shaper"
)

// Reconnect is one client's reconnect delays: the delay before its
// attempt-th reconnect (1 for the first after the storm) and false when it
// gives up. It ignores attempt beyond counting calls, so a client dropped
// again by a later storm starts afresh with that storm's Reconnect. Safe
// for concurrent use.
type Reconnect func(attempt int) (time.Duration, bool)

// Conns is what a storm acts on: the run's live WebSocket connections.
type Conns interface {
	// Drop closes fraction (0 < fraction ≤ 1) of the live connections of
	// class ("" every class), abruptly, and each dropped client reconnects
	// by reconnect(key), key naming the client within the storm (stable
	// for the same run: replay passes its place in the drop order); it
	// returns how many it dropped.
	Drop(fraction float64, class string, reconnect func(key string) Reconnect) (int, error)
}

// Restarter asks the target to restart: POST path on the target. The
// target then closes its connections itself.
type Restarter func(ctx context.Context, path string) error

// Clock waits until the run reaches schedule offset at (time since the
// run's start, speed applied); it returns ctx's error if the run ends
// first.
type Clock func(ctx context.Context, at time.Duration) error

// Runner fires a run's storms in order. Create one with its fields set and
// call Run once; Fired is safe to call meanwhile.
type Runner struct {
	Storms  []shaper.Storm // in offset order (shaper.Settings.Storms)
	Seed    uint64         // the run's seed
	Conns   Conns
	Restart Restarter // nil: restart storms fail (counted in Fired)
	Clock   Clock

	mu    sync.Mutex
	fired []Fired
}

// Fired is what one storm did when it fired.
type Fired struct {
	Storm   shaper.Storm
	At      time.Duration // when it fired (the Clock's offset)
	Dropped int           // connections surge dropped
	Err     error         // why it did nothing (a failed restart request)
}

// Policy returns the reconnect policy of a storm.
func Policy(st *shaper.Storm) backoff.Policy {
	k, _ := backoff.ParseKind(st.Policy) // checked by shaper's validation
	return backoff.Policy{Kind: k, Base: time.Duration(st.Base), Cap: time.Duration(st.Cap), MaxAttempts: st.MaxAttempts}
}

// ReconnectFor returns the reconnect delays of the client named key after
// storm st under run seed seed: its own Backoff, seeded by (seed, storm,
// pass, key).
func ReconnectFor(st *shaper.Storm, seed uint64, key string) Reconnect {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/%s", st.Index, st.Loop, key)
	b := Policy(st).New(seed ^ h.Sum64())
	var mu sync.Mutex
	return func(int) (time.Duration, bool) {
		mu.Lock()
		defer mu.Unlock()
		return b.Next()
	}
}

// ErrNoRestarter is a restart storm's error when the Runner has no
// Restarter.
var ErrNoRestarter = errors.New("storm: a target restart needs a restart request")

// Run fires every storm at its offset, until the last has fired or ctx
// ends (then it returns ctx's error). A storm that fails (a refused
// restart request) is recorded in Fired and the rest go on.
func (r *Runner) Run(ctx context.Context) error {
	for i := range r.Storms {
		st := &r.Storms[i]
		if err := r.Clock(ctx, st.Offset); err != nil {
			return err
		}
		f := Fired{Storm: *st, At: st.Offset}
		switch {
		case st.Restart != "" && r.Restart == nil:
			f.Err = ErrNoRestarter
		case st.Restart != "":
			f.Err = r.Restart(ctx, st.Restart)
		default:
			f.Dropped, f.Err = r.Conns.Drop(st.Fraction, st.Class, func(key string) Reconnect {
				return ReconnectFor(st, r.Seed, key)
			})
		}
		r.mu.Lock()
		r.fired = append(r.fired, f)
		r.mu.Unlock()
	}
	return nil
}

// Fired returns the storms fired so far.
func (r *Runner) Fired() []Fired {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Fired(nil), r.fired...)
}

// WallClock returns a Clock that counts offsets from start on the wall
// clock (time.Now, so testing/synctest's fake clock in tests).
func WallClock(start time.Time) Clock {
	return func(ctx context.Context, at time.Duration) error {
		d := time.Until(start.Add(at))
		if d <= 0 {
			return ctx.Err()
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
