package shaper

import (
	"fmt"
	"math"
	"time"
)

// Defaults of Config.
const (
	DefaultSpread  = 10 * time.Second
	DefaultIdleGap = 30 * time.Minute
)

// Config says how to shape a capture into a schedule. The zero value replays
// the whole capture once, at recorded speed and ratio 1, clones (none at
// ratio 1) jittered over DefaultSpread.
type Config struct {
	// From and To bound the window of the capture to replay, by event time:
	// events at From or later and before To are replayed, the rest are
	// skipped, and reading a pass stops at the first event at or after To.
	// The schedule starts (offset 0) at From. Zero From means the window
	// starts at the first event; zero To means it ends at the last event
	// (inclusive).
	From, To time.Time
	// Speed compresses time: 10 replays ten times faster (offsets and gaps
	// divided by 10). Zero means 1; negative is invalid.
	Speed float64
	// Loops is how many passes over the window the schedule makes, back to
	// back: pass i starts at i × window length / Speed. Zero means 1;
	// negative is invalid.
	Loops int
	// Ratio says how many virtual sessions each recorded session becomes.
	// Nil means Constant(1).
	Ratio Ratio
	// Seed keys every decision (clone counts, jitter, virtual ids): the same
	// seed gives the same schedule. Zero is a seed like any other.
	Seed uint64
	// Spread is the clone start jitter: clone k ≥ 1 of a session is delayed
	// by a deterministic offset in [0, Spread) of schedule time; clone 0 is
	// never shifted. Zero means DefaultSpread; negative means no jitter.
	Spread time.Duration
	// IdleGap is how long (capture time) a recorded session is remembered
	// after its last event; a session seen again after longer starts afresh
	// (First again, a new clone decision). Zero means DefaultIdleGap;
	// negative is invalid.
	IdleGap time.Duration
	// Resolution is the capture's time resolution (what the importer
	// recorded: schema.MetaResolution), e.g. one second for an access log
	// with $time_local. Events sharing an instant aligned to it are spread
	// evenly over it, in input order (see spreadInstants), so a second's
	// requests are not sent as one burst. Zero means the times are exact
	// (nothing is spread); negative is invalid.
	Resolution time.Duration
	// Shape is the shaping beyond a constant ratio: per-class ratios,
	// curves and exits, compiled at the window start. Ratio stays the
	// default class's ratio unless Shape.Ratio is set; with a Ratio that is
	// not a Constant (a fleet agent's live ratio), the default class's
	// ratio is its value times the default curves. The zero value shapes
	// nothing.
	Shape Settings
	// Controls is the run's control log: changes that take effect at
	// schedule offsets while the Shaper runs. Nil means none.
	Controls *Controls
	// Gate, when set, is called with the schedule offset of each event
	// before its controls are applied and it is shaped, and may block: a
	// live run waits there until the offset is within its look-ahead of the
	// clock, so a control appended meanwhile reaches the event. An error
	// from Gate ends the schedule (io.EOF ends it without an error). The
	// Shaper stays a pure function of its input and its Controls: Gate
	// decides when, never what.
	Gate func(at time.Duration) error
	// Sets are the named sets of recorded sessions exits send users to
	// (CollectSets); every ExitSpec.To must name one.
	Sets map[string]SessionSet
}

// ConfigError is one problem with one field of a Config.
type ConfigError struct {
	Field  string // Config field: "Speed", "Loops", "To", "Ratio", "IdleGap"
	Reason string
}

// Error returns "shaper: Field: reason".
func (e *ConfigError) Error() string { return "shaper: " + e.Field + ": " + e.Reason }

// Validate returns every problem with c (each a *ConfigError), not just the
// first; nil means c is good.
func (c *Config) Validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	switch {
	case math.IsNaN(c.Speed) || math.IsInf(c.Speed, 0):
		bad("Speed", "%v is not a finite number", c.Speed)
	case c.Speed < 0:
		bad("Speed", "%v is negative; want a positive speed (10 = ten times faster) or 0 for 1", c.Speed)
	}
	switch {
	case c.Loops < 0:
		bad("Loops", "%d is negative; want 1 or more passes, or 0 for 1", c.Loops)
	case c.Loops > math.MaxInt32:
		bad("Loops", "%d is over the maximum %d", c.Loops, math.MaxInt32)
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.To.After(c.From) {
		bad("To", "%s is not after From %s", stamp(c.To), stamp(c.From))
	}
	if v, ok := c.Ratio.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			bad("Ratio", "%v", err)
		}
	}
	if c.Shape.Shaped() || len(c.Shape.Exits) > 0 {
		if _, ok := c.Ratio.(*Classes); ok {
			bad("Ratio", "Classes with Shape: give the classes in one of them")
		}
		if _, err := c.Shape.Classes(time.Unix(0, 0).UTC(), 1); err != nil {
			bad("Shape", "%v", err)
		}
	}
	if _, err := NewRewriter(c.Shape.Content, c.Shape.Rewrites, 0); err != nil {
		bad("Shape", "%v", err)
	}
	if _, err := compileRegions(c.Shape.Regions); err != nil {
		bad("Shape", "%v", err)
	}
	for i, e := range c.Shape.Exits {
		if err := e.validate(); err != nil {
			bad("Shape", "exits[%d]: %v", i, err)
		}
		if _, err := When(e.At, time.Unix(0, 0).UTC()); err != nil {
			bad("Shape", "exits[%d]: %v", i, err)
		}
		if e.To != "" && len(c.Sets[e.To]) == 0 {
			bad("Sets", "exits[%d]: no recorded sessions in set %q", i, e.To)
		}
	}
	if c.IdleGap < 0 {
		bad("IdleGap", "%v is negative; want a duration, or 0 for %v", c.IdleGap, DefaultIdleGap)
	}
	if c.Resolution < 0 {
		bad("Resolution", "%v is negative; want the capture's time resolution, or 0 for exact times", c.Resolution)
	}
	return errs
}

func (c *Config) speed() float64 {
	if c.Speed == 0 {
		return 1
	}
	return c.Speed
}

func (c *Config) loops() int {
	if c.Loops == 0 {
		return 1
	}
	return c.Loops
}

func (c *Config) ratio() Ratio {
	if c.Ratio == nil {
		return Constant(1)
	}
	return c.Ratio
}

// spread returns the jitter range; 0 means none.
func (c *Config) spread() time.Duration {
	if c.Spread == 0 {
		return DefaultSpread
	}
	return max(c.Spread, 0)
}

func (c *Config) idleGap() time.Duration {
	if c.IdleGap == 0 {
		return DefaultIdleGap
	}
	return c.IdleGap
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
