package replay

import (
	"sync"
	"time"
)

// runnerIdle is how long (schedule time) a closed-loop session runner lives
// without a request before it is retired; a later request of its session
// starts a new one.
const runnerIdle = 5 * time.Minute

// runner replays one virtual session in closed loop. Its queue is unbounded
// (a slow target must not block the pacer, which feeds every session) but
// holds only that session's due requests.
type runner struct {
	mu     sync.Mutex
	q      []*pending
	closed bool
	wake   chan struct{} // cap 1
	lastAt time.Duration // pacer's view, for retiring
}

func (rn *runner) put(p *pending) {
	rn.mu.Lock()
	rn.q = append(rn.q, p)
	rn.mu.Unlock()
	select {
	case rn.wake <- struct{}{}:
	default:
	}
}

func (rn *runner) close() {
	rn.mu.Lock()
	rn.closed = true
	rn.mu.Unlock()
	select {
	case rn.wake <- struct{}{}:
	default:
	}
}

// take returns the next request, waiting for one; nil when closed and empty.
func (rn *runner) take() *pending {
	for {
		rn.mu.Lock()
		if len(rn.q) > 0 {
			p := rn.q[0]
			rn.q[0] = nil
			rn.q = rn.q[1:]
			rn.mu.Unlock()
			return p
		}
		closed := rn.closed
		rn.mu.Unlock()
		if closed {
			return nil
		}
		<-rn.wake
	}
}

// closedLoop returns the pacer's send function for closed mode: each virtual
// session's requests go, in order, to its own runner, which sends the next
// one only after the previous response plus the recorded think time (and
// never before its scheduled time). Memory holds live sessions only.
func (r *run) closedLoop() func(p *pending, now time.Duration) {
	runners := map[string]*runner{}
	count := 0
	retire := func(now time.Duration, all bool) {
		for k, rn := range runners {
			if all || now-rn.lastAt > runnerIdle {
				rn.close()
				delete(runners, k)
			}
		}
	}
	r.closeRunners = func() { retire(0, true) }
	return func(p *pending, now time.Duration) {
		rn, ok := runners[p.vsess]
		if !ok {
			rn = &runner{wake: make(chan struct{}, 1)}
			runners[p.vsess] = rn
			r.runners.Add(1)
			go r.runSession(rn)
		}
		rn.lastAt = p.at
		rn.put(p)
		if count++; count%4096 == 0 {
			retire(now, false)
		}
	}
}

// runSession sends a session's requests one after the other.
func (r *run) runSession(rn *runner) {
	defer r.runners.Done()
	prevEnd := time.Duration(-1)
	ended := make(chan time.Duration, 1)
	for p := rn.take(); p != nil; p = rn.take() {
		if prevEnd >= 0 && prevEnd+p.think > p.at {
			// Closed loop: the intended time moves with the target's speed.
			p.at = prevEnd + p.think
		}
		now := r.clk.now()
		if wait := p.at - now; wait > 0 {
			time.Sleep(wait)
			now = r.clk.now()
		}
		if r.stopping.Load() {
			r.dropAfterStop(p, now)
			continue
		}
		if class := r.admit(p, now); class != "" {
			r.drop(p, now, class)
			prevEnd = now
			continue
		}
		if p.ws != nil {
			// A WebSocket connection lives on beside the session's
			// requests (a browser keeps using HTTP while its socket is
			// open): the next request does not wait for it to end.
			p.done = r.complete
			r.send(p, now)
			prevEnd = now
			continue
		}
		p.done = func(p *pending) {
			end := p.end
			r.complete(p)
			ended <- end
		}
		r.send(p, now)
		prevEnd = <-ended
	}
}
