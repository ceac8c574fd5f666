package shaper

import (
	"fmt"
	"slices"
	"time"

	"github.com/surge-replay/surge/schema"
)

// The control state of a Shaper: its Settings as of the latest control
// applied, compiled against the window start, and its scheduled exits.

// scheduledExit is an exit of Settings.Exits at its capture time.
type scheduledExit struct {
	at   time.Time
	spec ExitSpec
}

// rewriteGen is the Rewriter in effect for requests due from offset from.
type rewriteGen struct {
	from time.Duration
	rw   *Rewriter // nil: none
}

// compile makes the ratio, the scheduled exits and the rewriter of
// s.settings, once the window start is known. from is the capture time
// reached: exits at or before it are not fired (a change never reaches
// back); at is the schedule offset the rewriter applies from.
func (s *Shaper) compile(from time.Time, at time.Duration) error {
	rw, err := NewRewriter(s.settings.Content, s.settings.Rewrites, s.cfg.Seed)
	if err != nil {
		return fmt.Errorf("shaper: %w", err)
	}
	if rw.Empty() {
		rw = nil
	}
	if s.regions, err = compileRegions(s.settings.Regions); err != nil {
		return fmt.Errorf("shaper: %w", err)
	}
	if len(s.rewrites) > 0 || rw != nil {
		s.rewrites = append(s.rewrites, rewriteGen{from: at, rw: rw})
	}
	if s.settings.Shaped() {
		base := s.base
		if s.dynamic != nil && s.settings.Ratio == nil {
			base = 1 // decideRatio multiplies by the dynamic ratio
		}
		c, err := s.settings.Classes(s.start, base)
		if err != nil {
			return fmt.Errorf("shaper: %w", err)
		}
		s.ratio, s.classes, s.classifier = c, c, c
	} else if s.settings.Ratio != nil {
		s.ratio, s.classes, s.classifier = Constant(*s.settings.Ratio), nil, nil
	}
	s.exits = s.exits[:0]
	for _, e := range s.settings.Exits {
		at, err := When(e.At, s.start)
		if err != nil {
			return fmt.Errorf("shaper: exit: %w", err)
		}
		s.exits = append(s.exits, scheduledExit{at: at, spec: e})
	}
	slices.SortStableFunc(s.exits, func(a, b scheduledExit) int { return a.at.Compare(b.at) })
	s.exitNext = 0
	for s.exitNext < len(s.exits) && !s.exits[s.exitNext].at.After(from) && !from.IsZero() {
		s.exitNext++
	}
	return nil
}

// control applies, before the event at capture time t and schedule offset
// at is shaped, every control due at or before at and every scheduled exit
// at or before t.
func (s *Shaper) control(at time.Duration, t time.Time) error {
	if c := s.cfg.Controls; c != nil {
		c.advance(at)
		ctls, _ := c.Since(s.ctlNext)
		for _, ctl := range ctls {
			if ctl.At > at {
				break
			}
			s.ctlNext++
			if err := s.apply(ctl, t); err != nil {
				return err
			}
		}
	}
	for s.exitNext < len(s.exits) && !s.exits[s.exitNext].at.After(t) {
		e := &s.exits[s.exitNext]
		s.exitNext++
		s.exit(&e.spec, s.offset(e.at))
	}
	return nil
}

// apply applies one control.
func (s *Shaper) apply(ctl Control, t time.Time) error {
	s.stats.Controls++
	switch ctl.Op {
	case OpSet:
		if ctl.Replace {
			sessions, regions := s.settings.Sessions, s.settings.Regions
			s.settings = *ctl.Set
			s.settings.Sessions, s.settings.Regions = sessions, regions
			if s.settings.Ratio == nil {
				r := s.base
				s.settings.Ratio = &r
			}
		} else {
			s.settings = s.settings.Merge(ctl.Set)
		}
		return s.compile(t, ctl.At)
	case OpExit:
		s.exit(ctl.Exit, ctl.At)
	case OpStop:
		s.stopAt, s.stopping = ctl.At, true
	}
	return nil
}

// exitNames returns the scheduled exits as the plan prints them.
func (s *Shaper) exitNames() []string {
	var out []string
	for _, e := range s.settings.Exits {
		out = append(out, e.String())
	}
	return out
}

// offset is the schedule offset of capture time t in the current pass.
func (s *Shaper) offset(t time.Time) time.Duration {
	return scaled(float64(s.loop)*float64(s.length)+float64(t.Sub(s.start)), s.speed)
}

// decideRatio returns the ratio of a session starting with e at offset at,
// and its class label.
func (s *Shaper) decideRatio(e *schema.Exchange, at time.Duration) (float64, string) {
	switch {
	case s.classes != nil: // one match for both
		cl, label := s.classes.classOf(e)
		if cl == &s.classes.Default && s.settings.Ratio == nil && s.dynamic != nil {
			// The default class's ratio is the configured Ratio (a live
			// one, as a fleet agent's), times the default curves.
			return s.dynamic.Ratio(e, at) * cl.at(e.Time), label
		}
		return cl.at(e.Time), label
	case s.classifier != nil:
		_, label := s.classifier.Classify(e)
		return s.ratio.Ratio(e, at), label
	}
	return s.ratio.Ratio(e, at), ""
}

// rewrite returns r's exchange as the Rewriter in effect at r.At makes it:
// a new Exchange when there is a Rewriter, the shared recorded one when
// not. Generations no request can need any more are dropped.
func (s *Shaper) rewrite(r *Request) {
	g := s.rewrites
	for len(g) > 1 && g[1].from <= r.At {
		g = g[1:] // requests come in At order: an older one never returns
	}
	s.rewrites = g
	if len(g) == 0 || g[0].rw == nil || r.At < g[0].from {
		return
	}
	out := *r.Exchange
	g[0].rw.Rewrite(&ProxyRequest{In: r.Exchange, Out: &out, Virtual: r.VirtualSession, Class: r.Class})
	if out.Host != r.Exchange.Host {
		r.Host = out.Host
	}
	r.Exchange = &out
}
