package shaper

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/surge-replay/surge/schema"

	"github.com/surge-replay/surge/internal/keyhash"
)

// Source yields recorded exchanges in time order; it returns nil, io.EOF at
// the end. The returned exchange stays valid (read-only) until the shaper is
// done with it: the Source must return a fresh value each call.
type Source func() (*schema.Exchange, error)

// Opener opens the capture from its start; a Shaper calls it once per loop.
type Opener func() (Source, error)

// ErrUnordered is wrapped by the error Shaper.Next returns when the Source
// yields an event earlier than the one before it.
var ErrUnordered = errors.New("events out of time order")

// Request is one request of the schedule: a recorded exchange, when to send
// it and as which virtual session and user.
type Request struct {
	// At is the intended send time as an offset from the replay start.
	At time.Duration
	// Think is the recorded think time before this request: the gap since
	// the previous request of this session less that request's recorded
	// latency (when the capture has it; never below 0), scaled by the speed;
	// 0 for the first. Closed-loop replay waits it after the previous
	// response.
	Think time.Duration
	// Session is the recorded session key (schema.Exchange.Session).
	Session string
	// Clone is 0 for the recorded session itself, 1..n-1 for its clones,
	// -1 for a follow-up session an exit started (ExitSpec.To).
	Clone int32
	// Loop is the pass over the window, from 0.
	Loop int32
	// VirtualSession is distinct per (session, clone, loop): Session for
	// clone 0 of loop 0, else "s_" and 16 hex digits of a keyed hash.
	VirtualSession string
	// User is the virtual user: the recorded user for clone 0 of loop 0, else
	// "u_" and 16 hex digits of a keyed hash of (recorded user, clone, loop,
	// seed), so clones are distinct users and a recorded user's sessions stay
	// one virtual user per clone. Empty (anonymous) stays empty.
	User string
	// First is true for the first request of the virtual session.
	First bool
	// Class is the session's class when the Ratio is a Classifier (per-class
	// ratios: Classes), else "".
	Class string
	// Host is the Host to send when a rewrite changed the exchange's host
	// (RewriteSpec.Host); "" means the target's.
	Host string
	// Region is the virtual session's region when a region mix
	// (Settings.Regions) gave it one; "" means the recorded one
	// (Exchange.Region).
	Region string
	// Exchange is the recorded request, shared by the clones: read-only.
	Exchange *schema.Exchange
}

// Stats counts what a Shaper did so far.
type Stats struct {
	Sessions        int64 // recorded sessions started (once per pass, again after IdleGap)
	Dropped         int64 // recorded sessions the ratio made no virtual session of
	VirtualSessions int64 // virtual sessions made
	Events          int64 // events read from the sources, in or out of the window
	Skipped         int64 // events read outside the window
	Requests        int64 // requests returned by Next
	MaxHeld         int64 // most requests held at once to put jittered clones in order
	MaxLive         int64 // most recorded sessions remembered at once
	Exited          int64 // virtual sessions ended by exits
	FollowUps       int64 // follow-up sessions started by exits (also in VirtualSessions)
	Controls        int64 // control events applied
}

// Shaper turns a capture into a replay schedule: Next returns its Requests in
// non-decreasing At; among equal At, in input order, then clone order.
//
// The offset of an event at capture time t in loop L is
//
//	(L × window length + (t − window start)) / speed + jitter(session, clone, loop)
//
// computed from absolute times, never by adding up gaps, so rounding never
// accumulates. Offsets are rounded to the nanosecond.
//
// Requests wait in a heap only while a jittered clone is due later than the
// input's current offset, so memory is bounded by the live sessions, the
// ratio and Spread, not by the capture. Usage:
//
//	s, err := shaper.New(shaper.Config{Ratio: shaper.Constant(3), Speed: 10}, open)
//	if err != nil {
//		return err
//	}
//	fmt.Print(s.Plan())
//	for {
//		r, err := s.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil {
//			return err
//		}
//		schedule(r.At, r.VirtualSession, r.User, r.Exchange) // copy what outlives the call
//	}
//
// A Shaper is not safe for concurrent use.
type Shaper struct {
	cfg        Config
	speed      float64
	loops      int32
	spread     time.Duration
	ratio      Ratio
	classifier Classifier // ratio, when it names classes
	classes    *Classes   // ratio, when it is one
	open       Opener
	src        Source
	loop       int32
	from       time.Time     // events before are skipped; zero = not yet known
	end        time.Time     // events at or after are skipped; zero = open
	start      time.Time     // window start (offset 0); set with started
	started    bool          // start is known
	length     time.Duration // window length; known at the end of the first pass
	last       time.Time     // last in-window event of this pass
	seen       bool          // the pass has had an in-window event
	seq        uint64        // input order of in-window events
	mark       time.Duration // un-jittered offset of the latest input event
	live       *live
	pending    queue
	out        Request
	stats      Stats
	done       bool // every pass is read
	err        error

	// Control state (apply.go): the settings as of the latest control,
	// the default class's ratio they build on, the scheduled exits.
	settings Settings
	base     float64
	compiled bool // settings compiled against the window start
	ctlNext  int  // next control of cfg.Controls to apply
	exits    []scheduledExit
	exitNext int
	stopAt   time.Duration // with stopping: nothing at or after it
	stopping bool
	rewrites []rewriteGen // in offset order; the first is in effect
	regions  *regionMix   // Settings.Regions compiled; nil: none
	dynamic  Ratio        // Config.Ratio when it is not a Constant (nor Classes)

	// Classes matched (Unmatched): the rule labels of every shaping in
	// effect so far, in order, and the recorded sessions each started.
	ruleLabels    []string
	classSessions map[string]int64
}

// New returns a Shaper of the capture that open opens, or the errors of
// cfg.Validate (joined), or open's error.
func New(cfg Config, open Opener) (*Shaper, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if open == nil {
		return nil, errors.New("shaper: nil Opener")
	}
	s := &Shaper{
		cfg:    cfg,
		speed:  cfg.speed(),
		loops:  int32(cfg.loops()),
		spread: cfg.spread(),
		ratio:  cfg.ratio(),
		open:   open,
		from:   cfg.From,
		end:    cfg.To,
		live:   newLive(cfg.idleGap()),
	}
	s.classifier, _ = s.ratio.(Classifier)
	s.classes, _ = s.ratio.(*Classes)
	s.classSessions = map[string]int64{}
	if s.classes != nil {
		for i := range s.classes.Rules {
			if l := s.classes.Rules[i].label(); !slices.Contains(s.ruleLabels, l) {
				s.ruleLabels = append(s.ruleLabels, l)
			}
		}
	}
	s.settings, s.base = cfg.Shape, 1
	if c, ok := s.ratio.(Constant); ok {
		s.base = float64(c)
	} else if s.classes == nil {
		s.dynamic = s.ratio
	}
	if !cfg.From.IsZero() {
		s.start, s.started = cfg.From, true
		// Known window start: the plan can show the compiled shaping.
		s.compiled = true
		if err := s.compile(time.Time{}, 0); err != nil {
			return nil, err
		}
	}
	if err := s.openPass(); err != nil {
		return nil, err
	}
	return s, nil
}

// Next returns the next request of the schedule, or io.EOF at the end. The
// *Request is valid until the next call. After an error (from the Source or
// a *RatioError) every call returns it.
func (s *Shaper) Next() (*Request, error) {
	for {
		if s.pending.len() > 0 && (s.done || s.pending.min() <= s.mark) {
			// Every event still to come has an offset ≥ mark and a later
			// input order, so nothing can come before this request.
			s.out = s.pending.pop()
			if s.out.Exchange == nil {
				continue // an exit ended its session
			}
			if s.stopping && s.out.At >= s.stopAt {
				s.pending = queue{}
				s.done, s.src = true, nil
				return nil, io.EOF
			}
			s.rewrite(&s.out)
			if s.regions != nil {
				s.out.Region = s.regions.region(&s.out, s.cfg.Seed)
			}
			s.stats.Requests++
			return &s.out, nil
		}
		if s.err != nil {
			return nil, s.err
		}
		if s.done {
			return nil, io.EOF
		}
		s.err = s.step()
	}
}

// Stats returns the counts so far.
func (s *Shaper) Stats() Stats {
	st := s.stats
	st.MaxLive = int64(s.live.peak)
	return st
}

// Unmatched returns the classes (their labels, rules only: not the
// default) that no recorded session read so far has started in, in rule
// order, over every shaping in effect so far: a rule that matches nothing
// of the capture is most likely a mistake (a path written wrong). Read at
// the end of the schedule (or of a dry run), it covers the whole window.
func (s *Shaper) Unmatched() []string {
	var out []string
	for _, l := range s.ruleLabels {
		if s.classSessions[l] == 0 {
			out = append(out, l)
		}
	}
	return out
}

// Plan returns what the schedule is: the configuration with defaults filled
// in and the window as far as it is known.
func (s *Shaper) Plan() Plan {
	p := Plan{
		From:    s.from,
		To:      s.cfg.To,
		Speed:   s.speed,
		Loops:   int(s.loops),
		Ratio:   ratioName(s.ratio),
		Exits:   s.exitNames(),
		Storms:  s.settings.stormNames(),
		Seed:    s.cfg.Seed,
		Spread:  s.spread,
		IdleGap: s.live.gap,

		Resolution: s.cfg.Resolution,
	}
	if s.started {
		p.From = s.start
	}
	if p.To.IsZero() && s.loop > 0 {
		p.To = s.start.Add(s.length)
	}
	if !p.From.IsZero() && !p.To.IsZero() {
		p.Duration = scaled(float64(s.loops)*float64(p.To.Sub(p.From)), s.speed)
	}
	return p
}

// step reads one event of the current pass and queues its requests.
func (s *Shaper) step() error {
	e, err := s.src()
	if err == io.EOF {
		return s.endPass()
	}
	if err != nil {
		return fmt.Errorf("shaper: pass %d: %w", s.loop+1, err)
	}
	if e == nil {
		return fmt.Errorf("shaper: pass %d: the Source returned no exchange and no error", s.loop+1)
	}
	s.stats.Events++
	t := e.Time
	if !s.from.IsZero() && t.Before(s.from) {
		s.stats.Skipped++
		return nil
	}
	if !s.end.IsZero() && !t.Before(s.end) {
		// Time-ordered input: the rest of the pass is outside too.
		s.stats.Skipped++
		return s.endPass()
	}
	if s.seen && t.Before(s.last) {
		return fmt.Errorf("shaper: pass %d: session %q seq %d at %s is before the event at %s: %w",
			s.loop+1, e.Session, e.Seq, stamp(t), stamp(s.last), ErrUnordered)
	}
	if !s.started {
		s.start, s.started = t, true
	}
	s.last, s.seen = t, true
	at := scaled(float64(s.loop)*float64(s.length)+float64(t.Sub(s.start)), s.speed)
	if !s.compiled {
		s.compiled = true
		if err := s.compile(time.Time{}, 0); err != nil {
			return err
		}
	}
	if s.cfg.Gate != nil {
		if err := s.cfg.Gate(at); err == io.EOF {
			s.done, s.src = true, nil
			return nil
		} else if err != nil {
			return err
		}
	}
	if err := s.control(at, t); err != nil {
		return err
	}
	if s.stopping && at >= s.stopAt {
		s.done, s.src = true, nil
		return nil
	}
	s.mark = at
	return s.shape(e, at)
}

// shape queues the requests of event e, whose un-jittered offset is at.
func (s *Shaper) shape(e *schema.Exchange, at time.Duration) error {
	ss, fresh := s.live.get(e.Session, e.Time)
	var think time.Duration
	if fresh {
		if err := s.decide(ss, e, at); err != nil {
			return err
		}
	} else {
		// Think time: the gap from the previous request's response (its
		// start plus its recorded latency) to this request's start.
		think = scaled(float64(max(e.Time.Sub(ss.seen)-ss.took, 0)), s.speed)
	}
	ss.seen = e.Time
	ss.took, _ = e.Latency()
	for k := range ss.clones {
		c := &ss.clones[k]
		if c.ended {
			continue
		}
		if c.recorded != e.User {
			c.recorded, c.user = e.User, s.virtualUser(e.User, int32(k))
		}
		s.pending.push(Request{
			At:             at + c.jitter,
			Think:          think,
			Session:        e.Session,
			Clone:          int32(k),
			Loop:           s.loop,
			VirtualSession: c.virtual,
			User:           c.user,
			First:          fresh,
			Class:          ss.class,
			Exchange:       e,
		}, s.seq)
	}
	s.seq++
	s.stats.MaxHeld = max(s.stats.MaxHeld, int64(s.pending.len()))
	return nil
}

// decide asks the Ratio how many virtual sessions a session starting with e
// at offset at becomes, and makes them.
func (s *Shaper) decide(ss *session, e *schema.Exchange, at time.Duration) error {
	var r float64
	r, ss.class = s.decideRatio(e, at)
	if s.classes != nil {
		s.classSessions[ss.class]++
	}
	if err := checkRatio(r); err != nil {
		return &RatioError{Session: e.Session, At: at, Ratio: r, Err: err}
	}
	seed, key := s.cfg.Seed, e.Session
	n := clones(r, keyhash.Unit(keyed(domainClones, seed, s.loop, 0, key)))
	s.stats.Sessions++
	s.stats.VirtualSessions += int64(n)
	if n == 0 {
		s.stats.Dropped++
	}
	for k := range n {
		c := clone{virtual: key, recorded: e.User, user: e.User}
		if k > 0 || s.loop > 0 {
			c.virtual = keyhash.Ident('s', keyed(domainSession, seed, s.loop, k, key))
			c.user = s.virtualUser(e.User, k)
		}
		if k > 0 && s.spread > 0 {
			c.jitter = below(keyed(domainJitter, seed, s.loop, k, key), s.spread)
		}
		ss.clones = append(ss.clones, c)
	}
	return nil
}

// virtualUser returns clone k's user made from a recorded user.
func (s *Shaper) virtualUser(recorded string, k int32) string {
	if recorded == "" || (k == 0 && s.loop == 0) {
		return recorded
	}
	return keyhash.Ident('u', keyed(domainUser, s.cfg.Seed, s.loop, k, recorded))
}

// endPass ends the current pass and opens the next one, if any. The first
// pass fixes an open window: later passes replay exactly what it did.
func (s *Shaper) endPass() error {
	if s.loop == 0 {
		if !s.seen {
			// Nothing in the window: no later pass has anything either.
			s.done = true
			return nil
		}
		s.from = s.start
		if s.end.IsZero() {
			s.end = s.last.Add(1) // the last event is in the window
			s.length = s.last.Sub(s.start)
		} else {
			s.length = s.end.Sub(s.start)
		}
	}
	s.loop++
	s.seen = false
	s.live.reset()
	s.exitNext = 0
	if s.loop >= s.loops {
		s.done, s.src = true, nil
		return nil
	}
	// Every event of the new pass is at this offset or later: requests
	// held up to it can go.
	s.mark = scaled(float64(s.loop)*float64(s.length), s.speed)
	return s.openPass()
}

func (s *Shaper) openPass() error {
	src, err := s.open()
	if err != nil {
		return fmt.Errorf("shaper: open capture for pass %d: %w", s.loop+1, err)
	}
	if src == nil {
		return fmt.Errorf("shaper: open capture for pass %d: nil Source", s.loop+1)
	}
	s.src = spreadInstants(src, s.cfg.Resolution, s.end)
	return nil
}

// scaled returns d / speed, rounded to the nanosecond.
func scaled(d float64, speed float64) time.Duration {
	return time.Duration(math.Round(d / speed))
}
