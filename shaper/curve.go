package shaper

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Curve is a factor over capture time that multiplies a ratio: a session
// whose first request was recorded at t gets ratio × Factor(t). Curves are
// functions of capture time (the recording's own clock), so "kickoff at
// 20:00:00Z" means the moment the recording shows kickoff, whatever the
// speed, and every loop over the window repeats the same curve.
//
// Ramp, Step, Spike and Points are the curves; each is a small immutable
// value, safe for concurrent use, printed by String.
type Curve interface {
	Factor(t time.Time) float64
	String() string
}

// Ramp goes linearly from From at At to To at At + Over, and stays at From
// before and at To after. Over 0 is a jump at At.
type Ramp struct {
	At       time.Time
	From, To float64
	Over     time.Duration // capture time
}

// Factor returns the ramp's value at t.
func (r Ramp) Factor(t time.Time) float64 {
	d := t.Sub(r.At)
	switch {
	case d < 0:
		return r.From
	case d >= r.Over:
		return r.To
	}
	return r.From + (r.To-r.From)*float64(d)/float64(r.Over)
}

// String returns "ramp(1→10 from 20:00:00Z over 5m0s)".
func (r Ramp) String() string {
	return fmt.Sprintf("ramp(%s→%s from %s over %v)", num(r.From), num(r.To), clock(r.At), r.Over)
}

// Point is a value at a capture time, of Step and Points.
type Point struct {
	At    time.Time
	Value float64
}

// Step holds each point's value from its time until the next point's; before
// the first point it is 1. Points are in time order.
type Step []Point

// Factor returns the value of the latest point at or before t, or 1.
func (s Step) Factor(t time.Time) float64 {
	v := 1.0
	for _, p := range s {
		if p.At.After(t) {
			break
		}
		v = p.Value
	}
	return v
}

// String returns "step(20:00:00Z=10, 20:45:00Z=1)".
func (s Step) String() string { return "step(" + points(s) + ")" }

// Points goes linearly from point to point; before the first point it is
// the first value, after the last the last. Points are in time order.
type Points []Point

// Factor returns the value interpolated at t.
func (p Points) Factor(t time.Time) float64 {
	if len(p) == 0 {
		return 1
	}
	if !t.After(p[0].At) {
		return p[0].Value
	}
	for i := 1; i < len(p); i++ {
		if t.Before(p[i].At) {
			a, b := p[i-1], p[i]
			return a.Value + (b.Value-a.Value)*float64(t.Sub(a.At))/float64(b.At.Sub(a.At))
		}
	}
	return p[len(p)-1].Value
}

// String returns "points(20:00:00Z=1, 20:10:00Z=4)".
func (p Points) String() string { return "points(" + points(p) + ")" }

// Spike is 1 outside [At − Rise, At + Fall], rises linearly to Peak at At
// and falls linearly back to 1 at At + Fall.
type Spike struct {
	At         time.Time
	Peak       float64
	Rise, Fall time.Duration // capture time
}

// Factor returns the spike's value at t.
func (s Spike) Factor(t time.Time) float64 {
	d := t.Sub(s.At)
	switch {
	case d < -s.Rise || d > s.Fall:
		return 1
	case d < 0:
		return 1 + (s.Peak-1)*float64(d+s.Rise)/float64(s.Rise)
	case d == 0 || s.Fall == 0:
		return s.Peak
	}
	return s.Peak + (1-s.Peak)*float64(d)/float64(s.Fall)
}

// String returns "spike(3 at 20:45:00Z, rise 30s, fall 2m0s)".
func (s Spike) String() string {
	return fmt.Sprintf("spike(%s at %s, rise %v, fall %v)", num(s.Peak), clock(s.At), s.Rise, s.Fall)
}

// validateCurve returns what is wrong with c: a negative or non-finite value
// or duration, points out of time order.
func validateCurve(c Curve) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	switch c := c.(type) {
	case Ramp:
		if bad(c.From) || bad(c.To) {
			return fmt.Errorf("%v: values must be numbers ≥ 0", c)
		}
		if c.Over < 0 {
			return fmt.Errorf("%v: over is negative", c)
		}
	case Spike:
		if bad(c.Peak) {
			return fmt.Errorf("%v: peak must be a number ≥ 0", c)
		}
		if c.Rise < 0 || c.Fall < 0 {
			return fmt.Errorf("%v: rise and fall must be ≥ 0", c)
		}
	case Step:
		return checkPoints(c, "step")
	case Points:
		if len(c) == 0 {
			return fmt.Errorf("points: no points")
		}
		return checkPoints(c, "points")
	}
	return nil
}

func checkPoints(ps []Point, kind string) error {
	for i, p := range ps {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) || p.Value < 0 {
			return fmt.Errorf("%s: point %d (%s): value %v must be a number ≥ 0", kind, i+1, clock(p.At), p.Value)
		}
		if i > 0 && !p.At.After(ps[i-1].At) {
			return fmt.Errorf("%s: point %d (%s) is not after point %d (%s)", kind, i+1, clock(p.At), i, clock(ps[i-1].At))
		}
	}
	return nil
}

func points(ps []Point) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = clock(p.At) + "=" + num(p.Value)
	}
	return strings.Join(s, ", ")
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// clock prints a capture time as its UTC clock time when it has no
// fraction of a second ("20:00:00Z"), else in full.
func clock(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format("15:04:05Z")
	}
	return t.Format("15:04:05.999999999Z")
}
