package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// playback is an HLS player on the live event for one span: it reloads the
// live playlist about every target duration and fetches each new segment.
// The newest segment follows the wall clock (segAt). When the playlist has
// not changed the edge answers 304 and the player, as the HLS spec asks,
// retries after half a target duration. On start it fills a buffer of three
// segments. stops says the player is closed at sp.to (a download in flight
// then is cut short) rather than still playing when the log ends.
func (a *agent) playback(r *rand.Rand, sp span, stops bool) {
	last := -1
	for t := sp.from; t.Before(sp.to) && t.Before(windowEnd); {
		n := segAt(t)
		m := a.get(t, epManifest, "/live/"+event+"/manifest.m3u8")
		m.seg, m.unchanged = n, n == last
		a.do(r, m)
		switch {
		case m.status >= 500:
			t = m.end().Add(time.Second)
			continue
		case m.status == http.StatusNotModified:
			t = m.end().Add(segDur / 2)
			continue
		}
		// Reload timers run a little short of the target duration on
		// most players; that is where the 304s come from.
		t = m.end().Add(min(max(time.Duration(float64(5700*time.Millisecond)+0.45*float64(time.Second)*r.NormFloat64()), 4500*time.Millisecond), 7*time.Second))
		from := max(last+1, n-2)
		last = n
		at := m.end()
		for k := from; k <= n && at.Before(sp.to); k++ {
			x := a.segment(r, at, k)
			if stops && x.end().After(sp.to) {
				cut(x, sp.to)
				break
			}
			at = x.end()
		}
	}
}

// segment fetches segment k at t, retrying once, quickly, after a 5xx.
func (a *agent) segment(r *rand.Rand, t time.Time, k int) *exchange {
	for try := 0; ; try++ {
		x := a.get(t, epSegment, fmt.Sprintf("/live/%s/seg-%d.ts", event, k))
		x.seg = k
		if a.do(r, x); x.status < 500 || try == 1 {
			return x
		}
		t = x.end().Add(time.Duration(150+r.IntN(250)) * time.Millisecond)
	}
}

// cut ends x when the client went away at at: before the response header
// nginx logs 499 and no bytes; after it, the status stands and only the
// bytes sent so far are counted.
func cut(x *exchange, at time.Time) {
	d := at.Sub(x.start)
	if d <= x.wait {
		x.status, x.bytes, x.wait, x.receive = 499, 0, max(d, 0), 0
		return
	}
	sent := d - x.wait
	x.bytes = x.bytes * int64(sent) / int64(x.receive)
	x.receive = sent
}

// view is one event of the viewing history.
type view struct {
	t        time.Time
	s        *session
	playback string // the player's id for one span of watching
	typ      string // start, heartbeat, stop
	pos      int64  // live position, ms since the stream began
	watched  int64  // ms watched in this session so far
}

// views records the viewing history of spans: start, a heartbeat every
// minute, and stop unless still watching when the log ends. Only events
// inside the window are kept, so a viewer who was watching at 19:45 begins
// with a heartbeat.
func (a *agent) views(r *rand.Rand, spans []span) {
	var watched time.Duration
	add := func(t time.Time, pb, typ string, w time.Duration) {
		if t.Before(windowStart) || !t.Before(windowEnd) {
			return
		}
		a.w.views = append(a.w.views, &view{t: t, s: a.s, playback: pb, typ: typ, pos: a.s.position(t), watched: w.Milliseconds()})
	}
	for _, sp := range spans {
		pb := randHex(r, 6)
		add(sp.from, pb, "start", watched)
		t := sp.from
		for {
			// The SDK's minute timer drifts by a few ms a tick.
			next := t.Add(viewBeatEvery + time.Duration(r.IntN(30))*time.Millisecond)
			if !next.Before(sp.to) || !next.Before(windowEnd) {
				break
			}
			watched += next.Sub(t)
			t = next
			add(t, pb, "heartbeat", watched)
		}
		if sp.to.Before(windowEnd) {
			watched += sp.to.Sub(t)
			add(sp.to, pb, "stop", watched)
		}
	}
}
