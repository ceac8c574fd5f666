package fleet

import (
	"fmt"
	"slices"
	"time"

	"github.com/surge-replay/surge/shaper"
)

// State is a run as its control events make it: the fold of its Events in
// topic order (Fold). It is a value: Apply returns a new State and never
// changes the one it is called on, so a State can be handed to another
// goroutine.
//
// Times are wall times. Every event takes effect at its At, or at the
// previous event's effective time when At is earlier, so effective times
// never go back.
type State struct {
	Spec   *RunSpec    // nil until the start event
	Ratios []RatioStep // ratio changes after the start, in effect order
	Pauses []Pause     // pauses in order; the last one's To is zero while paused
	Stop   time.Time   // when the run stops; zero while it has not been asked to
	// Shape are the shaper control events (OpShape) in effect order, each
	// at the schedule offset of its At: an agent's shaper folds them in.
	Shape  []shaper.Control
	Last   time.Time // effective time of the latest event
	Events int       // events applied
}

// RatioStep is a ratio in effect from At on.
type RatioStep struct {
	At    time.Time
	Ratio float64
}

// Pause is a pause of the schedule from From to To (zero: not resumed yet).
// Requests due at or after From are delayed by To − From.
type Pause struct {
	From, To time.Time
}

// Apply returns s with e applied, or s unchanged and an error saying why e
// does not apply (a second start, a change before the start or after the
// stop, a resume while not paused, a bad ratio).
func (s State) Apply(e Event) (State, error) {
	if s.Spec == nil && e.Op != OpStart {
		return s, fmt.Errorf("run %s: %s before the run started", e.Run, e.Op)
	}
	if !s.Stop.IsZero() {
		return s, fmt.Errorf("run %s: %s after the run stopped", e.Run, e.Op)
	}
	at := e.At
	if at.Before(s.Last) {
		at = s.Last
	}
	n := s // the slices are copied before they change
	switch e.Op {
	case OpStart:
		if s.Spec != nil {
			return s, fmt.Errorf("run %s: started twice", e.Run)
		}
		if e.Spec == nil {
			return s, fmt.Errorf("run %s: start without a spec", e.Run)
		}
		if errs := e.Spec.Validate(); len(errs) > 0 {
			return s, fmt.Errorf("run %s: bad spec: %v", e.Run, errs[0])
		}
		spec := *e.Spec
		n.Spec = &spec
	case OpSet:
		if e.Ratio == nil {
			return s, fmt.Errorf("run %s: set with nothing to set", e.Run)
		}
		if err := shaper.Constant(*e.Ratio).Validate(); err != nil {
			return s, fmt.Errorf("run %s: set ratio: %v", e.Run, err)
		}
		n.Ratios = append(slices.Clip(s.Ratios), RatioStep{At: at, Ratio: *e.Ratio})
	case OpShape:
		if e.Shape == nil {
			return s, fmt.Errorf("run %s: shape with no control event", e.Run)
		}
		c := *e.Shape
		if c.Op != shaper.OpSet && c.Op != shaper.OpExit {
			return s, fmt.Errorf("run %s: shape op %q: want set or exit (pause, resume and stop are ops of their own)", e.Run, c.Op)
		}
		c.At, c.Issued, c.By = s.Offset(at), e.Issued, e.By
		// Checked against the run's shaping so far: an exit to a class
		// or session set the run does not have is refused.
		cur := s.Shaping()
		if err := cur.CheckChange(&c); err != nil {
			return s, fmt.Errorf("run %s: %v", e.Run, err)
		}
		if n := len(s.Shape); n > 0 && c.At < s.Shape[n-1].At {
			c.At = s.Shape[n-1].At
		}
		n.Shape = append(slices.Clip(s.Shape), c)
	case OpPause:
		if s.paused() {
			return s, fmt.Errorf("run %s: pause while paused", e.Run)
		}
		n.Pauses = append(slices.Clip(s.Pauses), Pause{From: at})
	case OpResume:
		if !s.paused() {
			return s, fmt.Errorf("run %s: resume while not paused", e.Run)
		}
		n.Pauses = slices.Clone(s.Pauses)
		n.Pauses[len(n.Pauses)-1].To = at
	case OpStop:
		n.Stop = at
	default:
		return s, fmt.Errorf("run %s: unknown op %q", e.Run, e.Op)
	}
	n.Last = at
	n.Events++
	return n, nil
}

// paused reports whether the last pause is still open.
func (s State) paused() bool {
	return len(s.Pauses) > 0 && s.Pauses[len(s.Pauses)-1].To.IsZero()
}

// Fold applies run's events of events in order to the empty State and
// returns it with the errors of the events that did not apply (events of
// other runs are ignored).
func Fold(run string, events []Event) (State, []error) {
	var s State
	var errs []error
	for _, e := range events {
		if e.Run != run {
			continue
		}
		var err error
		if s, err = s.Apply(e); err != nil {
			errs = append(errs, err)
		}
	}
	return s, errs
}

// Wall returns the wall time of schedule offset d (time since the start of
// the window, already divided by the speed): StartAt + d, delayed by every
// pause it falls at or after. ok is false when d falls in a pause not yet
// resumed: its time is not known.
func (s State) Wall(d time.Duration) (w time.Time, ok bool) {
	w = s.Spec.StartAt.Add(d)
	for _, p := range s.Pauses {
		if w.Before(p.From) {
			break
		}
		if p.To.IsZero() {
			return w, false
		}
		w = w.Add(p.To.Sub(p.From))
	}
	return w, true
}

// RatioAt returns the ratio in effect at wall time w: the spec's, or the
// latest set at or before w.
func (s State) RatioAt(w time.Time) float64 {
	r := s.Spec.Ratio
	for _, st := range s.Ratios {
		if st.At.After(w) {
			break
		}
		r = st.Ratio
	}
	return r
}

// Stopped reports whether wall time w is at or after the stop.
func (s State) Stopped(w time.Time) bool {
	return !s.Stop.IsZero() && !w.Before(s.Stop)
}

// End returns when the schedule's last request is due at the latest
// (StartAt + Duration, delayed by the pauses before it, or the stop if
// earlier); ok is false while paused with no stop.
func (s State) End() (time.Time, bool) {
	w, ok := s.Wall(s.Spec.Duration())
	if !s.Stop.IsZero() && (!ok || s.Stop.Before(w)) {
		return s.Stop, true
	}
	return w, ok
}

// Offset returns the schedule offset of wall time w: the time since StartAt
// less the pauses before w; a time inside a pause is the pause's start.
// Never below 0. It is Wall's inverse.
func (s State) Offset(w time.Time) time.Duration {
	var paused time.Duration
	for _, p := range s.Pauses {
		if w.Before(p.From) {
			break
		}
		if p.To.IsZero() || w.Before(p.To) {
			return max(p.From.Sub(s.Spec.StartAt)-paused, 0)
		}
		paused += p.To.Sub(p.From)
	}
	return max(w.Sub(s.Spec.StartAt)-paused, 0)
}

// Shaping returns the run's shaping as its spec and its shape events so
// far make it (the ratio aside: RatioAt).
func (s State) Shaping() shaper.Settings {
	var cur shaper.Settings
	if s.Spec != nil && s.Spec.Shape != nil {
		cur = *s.Spec.Shape
	}
	for _, c := range s.Shape {
		if c.Op != shaper.OpSet || c.Set == nil {
			continue
		}
		if c.Replace {
			sets := cur.Sessions
			cur = *c.Set
			cur.Sessions = sets
		} else {
			cur = cur.Merge(c.Set)
		}
	}
	return cur
}
