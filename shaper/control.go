package shaper

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Ops of a Control. They are the fleet's control ops (fleet.OpSet, …) plus
// exit, so one control topic carries both.
const (
	OpSet    = "set"    // change shaping keys (Settings)
	OpExit   = "exit"   // end a fraction of the live virtual sessions now
	OpPause  = "pause"  // hold the schedule (the engine's; the shaper ignores it)
	OpResume = "resume" // go on after a pause
	OpStop   = "stop"   // end the schedule
)

// Control is one control event: a typed, timestamped change to a run,
// taking effect at a schedule offset. A run's shaping is the fold of its
// Controls in order: the same Config and the same Controls at the same
// offsets give the same schedule. Its JSON form is what the results file's
// metadata and the control topic carry.
type Control struct {
	Op string `json:"op"`
	// At is the schedule offset (time since the replay start, speed
	// applied, pauses not counted) it takes effect at: sessions whose first
	// request is due at or after it see it.
	At time.Duration `json:"at_ns"`
	// Issued is the wall time it was made; By who made it ("api",
	// "file", a user name). Both are for the record only.
	Issued time.Time `json:"issued,omitzero"`
	By     string    `json:"by,omitempty"`
	// Set holds the keys an OpSet changes: a key present replaces the
	// current value (a list whole), a key absent keeps it.
	Set *Settings `json:"set,omitempty"`
	// Replace makes an OpSet replace the settings whole (a reloaded config
	// file) instead of changing the keys present; the sets of recorded
	// sessions stay as collected.
	Replace bool `json:"replace,omitempty"`
	// Exit is the exit of an OpExit (its At is ignored: the Control's At
	// is when).
	Exit *ExitSpec `json:"exit,omitempty"`
}

// String returns "+1m30s set ratio=5 (api)".
func (c Control) String() string {
	s := fmt.Sprintf("+%v %s", c.At, c.Op)
	switch {
	case c.Set != nil:
		b, _ := json.Marshal(c.Set)
		s += " " + string(b)
	case c.Exit != nil:
		s += " " + c.Exit.String()
	}
	if c.By != "" {
		s += " (" + c.By + ")"
	}
	return s
}

// Validate returns what is wrong with c: an unknown op, a set without keys
// or with bad ones, an exit without its spec.
func (c *Control) Validate() error {
	switch c.Op {
	case OpSet:
		if c.Set == nil {
			return fmt.Errorf("control set: nothing to set")
		}
		if _, err := c.Set.Classes(time.Unix(0, 0).UTC(), 1); err != nil {
			return fmt.Errorf("control set: %w", err)
		}
		if _, err := NewRewriter(c.Set.Content, c.Set.Rewrites, 0); err != nil {
			return fmt.Errorf("control set: %w", err)
		}
		if c.Set.Sessions != nil && !c.Replace {
			return fmt.Errorf("control set: sessions are collected before the run; a change cannot add them")
		}
		if c.Set.Regions != nil && !c.Replace {
			return fmt.Errorf("control set: regions are fixed for the run (a session keeps its region); a change cannot set them")
		}
		for i, e := range c.Set.Exits {
			if err := e.validate(); err != nil {
				return fmt.Errorf("control set: exits[%d]: %w", i, err)
			}
		}
	case OpExit:
		if c.Exit == nil {
			return fmt.Errorf("control exit: no exit")
		}
		if err := c.Exit.validate(); err != nil {
			return fmt.Errorf("control exit: %w", err)
		}
	case OpPause, OpResume, OpStop:
	default:
		return fmt.Errorf("control: unknown op %q (set, exit, pause, resume, stop)", c.Op)
	}
	if c.At < 0 {
		return fmt.Errorf("control %s: negative offset %v", c.Op, c.At)
	}
	return nil
}

// Controls is a run's log of control events, in effect order: Append only
// adds at the end, and never at an offset before the last one's. The
// config-file watcher, the HTTP control API and a fleet agent's control
// topic reader all append here; the Shaper reads it. Safe for concurrent
// use.
type Controls struct {
	mu      sync.Mutex
	log     []Control
	changed chan struct{}
	floor   time.Duration // the offset the Shaper has reached
	reached bool          // floor is set
}

// NewControls returns a log holding initial (checked as by Append).
func NewControls(initial ...Control) (*Controls, error) {
	c := &Controls{changed: make(chan struct{})}
	for _, ctl := range initial {
		if _, err := c.Append(ctl); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Append checks ctl and adds it, taking effect at its At or at the last
// event's, whichever is later (effective offsets never go back); it returns
// the control as recorded. A bad control is refused and nothing changes.
func (c *Controls) Append(ctl Control) (Control, error) {
	if err := ctl.Validate(); err != nil {
		return ctl, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	if n := len(c.log); n > 0 && ctl.At < c.log[n-1].At {
		ctl.At = c.log[n-1].At
	}
	if c.reached && ctl.At <= c.floor {
		// The Shaper has shaped up to floor: the earliest it can apply
		// this is just after.
		ctl.At = c.floor + 1
	}
	if c.reached && ctl.At <= c.floor {
		// The Shaper has shaped up to floor: the earliest it can apply
		// this is just after.
		ctl.At = c.floor + 1
	}
	c.log = append(c.log, ctl)
	close(c.changed)
	c.changed = make(chan struct{})
	return ctl, nil
}

// Since returns the controls from index i on, and a channel closed at the
// next Append.
func (c *Controls) Since(i int) ([]Control, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	if i >= len(c.log) {
		return nil, c.changed
	}
	return c.log[i:len(c.log):len(c.log)], c.changed
}

// Len returns how many controls the log holds.
func (c *Controls) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.log)
}

// Merge returns s with the keys of change applied: each key change has
// replaces s's (lists whole).
func (s Settings) Merge(change *Settings) Settings {
	if change.Ratio != nil {
		r := *change.Ratio
		s.Ratio = &r
	}
	if change.Curves != nil {
		s.Curves = change.Curves
	}
	if change.Ratios != nil {
		s.Ratios = change.Ratios
	}
	if change.Exits != nil {
		s.Exits = change.Exits
	}
	if change.Content != nil {
		s.Content = change.Content
	}
	if change.Rewrites != nil {
		s.Rewrites = change.Rewrites
	}
	return s
}

// advance notes that the Shaper has reached schedule offset at: a control
// appended from now on takes effect after it, so the offset recorded is the
// one the Shaper applies it at.
func (c *Controls) advance(at time.Duration) {
	c.mu.Lock()
	if !c.reached || at > c.floor {
		c.floor, c.reached = at, true
	}
	c.mu.Unlock()
}
