package profile

import (
	"container/heap"
	"context"
	"errors"
	"io"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"

	"github.com/surge-replay/surge/internal/keyhash"
)

// SynthStream yields the events of a synthetic capture in time order:
// copies of recorded sessions, whole, shifted in time, with new session
// and user ids. It reads the capture once per pass over the target's
// arrival curve, a pass at a time plus the passes whose sessions overlap
// it, so memory is bounded by the copies of a pass and the events within a
// step of each other, not by the capture or the duration.
//
// A SynthStream is not safe for concurrent use.
type SynthStream struct {
	ctx     context.Context
	pl      *planner
	open    []*tileStream
	next    int       // next pass to draw
	drawn   *tilePlan // pass next, drawn but not opened
	lower   time.Time // no event of pass next is before this
	observe func(*schema.Exchange, *copySpec)
	closed  []*tilePlan // passes read to their end, for the report
	err     error
}

// tileStream is one pass being read: the capture, with each event copied
// for each copy of its session.
type tileStream struct {
	plan   *tilePlan
	pool   *pool
	rd     *eventlog.Reader[schema.Exchange, *schema.Exchange] // nil when reading the pool's cache
	pos    int                                                 // next cached event
	filler bool                                                // this pass fills the pool's cache
	n      int64                                               // events read
	held   outHeap
	cur    time.Time // latest capture time read
	eof    bool
	seq    uint64
}

// out is a copied event waiting for its turn.
type out struct {
	e   *schema.Exchange
	c   *copySpec
	seq uint64
}

type outHeap []out

func (h outHeap) Len() int { return len(h) }
func (h outHeap) Less(i, j int) bool {
	if !h[i].e.Time.Equal(h[j].e.Time) {
		return h[i].e.Time.Before(h[j].e.Time)
	}
	return h[i].seq < h[j].seq
}
func (h outHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *outHeap) Push(x any)   { *h = append(*h, x.(out)) }
func (h *outHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = out{}
	*h = old[:len(old)-1]
	return x
}

// Next returns the next event, or nil, io.EOF at the end. The event is the
// caller's.
func (s *SynthStream) Next() (*schema.Exchange, error) {
	if s.err != nil {
		return nil, s.err
	}
	for {
		if err := s.ctx.Err(); err != nil {
			s.err = err
			return nil, err
		}
		// The earliest held event of the open passes.
		var best *tileStream
		for i := 0; i < len(s.open); i++ {
			ts := s.open[i]
			if err := ts.fill(); err != nil {
				s.err = err
				return nil, err
			}
			if len(ts.held) == 0 { // read to its end
				s.closed = append(s.closed, ts.plan)
				s.open = append(s.open[:i], s.open[i+1:]...)
				i--
				continue
			}
			if best == nil || ts.held[0].e.Time.Before(best.held[0].e.Time) {
				best = ts
			}
		}
		// A pass not yet open may hold something earlier.
		if s.drawn != nil && (best == nil || !best.held[0].e.Time.Before(s.lower)) {
			if err := s.openNext(); err != nil {
				s.err = err
				return nil, err
			}
			continue
		}
		if best == nil {
			s.err = io.EOF
			return nil, io.EOF
		}
		o := heap.Pop(&best.held).(out)
		if s.observe != nil {
			s.observe(o.e, o.c)
		}
		return o.e, nil
	}
}

// draw draws the next pass with copies, if any.
func (s *SynthStream) draw() {
	for s.drawn == nil && s.next < s.pl.tiles() {
		tp := s.pl.tile(s.next)
		s.next++
		if tp.n > 0 {
			s.drawn = tp
			s.lower = s.pl.pool.first.Add(tp.minShift)
		}
	}
}

// openNext starts reading the drawn pass.
func (s *SynthStream) openNext() error {
	p := s.pl.pool
	ts := &tileStream{plan: s.drawn, pool: p}
	if !p.cached {
		rd, err := eventlog.Open[schema.Exchange](p.paths, eventlog.Range{})
		if err != nil {
			return err
		}
		ts.rd = rd
		if p.cacheable && !p.filling {
			ts.filler, p.filling = true, true
		}
	}
	s.open = append(s.open, ts)
	s.drawn = nil
	s.draw()
	return nil
}

// Close closes the capture readers. It is safe to call more than once.
func (s *SynthStream) Close() error {
	for _, ts := range s.open {
		if !ts.eof && ts.rd != nil {
			ts.rd.Close()
		}
	}
	s.open = nil
	if s.err == nil {
		s.err = errors.New("profile: synth stream closed")
	}
	return nil
}

// fill reads the capture until the earliest held copy can go: no event
// still to read can be copied before it (every copy is shifted by at least
// the pass's least shift).
func (ts *tileStream) fill() error {
	for !ts.eof && (len(ts.held) == 0 || ts.held[0].e.Time.After(ts.cur.Add(ts.plan.minShift))) {
		e, err := ts.read()
		if errors.Is(err, io.EOF) {
			ts.eof = true
			if ts.rd != nil {
				ts.rd.Close()
			}
			if ts.filler {
				ts.pool.cached = true
			}
			break
		}
		if err != nil {
			return err
		}
		ts.cur = e.Time
		key := sessionKey(e.Session, ts.n)
		ts.n++
		for _, c := range ts.plan.copies[key] {
			ev := *e
			ev.Time = e.Time.Add(c.shift)
			ev.Session = c.session
			if e.User != "" {
				if e.User != c.recUser {
					c.recUser, c.user = e.User, keyhash.Ident('u', synthHash(domainUser, c.userKey, 0, 0, e.User))
				}
				ev.User = c.user
			}
			heap.Push(&ts.held, out{e: &ev, c: c, seq: ts.seq})
			ts.seq++
		}
	}
	return nil
}

// read returns the capture's next event, from the cache or the files.
func (ts *tileStream) read() (*schema.Exchange, error) {
	if ts.rd != nil {
		e, err := ts.rd.Next()
		if err == nil && ts.filler {
			ts.pool.cache = append(ts.pool.cache, *e)
		}
		return e, err
	}
	if ts.pos == len(ts.pool.cache) {
		return nil, io.EOF
	}
	ts.pos++
	return &ts.pool.cache[ts.pos-1], nil
}

// Span returns the time of the first and the last event the stream yields
// in all (its passes drawn afresh from the recorded sessions' summaries:
// no event is read), or zero times when it yields none.
func (s *SynthStream) Span() (first, last time.Time) {
	pl0 := s.pl
	pl := newPlanner(pl0.pool, pl0.target, pl0.seed, pl0.scale, pl0.start, pl0.duration)
	index := make(map[string]*poolSession, len(pl.pool.sessions))
	for i := range pl.pool.sessions {
		index[pl.pool.sessions[i].id] = &pl.pool.sessions[i]
	}
	for k := range pl.tiles() {
		for id, cs := range pl.tile(k).copies {
			ps := index[id]
			for _, c := range cs {
				if f := ps.start.Add(c.shift); first.IsZero() || f.Before(first) {
					first = f
				}
				if l := ps.end.Add(c.shift); l.After(last) {
					last = l
				}
			}
		}
	}
	return first, last
}
