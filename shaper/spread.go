package shaper

import (
	"time"

	"github.com/surge-replay/surge/schema"
)

// maxInstant bounds how many events of one shared instant the spreading
// source holds: past it, the events of that instant are yielded as recorded
// (memory stays bounded however large a second is).
const maxInstant = 1 << 20

// spreadInstants returns a Source that spreads the events of src sharing one
// instant over the time that instant stands for. A log written at a
// resolution res (an access log's $time_local: one second) records every
// request of a second at the same instant; replayed as is, a whole second's
// requests would leave in one burst. An instant t aligned to res (t is a
// whole multiple of res since the Unix epoch) holding n > 1 events becomes
// t, t+step, …, t+(n-1)·step with step = span/n: span is res, or less when
// the next event or the window's end (end, when not zero) comes sooner, so
// the output stays in time order where inputs of another resolution
// interleave, and no request is moved out of the window. Events keep their
// input order, so a session's requests keep theirs. The result depends
// only on the input: the same capture gives the same schedule. (With an
// open window and several loops, the first pass fixes the window's end
// just after the last event, so later passes spread the last instant over
// less than res; surge replay always closes the window.)
//
// A moved event is a shallow copy with its Time changed: the Source's values
// are never written to. res ≤ 0 returns src itself.
func spreadInstants(src Source, res time.Duration, end time.Time) Source {
	if res <= 0 {
		return src
	}
	sp := &spreader{src: src, res: res, end: end}
	return sp.next
}

// spreader is the state of spreadInstants: the events of the instant being
// read, and the first event after them.
type spreader struct {
	src   Source
	res   time.Duration
	end   time.Time          // the window's end; zero: open
	group []*schema.Exchange // events of one aligned instant, input order
	ahead *schema.Exchange   // the event after the group (nil: none read)
	out   []*schema.Exchange // events ready to go, in order
	err   error              // the Source's error, after the events before it
}

func (sp *spreader) next() (*schema.Exchange, error) {
	for len(sp.out) == 0 {
		if sp.err != nil {
			return nil, sp.err
		}
		sp.fill()
	}
	e := sp.out[0]
	sp.out[0] = nil
	sp.out = sp.out[1:]
	return e, nil
}

// fill reads the next instant's events (or one event that needs no
// spreading) into out.
func (sp *spreader) fill() {
	e := sp.ahead
	sp.ahead = nil
	if e == nil {
		if e, sp.err = sp.src(); sp.err != nil {
			return
		}
		if e == nil {
			sp.out = append(sp.out[:0], e) // let the shaper name the fault
			return
		}
	}
	if !aligned(e.Time, sp.res) {
		sp.out = append(sp.out[:0], e)
		return
	}
	sp.group = append(sp.group[:0], e)
	for {
		n, err := sp.src()
		if err != nil {
			sp.err = err
			break
		}
		if n == nil || !n.Time.Equal(e.Time) || len(sp.group) == maxInstant {
			sp.ahead = n
			break
		}
		sp.group = append(sp.group, n)
	}
	span := sp.res
	if !sp.end.IsZero() {
		if room := sp.end.Sub(e.Time); room < span {
			span = max(room, 0)
		}
	}
	if sp.ahead != nil {
		if gap := sp.ahead.Time.Sub(e.Time); gap > 0 && gap < span {
			span = gap
		}
		if len(sp.group) == maxInstant && sp.ahead.Time.Equal(e.Time) {
			span = 0 // the instant goes on: no room to spread within it
		}
	}
	sp.out = sp.out[:0]
	n := len(sp.group)
	for k, g := range sp.group {
		sp.group[k] = nil
		off := time.Duration(int64(span) * int64(k) / int64(n))
		if off == 0 {
			sp.out = append(sp.out, g)
			continue
		}
		moved := *g
		moved.Time = g.Time.Add(off)
		sp.out = append(sp.out, &moved)
	}
}

// aligned says whether t is a whole multiple of res since the Unix epoch.
func aligned(t time.Time, res time.Duration) bool {
	if res >= time.Second && res%time.Second == 0 {
		return t.Nanosecond() == 0 && t.Unix()%int64(res/time.Second) == 0
	}
	return t.UnixNano()%int64(res) == 0
}
