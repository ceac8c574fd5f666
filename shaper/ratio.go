package shaper

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/surge-replay/surge/schema"
)

// MaxRatio is the largest ratio a Ratio may give: a hundred thousand virtual
// sessions per recorded one.
const MaxRatio = 100_000

// Ratio says how many virtual sessions a recorded session becomes. It is asked
// once, at the session's first event (sessions stay whole): first is that
// event and at its un-jittered offset in the schedule, so per-class ratios
// (by route, region, device) and time curves (ramp, spike, step) are Ratios.
//
// A ratio R ≥ 0 makes ⌊R⌋ clones of the session, plus one more with
// probability R − ⌊R⌋, decided by a keyed hash of the session: exact in
// expectation and deterministic by seed. 0 drops the session.
//
// A Ratio must be a pure function of its arguments and must not modify first.
// A Ratio that also has a Validate() error method is checked by
// Config.Validate, and one with a String() string method is printed by the
// Plan; a value outside [0, MaxRatio] at run time stops the Shaper with a
// *RatioError.
type Ratio interface {
	Ratio(first *schema.Exchange, at time.Duration) float64
}

// RatioFunc adapts a function to a Ratio. It cannot be checked before the
// run, and it prints as "custom".
//
//	live := shaper.RatioFunc(func(first *schema.Exchange, _ time.Duration) float64 {
//		if strings.HasPrefix(first.Path, "/live") {
//			return 3
//		}
//		return 1
//	})
type RatioFunc func(first *schema.Exchange, at time.Duration) float64

// Ratio returns f(first, at).
func (f RatioFunc) Ratio(first *schema.Exchange, at time.Duration) float64 { return f(first, at) }

// Constant is a Ratio that is the same for every session: Constant(3) triples
// the traffic, Constant(0.6) keeps 60% of the sessions. Being a typed value,
// Config.Validate rejects a negative one and a Plan prints it.
type Constant float64

// Ratio returns c.
func (c Constant) Ratio(*schema.Exchange, time.Duration) float64 { return float64(c) }

// String returns the ratio with an "x": "2.5x".
func (c Constant) String() string {
	return strconv.FormatFloat(float64(c), 'g', -1, 64) + "x"
}

// Validate reports a ratio that is not a number in [0, MaxRatio].
func (c Constant) Validate() error {
	return checkRatio(float64(c))
}

func checkRatio(r float64) error {
	switch {
	case math.IsNaN(r):
		return fmt.Errorf("ratio is not a number")
	case r < 0:
		return fmt.Errorf("ratio %v is negative; want 0 (drop every session) or more", r)
	case r > MaxRatio:
		return fmt.Errorf("ratio %v is over the maximum %d", r, MaxRatio)
	}
	return nil
}

// RatioError is returned by Shaper.Next when a Ratio gives a value outside
// [0, MaxRatio] or not a number: a RatioFunc cannot be checked before the run.
type RatioError struct {
	Session string        // recorded session key
	At      time.Duration // offset of the session's first event
	Ratio   float64       // what the Ratio returned
	Err     error         // what is wrong with it
}

// Error says which session got which ratio.
func (e *RatioError) Error() string {
	return fmt.Sprintf("shaper: session %q at %v: %v", e.Session, e.At, e.Err)
}

// Unwrap returns Err.
func (e *RatioError) Unwrap() error { return e.Err }

// ratioName returns r's String, or "custom" for a Ratio without one.
func ratioName(r Ratio) string {
	if s, ok := r.(fmt.Stringer); ok {
		return s.String()
	}
	return "custom"
}

// clones returns how many clones a session with ratio r gets, given its
// uniform draw u in [0, 1).
func clones(r, u float64) int32 {
	n := math.Floor(r)
	if u < r-n {
		n++
	}
	return int32(n)
}
