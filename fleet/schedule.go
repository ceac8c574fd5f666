package fleet

import (
	"context"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// DefaultLookahead is how far ahead of its clock an agent reads the capture
// and shapes it; DefaultLead how far after it is issued a control event takes
// effect. Lead must exceed Lookahead plus the control topic's delivery time,
// so every agent learns of a change before it shapes a request it affects.
const (
	DefaultLookahead = 100 * time.Millisecond
	DefaultLead      = 300 * time.Millisecond
)

// liveState holds a run's State as control events arrive and wakes whoever
// waits for a change. Safe for concurrent use.
type liveState struct {
	mu      sync.Mutex
	st      State
	changed chan struct{}
	// sets are the run's session sets (collectSets), set once before the
	// agent joins the run's group; read-only after.
	sets map[string]shaper.SessionSet
}

func newLiveState(st State) *liveState {
	return &liveState{st: st, changed: make(chan struct{})}
}

// get returns the state and a channel closed at its next change.
func (l *liveState) get() (State, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st, l.changed
}

// apply applies e and wakes the waiters.
func (l *liveState) apply(e Event) (State, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.st.Apply(e)
	if err != nil {
		return l.st, err
	}
	l.st = n
	close(l.changed)
	l.changed = make(chan struct{})
	return n, nil
}

// gated is one generation's schedule: the agent's partitions merged in time
// order, shaped by the run's shaper with the live ratio, each request's
// offset moved by the run's pauses, and none handed on more than lookahead
// before its wall time (so a control event that takes effect later is seen
// first). It ends at the stop, at the window's end, or when ctx ends.
type gated struct {
	ctx       context.Context
	live      *liveState
	spec      *RunSpec
	lookahead time.Duration
	src       *merged
	sh        *shaper.Shaper
	track     *tracker
	events    func() // counts an event read
	out       shaper.Request

	// Takeovers (takeover.go): where each exchange came from, the marks
	// the generation resumed from, the late policy and the counts.
	origins *origins
	marks   map[int]time.Time
	grace   time.Duration
	late    string
	counts  *takeoverCounts
	handed  atomic.Int64 // wall time (Unix ns) of the latest request handed on

	controls *shaper.Controls // the run's OpShape events, as the shaper reads them
	synced   int              // how many of the state's Shape are in controls
}

// syncShape is the shaper's Gate: it appends the control events the run's
// state has that the shaper's log has not. The source has already waited
// until the event's time is near (next), so a control that takes effect
// before it is known.
func (g *gated) syncShape(time.Duration) error {
	st, _ := g.live.get()
	for ; g.synced < len(st.Shape); g.synced++ {
		if _, err := g.controls.Append(st.Shape[g.synced]); err != nil {
			return err
		}
	}
	return nil
}

// newGated builds the generation's shaper over src.
// marks are the committed marks of the generation's partitions; counts
// receives the takeover counts.
func newGated(ctx context.Context, live *liveState, spec *RunSpec, lookahead time.Duration, src *merged, track *tracker,
	marks map[int]time.Time, counts *takeoverCounts, events func()) (*gated, error) {
	g := &gated{ctx: ctx, live: live, spec: spec, lookahead: lookahead, src: src, track: track, events: events,
		origins: newOrigins(spec.spread()), marks: marks, grace: spec.grace(), late: spec.late(), counts: counts}
	cfg := spec.shaperConfig()
	cfg.Ratio = shaper.RatioFunc(g.ratio)
	cfg.Sets = live.sets
	// The run's shaper control events (OpShape) reach the shaper through
	// its Controls, synced from the state before each event is shaped.
	g.controls, _ = shaper.NewControls()
	cfg.Controls, cfg.Gate = g.controls, g.syncShape
	open := func() (shaper.Source, error) { return g.next, nil }
	var err error
	if g.sh, err = shaper.New(cfg, open); err != nil {
		return nil, err
	}
	return g, nil
}

// ratio is the live ratio at the wall time of a session's first event. The
// source has waited until that time is known.
func (g *gated) ratio(_ *schema.Exchange, at time.Duration) float64 {
	st, _ := g.live.get()
	w, _ := st.Wall(at)
	return st.RatioAt(w)
}

// offset is the shaper's un-jittered offset of capture time t.
func (g *gated) offset(t time.Time) time.Duration {
	return time.Duration(math.Round(float64(t.Sub(g.spec.WindowFrom)) / g.spec.speed()))
}

// next is the shaper's Source: the next event of the partitions, once its
// time is near.
func (g *gated) next() (*schema.Exchange, error) {
	e, err := g.src.next(g.ctx)
	if err != nil {
		if g.ctx.Err() != nil {
			return nil, io.EOF
		}
		return nil, err
	}
	at := g.offset(e.ex.Time)
	if _, ok := g.wait(at); !ok {
		return nil, io.EOF
	}
	g.track.add(e.partition, e.offset, at)
	g.origins.add(e.ex, e.partition, at)
	g.events()
	return e.ex, nil
}

// Paced tells the replay engine that Next blocks until a request is near
// (replay.Paced): it must not hold requests back in batches.
func (g *gated) Paced() bool { return true }

// Next is the replay engine's Schedule. A request past its time by more
// than the grace is skipped here under LateSkip (and counted), handed on
// under LateSend (and counted); one an earlier owner of its partition had
// already sent is counted as a duplicate.
func (g *gated) Next() (*shaper.Request, error) {
	for {
		r, err := g.sh.Next()
		if err != nil {
			return nil, err
		}
		w, ok := g.wait(r.At)
		if !ok {
			return nil, io.EOF
		}
		// A follow-up session (an exit's) is of no partition of this
		// generation: no earlier owner sent it.
		var mark time.Time
		if p, ok := g.origins.of(r.Exchange, r.At); ok {
			mark = g.marks[p]
		}
		dup, h := classify(w, time.Now(), mark, g.grace, g.late)
		g.counts.count(dup, h)
		if h == skipped {
			continue
		}
		if n := w.UnixNano(); n > g.handed.Load() {
			g.handed.Store(n)
		}
		g.out = *r
		g.out.At = w.Sub(g.spec.StartAt)
		return &g.out, nil
	}
}

// sentThrough is the wall time through which this generation has handed
// on every request of its partitions: the latest handed on, or now when
// that is earlier; zero before the first.
func (g *gated) sentThrough(now time.Time) time.Time {
	n := g.handed.Load()
	if n == 0 {
		return time.Time{}
	}
	if h := time.Unix(0, n); h.Before(now) {
		return h
	}
	return now
}

// wait blocks until offset d's wall time is known (not in an open pause)
// and at most lookahead away, and returns it; false when the run stops
// before d or ctx ends.
func (g *gated) wait(d time.Duration) (time.Time, bool) {
	for {
		st, changed := g.live.get()
		w, known := st.Wall(d)
		if known && st.Stopped(w) {
			return w, false
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if known {
			wait := time.Until(w) - g.lookahead
			if wait <= 0 {
				return w, true
			}
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-fire:
		case <-changed:
		case <-g.ctx.Done():
			return w, false
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// tracker keeps, per partition, the events read whose requests may not all
// have been sent yet, and says which offsets can be committed: an event's
// clones are due at most spread after it, so once the results reach past
// that time (in wall time, pauses included) every request of the event has
// been sent or dropped. Safe for concurrent use.
type tracker struct {
	mu     sync.Mutex
	spread time.Duration
	fifo   map[int][]pos
	done   map[int]int64 // next offset to commit, per partition
	upTo   time.Time     // latest intended time among collected results
}

type pos struct {
	offset int64
	at     time.Duration
}

func newTracker(spread time.Duration) *tracker {
	return &tracker{spread: spread, fifo: map[int][]pos{}, done: map[int]int64{}}
}

func (t *tracker) add(partition int, offset int64, at time.Duration) {
	t.mu.Lock()
	t.fifo[partition] = append(t.fifo[partition], pos{offset, at})
	t.mu.Unlock()
}

// result notes a collected result.
func (t *tracker) result(r *schema.Result) {
	t.mu.Lock()
	if r.Intended.After(t.upTo) {
		t.upTo = r.Intended
	}
	t.mu.Unlock()
}

// commits returns the offsets to commit now (partition → next offset),
// given the run's state; only partitions that moved are in it.
func (t *tracker) commits(st State) map[int]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[int]int64{}
	for p, q := range t.fifo {
		i := 0
		for ; i < len(q); i++ {
			w, ok := st.Wall(q[i].at + t.spread)
			if !ok || w.After(t.upTo) {
				break
			}
		}
		if i > 0 {
			t.done[p] = q[i-1].offset + 1
			out[p] = t.done[p]
			t.fifo[p] = q[i:]
		}
	}
	return out
}

// restart forgets the events and results of an earlier generation: a new
// one re-reads from the committed offsets, and results of the old one
// must not let it commit what it has not sent.
func (t *tracker) restart() {
	t.mu.Lock()
	t.fifo, t.upTo = map[int][]pos{}, time.Time{}
	t.mu.Unlock()
}

// positions returns the next offset to commit of every partition of spans:
// the last commit, or where the span starts.
func (t *tracker) positions(spans []span) map[int]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[int]int64{}
	for _, s := range spans {
		out[s.partition] = s.start
		if d, ok := t.done[s.partition]; ok && d > s.start {
			out[s.partition] = d
		}
	}
	return out
}

// finish marks every partition of spans read to its end.
func (t *tracker) finish(spans []span) map[int]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[int]int64{}
	for _, s := range spans {
		if s.end > t.done[s.partition] {
			t.done[s.partition] = s.end
			out[s.partition] = s.end
		}
		delete(t.fifo, s.partition)
	}
	return out
}
