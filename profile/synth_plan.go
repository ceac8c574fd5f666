package profile

import (
	"math"
	"slices"
	"time"

	"github.com/surge-replay/surge/internal/keyhash"
)

// copySpec is one copy of a recorded session in the synthetic capture:
// how far it is shifted in time and its new ids. What the copy turned out
// to be (its first and last time, class) is filled in as it is written.
type copySpec struct {
	shift   time.Duration
	session string // the copy's session id
	userKey uint64 // keys the copy's user ids
	minute  int    // the synthetic step it arrives in
	// The last recorded user seen and its virtual id: a session's user
	// rarely changes (a login), so one is enough.
	recUser, user string
	first, last   time.Time
	started       bool
	class         string
}

// tilePlan is the copies of one pass over the target's arrival curve
// (tile k covers steps k·len(Arrivals) onward), by recorded session.
type tilePlan struct {
	k        int
	copies   map[string][]*copySpec
	minShift time.Duration
	n        int
}

// planner draws, step by step, which recorded sessions the synthetic
// capture copies: in each step as many new sessions as the target's
// arrival curve (times the scale) asks for, from the sessions that started
// in the capture step it maps to, by systematic sampling on their weights
// (each session copied ⌊n·w/W⌋ or ⌈n·w/W⌉ times). Fractional counts carry
// over to the next step, so totals are exact.
type planner struct {
	pool     *pool
	target   *SynthTarget
	seed     uint64
	scale    float64
	start    time.Time     // the synthetic capture's start: step 0
	duration time.Duration // how long new sessions arrive
	step     time.Duration // the target's step
	steps    int           // whole or partial steps in the duration
	last     float64       // the share of the last step inside the duration
	cand     [][]int32     // candidates per target step
	carry    float64
	nextMin  int
}

func newPlanner(p *pool, t *SynthTarget, seed uint64, scale float64, start time.Time, d time.Duration) *planner {
	step := t.step()
	pl := &planner{pool: p, target: t, seed: seed, scale: scale, start: start, duration: d, step: step}
	pl.steps = int((d + step - 1) / step)
	pl.last = 1
	if rem := d % step; rem != 0 {
		pl.last = float64(rem) / float64(step)
	}
	pl.cand = p.candidates(len(t.Arrivals))
	return pl
}

// tiles returns how many passes over the arrival curve the duration takes.
func (pl *planner) tiles() int {
	n := len(pl.target.Arrivals)
	return (pl.steps + n - 1) / n
}

// tile draws the copies of pass k; passes must be drawn in order (the
// carry of fractional counts runs through them).
func (pl *planner) tile(k int) *tilePlan {
	n := len(pl.target.Arrivals)
	tp := &tilePlan{k: k, copies: map[string][]*copySpec{}, minShift: math.MaxInt64}
	for p := range n {
		m := k*n + p
		if m >= pl.steps {
			break
		}
		frac := 1.0
		if m == pl.steps-1 {
			frac = pl.last
		}
		want := pl.scale*pl.target.Arrivals[p]*frac + pl.carry
		count := int(math.Floor(want + 0.5))
		pl.carry = want - float64(count)
		if count > 0 {
			pl.draw(tp, m, pl.cand[p], count)
		}
	}
	return tp
}

// draw picks count copies for step m from cand.
func (pl *planner) draw(tp *tilePlan, m int, cand []int32, count int) {
	if len(cand) == 0 {
		return
	}
	ss := pl.pool.sessions
	// A keyed order per step, so that which sessions get the extra copy
	// changes from step to step.
	order := slices.Clone(cand)
	keys := make(map[int32]uint64, len(order))
	for _, i := range order {
		keys[i] = synthHash(domainDraw, pl.seed, uint64(m), 0, ss[i].id)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if keys[a] < keys[b] {
			return -1
		}
		if keys[a] > keys[b] {
			return 1
		}
		return int(a - b)
	})
	var total float64
	for _, i := range order {
		total += ss[i].weight
	}
	stride := total / float64(count)
	pos := keyhash.Unit(synthHash(domainDraw, pl.seed, uint64(m), 1, "")) * stride
	var run float64
	picked := 0
	for _, i := range order {
		run += ss[i].weight
		for r := 0; picked < count && pos < run; r++ {
			pl.add(tp, m, i, r)
			pos += stride
			picked++
		}
	}
	for picked < count { // rounding left the last pick past the end
		i := order[len(order)-1]
		r := 0
		for _, c := range tp.copies[ss[i].id] {
			if c.minute == m {
				r++
			}
		}
		pl.add(tp, m, i, r)
		picked++
	}
}

// add makes copy r (of this step) of session i, arriving in step m.
func (pl *planner) add(tp *tilePlan, m int, i int32, r int) {
	s := &pl.pool.sessions[i]
	srcStep := s.start.Sub(pl.pool.origin) / pl.step
	srcAt := pl.pool.origin.Add(srcStep * pl.step)
	offset := s.start.Sub(srcAt)
	if r > 0 {
		// A repeat starts elsewhere in the step, moved by whole seconds
		// (a capture's time grid is kept).
		unitD := time.Second
		if pl.step < 2*time.Second {
			unitD = time.Nanosecond
		}
		j := below(synthHash(domainOffset, pl.seed, uint64(m), uint64(r), s.id), uint64(pl.step/unitD))
		offset = (offset + time.Duration(j)*unitD) % pl.step
	}
	if m == pl.steps-1 && pl.last < 1 {
		// The last step is cut by the duration: start inside it.
		if lim := time.Duration(pl.last * float64(pl.step)); lim > 0 && offset >= lim {
			offset %= lim
		}
	}
	at := pl.start.Add(time.Duration(m)*pl.step + offset)
	c := &copySpec{
		shift:   at.Sub(s.start),
		session: keyhash.Ident('s', synthHash(domainSession, pl.seed, uint64(m), uint64(r), s.id)),
		userKey: synthHash(domainUser, pl.seed, uint64(m), uint64(r), s.id),
		minute:  m,
	}
	tp.copies[s.id] = append(tp.copies[s.id], c)
	tp.minShift = min(tp.minShift, c.shift)
	tp.n++
}
