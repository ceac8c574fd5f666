package replay

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/surge-replay/surge/shaper"
)

// DefaultLookahead is how far ahead of the clock a Live schedule lets its
// shaper read: a control takes effect at most this long (of schedule time)
// after it is made.
const DefaultLookahead = 100 * time.Millisecond

// Errors of Live's changes.
var (
	ErrPaused     = errors.New("run is paused")
	ErrNotPaused  = errors.New("run is not paused")
	ErrRunStopped = errors.New("run is stopped: no more changes")
)

// Live is a Schedule under live control: it runs a Shaper against the wall
// clock so that changes made while it runs (Set, Exit, Pause, Resume, Stop)
// are control events at the schedule offset of the moment they are made,
// which the shaper folds in before it shapes any session starting at or
// after it. The shaper reads its capture at most Lookahead ahead of the
// clock, so a change takes effect within Lookahead of schedule time.
//
// Pauses shift the wall time of everything after them; the shaper's
// schedule (offsets) is unchanged, so the same control events give the same
// schedule. Usage:
//
//	live := replay.NewLive(ctx, controls, settings, 0)
//	cfg.Gate = live.Gate
//	sh, _ := shaper.New(cfg, open)
//	live.Bind(sh)
//	engine.Started = live.Start
//	replay.Run(ctx, engine, live, stop, emit)
//
// Live is safe for concurrent use: Next runs on the engine's producer, the
// changes come from the control API and the config-file watcher.
type Live struct {
	ctx       context.Context
	controls  *shaper.Controls
	lookahead time.Duration
	sh        *shaper.Shaper

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	start    time.Time
	started  bool
	returned bool // a request has been returned
	pauses   []pause
	stopped  bool
	stopAt   time.Duration
	settings shaper.Settings // as the controls so far make them

	// OnChange, when set, is called after each control is recorded, with
	// the shaping it leaves in effect (a metrics gauge follows the ratio
	// with it). Set it before the run starts; it must not call l.
	OnChange func(ctl shaper.Control, now shaper.Settings)
}

// pause is a pause made at schedule offset at, wall time from; to is zero
// while it lasts.
type pause struct {
	at       time.Duration
	from, to time.Time
}

// NewLive returns a Live schedule appending to controls, whose shaping
// starts as settings; lookahead 0 means DefaultLookahead.
func NewLive(ctx context.Context, controls *shaper.Controls, settings shaper.Settings, lookahead time.Duration) *Live {
	if lookahead <= 0 {
		lookahead = DefaultLookahead
	}
	return &Live{ctx: ctx, controls: controls, lookahead: lookahead, changed: make(chan struct{}), settings: settings}
}

// Bind sets the shaper Next reads; its Config.Gate must be l.Gate and its
// Config.Controls l's controls.
func (l *Live) Bind(sh *shaper.Shaper) { l.sh = sh }

// Start is the engine's Started hook: the wall time of offset 0.
func (l *Live) Start(t time.Time) {
	l.mu.Lock()
	l.start, l.started = t, true
	l.wake()
	l.mu.Unlock()
}

// Paced tells the engine that Next blocks until a request is near.
func (l *Live) Paced() bool { return true }

// Next returns the shaper's next request with its offset moved by the
// pauses before it, once its wall time is known.
func (l *Live) Next() (*shaper.Request, error) {
	r, err := l.sh.Next()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	first := !l.returned
	stop := l.stopped && r.At >= l.stopAt
	l.mu.Unlock()
	if stop {
		return nil, io.EOF
	}
	if first {
		// The engine starts its clock once it has its first request: that
		// one cannot wait for the start.
		l.mu.Lock()
		l.returned = true
		l.mu.Unlock()
		return r, nil
	}
	w, err := l.wait(r.At, false)
	if err != nil {
		return nil, err
	}
	if !w.IsZero() {
		l.mu.Lock()
		r.At = w.Sub(l.start)
		l.mu.Unlock()
	}
	return r, nil
}

// Gate is the shaper's Config.Gate: it blocks until offset at is within
// the look-ahead of the clock (pauses counted), or returns io.EOF once the
// run is stopped at or before at, or ctx's error.
func (l *Live) Gate(at time.Duration) error {
	_, err := l.wait(at, true)
	return err
}

// wait blocks until the wall time of offset at is known and, with ahead,
// no more than the look-ahead away; it returns that wall time (zero before
// the start: the first request comes before the engine's clock starts).
func (l *Live) wait(at time.Duration, ahead bool) (time.Time, error) {
	for {
		l.mu.Lock()
		if l.stopped && at >= l.stopAt {
			l.mu.Unlock()
			return time.Time{}, io.EOF
		}
		if !l.started && !l.returned {
			l.mu.Unlock()
			return time.Time{}, nil // the engine starts its clock on the first request
		}
		w, known := l.wall(at)
		ch := l.changed
		l.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if known {
			d := time.Until(w)
			if ahead {
				d -= l.lookahead
			}
			if !ahead || d <= 0 {
				return w, nil
			}
			timer = time.NewTimer(d)
			fire = timer.C
		}
		select {
		case <-fire:
		case <-ch:
		case <-l.ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if err := l.ctx.Err(); err != nil {
			return time.Time{}, err
		}
	}
}

// wall returns the wall time of offset d; known is false before the start
// or when d falls in a pause not yet over. l.mu is held.
func (l *Live) wall(d time.Duration) (w time.Time, known bool) {
	if !l.started {
		return time.Time{}, false
	}
	w = l.start.Add(d)
	for _, p := range l.pauses {
		if d < p.at {
			break
		}
		if p.to.IsZero() {
			return w, false
		}
		w = w.Add(p.to.Sub(p.from))
	}
	return w, true
}

// now returns the schedule offset of the present: the time since the start
// less the pauses, or the offset of the pause in progress. l.mu is held.
func (l *Live) now() time.Duration {
	if !l.started {
		return 0
	}
	d := time.Since(l.start)
	for _, p := range l.pauses {
		if p.to.IsZero() {
			return p.at
		}
		d -= p.to.Sub(p.from)
	}
	return max(d, 0)
}

func (l *Live) wake() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// Set changes the shaping keys set in change (replace: the settings whole)
// from now on, and returns the control event as recorded.
func (l *Live) Set(change shaper.Settings, replace bool, by string) (shaper.Control, error) {
	return l.append(shaper.Control{Op: shaper.OpSet, Set: &change, Replace: replace, By: by})
}

// Exit ends a fraction of the live virtual sessions now (shaper.ExitSpec).
func (l *Live) Exit(e shaper.ExitSpec, by string) (shaper.Control, error) {
	e.At = ""
	return l.append(shaper.Control{Op: shaper.OpExit, Exit: &e, By: by})
}

// Pause holds the schedule from now until Resume.
func (l *Live) Pause(by string) (shaper.Control, error) {
	return l.append(shaper.Control{Op: shaper.OpPause, By: by})
}

// Resume goes on after a pause.
func (l *Live) Resume(by string) (shaper.Control, error) {
	return l.append(shaper.Control{Op: shaper.OpResume, By: by})
}

// Stop ends the schedule now: nothing due from now on is sent.
func (l *Live) Stop(by string) (shaper.Control, error) {
	return l.append(shaper.Control{Op: shaper.OpStop, By: by})
}

// append stamps ctl with the present offset and wall time, checks it
// against the run's state and records it.
func (l *Live) append(ctl shaper.Control) (shaper.Control, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return ctl, ErrRunStopped
	}
	paused := len(l.pauses) > 0 && l.pauses[len(l.pauses)-1].to.IsZero()
	switch {
	case ctl.Op == shaper.OpPause && paused:
		return ctl, ErrPaused
	case ctl.Op == shaper.OpResume && !paused:
		return ctl, ErrNotPaused
	}
	// A change is checked against the run's shaping: an exit to a class
	// or session set the run does not have is refused, not ignored.
	if err := l.settings.CheckChange(&ctl); err != nil {
		return ctl, err
	}
	ctl.At, ctl.Issued = l.now(), time.Now().UTC()
	ctl, err := l.controls.Append(ctl)
	if err != nil {
		return ctl, err
	}
	switch ctl.Op {
	case shaper.OpSet:
		if ctl.Replace {
			sessions := l.settings.Sessions
			l.settings = *ctl.Set
			l.settings.Sessions = sessions
		} else {
			l.settings = l.settings.Merge(ctl.Set)
		}
	case shaper.OpPause:
		l.pauses = append(l.pauses, pause{at: ctl.At, from: ctl.Issued})
	case shaper.OpResume:
		l.pauses[len(l.pauses)-1].to = ctl.Issued
	case shaper.OpStop:
		l.stopped, l.stopAt = true, ctl.At
	}
	l.wake()
	if l.OnChange != nil {
		l.OnChange(ctl, l.settings)
	}
	return ctl, nil
}

// RunState is what GET /v1/run returns.
type RunState struct {
	// State is "starting", "running", "paused" or "stopped".
	State    string           `json:"state"`
	OffsetNS time.Duration    `json:"offset_ns"` // schedule offset of now
	Offset   string           `json:"offset"`    // the same, as a duration
	Settings shaper.Settings  `json:"settings"`  // the shaping in effect
	Controls []shaper.Control `json:"controls"`  // every control event so far
}

// State returns the run's state now.
func (l *Live) State() RunState {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := RunState{State: "running", OffsetNS: l.now(), Settings: l.settings}
	switch {
	case l.stopped:
		st.State = "stopped"
	case !l.started:
		st.State = "starting"
	case len(l.pauses) > 0 && l.pauses[len(l.pauses)-1].to.IsZero():
		st.State = "paused"
	}
	st.Offset = st.OffsetNS.String()
	ctls, _ := l.controls.Since(0)
	st.Controls = append([]shaper.Control{}, ctls...)
	return st
}
