//go:build linux

package replay

import (
	"errors"
	"net"

	"golang.org/x/sys/unix"

	"github.com/surge-replay/surge/schema"
)

// The lean driver's waiting requests and freed connections: who gets a
// connection when one is released or closed (its owner's oldest waiting
// request first, then one held back only by the connection limit), and the
// error classes of its failures.

// release makes c idle, or gives it the oldest waiting request of its owner,
// or closes it for a waiting request of another owner that is held back by
// the connection limit.
func (d *leanDriver) release(c *leanConn) {
	d.mu.Lock()
	if c.dead {
		d.mu.Unlock()
		return
	}
	late := d.expire()
	defer func() {
		for _, p := range late {
			p.done(p)
		}
	}()
	if d.stopped {
		d.mu.Unlock()
		c.broken()
		return
	}
	if p := d.unwaitKey(c.key); p != nil {
		if d.pipeline > 1 {
			if ac := d.follow(p); ac != nil && ac != c {
				ac.n++
				p.assign(d.now(), schema.ConnReused)
				ac.enqueueAndDrain(p)
				d.mu.Lock()
				d.idle.push(c)
				d.mu.Unlock()
				return
			}
		}
		d.claim(c, p)
		p.assign(d.now(), schema.ConnReused)
		c.enqueueAndDrain(p)
		return
	}
	if i := d.starved(); i >= 0 {
		// A request of another owner waits for a free slot under the limit:
		// this connection's slot is it.
		p := d.unwaitAt(i)
		if d.pipeline > 1 {
			if ac := d.follow(p); ac != nil {
				ac.n++
				p.assign(d.now(), schema.ConnReused)
				d.idle.push(c)
				ac.enqueueAndDrain(p)
				return
			}
		}
		nc := d.startConn(p)
		d.mu.Unlock()
		c.broken()
		nc.connect(p)
		return
	}
	c.idleAt = d.now()
	d.idle.push(c)
	d.mu.Unlock()
}

// kick opens connections for waiting requests that a freed slot lets open:
// after a connection closed. d.mu is not held.
func (d *leanDriver) kick() {
	d.mu.Lock()
	late := d.expire()
	wake := false
	for !d.stopped && d.open < d.maxConns {
		i := d.starved()
		if i < 0 {
			break
		}
		p := d.unwaitAt(i)
		if d.pipeline > 1 {
			if ac := d.follow(p); ac != nil {
				ac.n++
				p.assign(d.now(), schema.ConnReused)
				ac.enqueueAndDrain(p)
				d.mu.Lock()
				continue
			}
		}
		nc := d.startConn(p)
		wake = d.queueDial(nc, p) || wake
	}
	d.mu.Unlock()
	if wake {
		d.wakeDialer()
	}
	for _, p := range late {
		p.done(p)
	}
}

// starved returns the index of the oldest waiting request whose owner may
// open another connection (it waits for the connection limit only), or -1.
// d.mu is held.
func (d *leanDriver) starved() int {
	for i, p := range d.waiting {
		k := d.key(p)
		if d.keyOpen[k] < d.perKey {
			return i
		}
		if i > 4096 {
			break // bounded work per call; the rest are reached later
		}
	}
	return -1
}

// unwaitKey takes the oldest waiting request of owner key, or nil. d.mu is
// held.
func (d *leanDriver) unwaitKey(key string) *pending {
	if len(d.waiting) == 0 {
		return nil
	}
	if !d.perUser {
		return d.unwaitAt(0)
	}
	if d.waitingBy[key] == 0 && d.pipeline <= 1 {
		return nil
	}
	for i, p := range d.waiting {
		if d.key(p) == key {
			return d.unwaitAt(i)
		}
	}
	return nil
}

// wait queues p for a connection. d.mu is held.
func (d *leanDriver) wait(p *pending) {
	d.waiting = append(d.waiting, p)
	d.waitingBy[d.affinity(p)]++
}

// unwaitAt takes the waiting request at index i. d.mu is held.
func (d *leanDriver) unwaitAt(i int) *pending {
	p := d.waiting[i]
	if i == 0 {
		d.waiting[0] = nil
		d.waiting = d.waiting[1:]
	} else {
		d.waiting = append(d.waiting[:i], d.waiting[i+1:]...)
	}
	k := d.affinity(p)
	if d.waitingBy[k]--; d.waitingBy[k] == 0 {
		delete(d.waitingBy, k)
	}
	return p
}

// expire takes the waiting requests that are past the lateness limit off the
// queue, marked dropped, for the caller to complete once d.mu is released.
// d.mu is held.
func (d *leanDriver) expire() []*pending {
	if d.maxLate <= 0 {
		return nil
	}
	now := d.now()
	var late []*pending
	for len(d.waiting) > 0 && now-d.waiting[0].at > d.maxLate {
		p := d.unwaitAt(0)
		markDropped(p, now, schema.DroppedQueue)
		late = append(late, p)
	}
	return late
}

// classify returns the class of err ending a request written on a
// connection: our stop, our timeout, a malformed response, else the peer
// closing or resetting the connection.
func classify(err error, stopped bool) string {
	var ne net.Error
	switch {
	case stopped || errors.Is(err, errCanceled):
		return schema.ErrCanceled
	case errors.As(err, &ne) && ne.Timeout():
		return schema.ErrTimeout
	case errors.Is(err, errProtocol):
		return schema.ErrProtocol
	}
	return schema.ErrReset
}

// errDetail is the short reason of err for Result.Detail.
func errDetail(err error) string {
	var en unix.Errno
	switch {
	case err == nil:
		return ""
	case errors.As(err, &en):
		return en.Error()
	case errors.Is(err, errEOF):
		return "eof"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}
