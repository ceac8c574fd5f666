package shaper

import "time"

// live remembers, for each recorded session of the current pass, the decision
// made at its first event (its clones) and when it was last seen. Sessions
// idle longer than the gap (capture time) are forgotten as time moves on, so
// memory holds the live sessions only, never the whole capture.
type live struct {
	gap       time.Duration
	m         map[string]*session
	lastSweep time.Time
	free      []*session // forgotten sessions, reused
	peak      int        // most sessions held at once
}

// session is what the shaper remembers of a recorded session.
type session struct {
	seen   time.Time     // capture time of its last event
	took   time.Duration // recorded latency of its last event (0: unknown)
	clones []clone       // one per virtual session; empty when dropped
	class  string        // the class label (Classifier), "" without
}

// clone is one virtual session of a recorded session.
type clone struct {
	jitter   time.Duration // start offset; 0 for clone 0
	virtual  string        // virtual session id
	recorded string        // the recorded user that user was made from
	user     string        // virtual user
	ended    bool          // an exit ended it: no more requests
}

func newLive(gap time.Duration) *live {
	return &live{gap: gap, m: map[string]*session{}}
}

// get returns the session of key at capture time now, and whether it starts
// here: it was never seen, or forgotten, or idle longer than the gap (a
// forgotten session's key that comes back is a new session). The caller sets
// the session's seen time.
func (l *live) get(key string, now time.Time) (s *session, fresh bool) {
	l.sweep(now)
	if s = l.m[key]; s != nil && now.Sub(s.seen) <= l.gap {
		return s, false
	}
	if s == nil {
		s = l.alloc()
		l.m[key] = s
		l.peak = max(l.peak, len(l.m))
	}
	s.clones = s.clones[:0]
	return s, true
}

func (l *live) alloc() *session {
	if n := len(l.free); n > 0 {
		s := l.free[n-1]
		l.free = l.free[:n-1]
		return s
	}
	return &session{}
}

// sweep forgets sessions idle longer than the gap, at most once per half gap
// of capture time (a map scan per sweep, amortized over the events between).
func (l *live) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.gap/2 {
		return
	}
	for k, s := range l.m {
		if now.Sub(s.seen) > l.gap {
			delete(l.m, k)
			l.free = append(l.free, s)
		}
	}
	l.lastSweep = now
}

// reset forgets every session: a new pass makes new virtual sessions.
func (l *live) reset() {
	for k, s := range l.m {
		delete(l.m, k)
		l.free = append(l.free, s)
	}
	l.lastSweep = time.Time{}
}
