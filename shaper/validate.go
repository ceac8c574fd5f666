package shaper

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Validate returns every problem with s as a whole run's shaping (a config's
// shape block, or a run's shaping with a change merged in), each naming its
// key ("exits[0].to: …"): the classes, curves, content list and rewrites,
// and every exit against the classes and the session sets s has. Capture
// times are resolved against a stand-in window start: what depends on the
// real one is checked when the shaper compiles.
func (s *Settings) Validate() []error {
	var errs []error
	classes, err := s.Classes(time.Unix(0, 0).UTC(), 1)
	if err != nil {
		errs = append(errs, unjoin(err)...)
	}
	if _, err := NewRewriter(s.Content, s.Rewrites, 0); err != nil {
		errs = append(errs, unjoin(err)...)
	}
	if _, err := compileRegions(s.Regions); err != nil {
		errs = append(errs, unjoin(err)...)
	}
	for _, name := range sortedSets(s.Sessions) {
		sp := s.Sessions[name]
		where := "sessions." + name
		if len(sp.Match) == 0 {
			errs = append(errs, &KeyError{Path: where, Msg: "no match: a set needs one condition at least (\"path=/api/v1/home\")"})
		} else if _, err := ParseMatch(sp.Match); err != nil {
			errs = append(errs, &KeyError{Path: where + ".match", Msg: err.Error()})
		}
		if sp.Max < 0 || sp.MaxRequests < 0 || sp.MaxLength < 0 {
			errs = append(errs, &KeyError{Path: where, Msg: "max, max_requests and max_length must not be negative"})
		}
	}
	for i := range s.Exits {
		errs = append(errs, s.CheckExit(&s.Exits[i], fmt.Sprintf("exits[%d]", i), classes, true)...)
	}
	return errs
}

// CheckExit returns the problems of exit e (at path, "exits[0]" or "exit")
// in a run shaped by s: its fraction and within, its time when timed, its
// class among the classes of s (compiled as classes, nil when s has none)
// and the session sets, and its set among the session sets of s.
func (s *Settings) CheckExit(e *ExitSpec, path string, classes *Classes, timed bool) []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Path: join(path, key), Msg: fmt.Sprintf(format, args...)})
	}
	if math.IsNaN(e.Fraction) || e.Fraction < 0 || e.Fraction > 1 {
		bad("fraction", "%v is not between 0 and 1 (0.2 ends a fifth of the sessions)", e.Fraction)
	}
	if e.Within < 0 {
		bad("within", "%v is negative", time.Duration(e.Within))
	}
	if timed {
		if _, err := When(e.At, time.Unix(0, 0).UTC()); err != nil {
			bad("at", "%v", err)
		}
	}
	sets := sortedSets(s.Sessions)
	if _, ok := s.Sessions[e.To]; e.To != "" && !ok {
		if len(sets) == 0 {
			bad("to", "no session set %q: the run has no sessions: block (a set is collected before the run, under shape.sessions)", e.To)
		} else {
			bad("to", "no session set %q%s (sets: %s)", e.To, didYouMean(e.To, sets), strings.Join(sets, ", "))
		}
	}
	if e.Class != "" {
		var names []string
		if classes != nil && s.Shaped() {
			names = classes.Names()
		}
		names = append(names, sets...) // follow-up sessions are of their set's class
		found := false
		for _, n := range names {
			found = found || n == e.Class
		}
		if !found {
			if len(names) == 0 {
				bad("class", "no class %q: the run has no classes (shape.ratios) or session sets", e.Class)
			} else {
				bad("class", "no class %q%s (classes: %s)", e.Class, didYouMean(e.Class, names), strings.Join(names, ", "))
			}
		}
	}
	return errs
}

// CheckChange returns the problems of ctl as a change of a run shaped by
// run (its settings so far, with the session sets collected): the control
// itself (Control.Validate), and the settings it makes or its exit against
// the run's classes and sets. A control that passes can be appended.
func (run *Settings) CheckChange(ctl *Control) error {
	if err := ctl.Validate(); err != nil {
		return err
	}
	switch ctl.Op {
	case OpSet:
		next := run.Merge(ctl.Set)
		if ctl.Replace {
			next = *ctl.Set
			next.Sessions, next.Regions = run.Sessions, run.Regions
		}
		if errs := next.Validate(); len(errs) > 0 {
			return errors.Join(errs...)
		}
	case OpExit:
		classes, _ := run.Classes(time.Unix(0, 0).UTC(), 1)
		if errs := run.CheckExit(ctl.Exit, "exit", classes, false); len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	return nil
}

// didYouMean returns ` (did you mean "x"?)` for the candidate nearest to s
// (Nearest), or "".
func didYouMean(s string, candidates []string) string {
	if n := Nearest(s, candidates); n != "" {
		return fmt.Sprintf(" (did you mean %q?)", n)
	}
	return ""
}

func sortedSets(m map[string]SetSpec) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unjoin returns the errors an errors.Join holds, or err.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
