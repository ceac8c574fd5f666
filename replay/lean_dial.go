//go:build linux

package replay

import (
	"errors"
	"time"

	"github.com/surge-replay/surge/schema"
	"golang.org/x/sys/unix"
)

// queueDial queues c, opened for p, for the dialer, and reports whether the
// dialer must be woken (wakeDialer, after d.mu is released). d.mu is held.
func (d *leanDriver) queueDial(c *leanConn, p *pending) (wake bool) {
	d.dials = append(d.dials, dialJob{c: c, p: p, at: d.now()})
	if d.dialerBusy {
		return false
	}
	d.dialerBusy = true
	return true
}

// wakeDialer wakes the dialer if it sleeps. d.mu is not held.
func (d *leanDriver) wakeDialer() {
	select {
	case d.dialWake <- struct{}{}:
	default:
	}
}

// dialer makes the queued dials, in order, in batches: every dial queued
// while it works is made before it sleeps again. It returns after the stop,
// once its queue is empty (a dial after the stop fails its requests as
// dropped_abort, see connect).
func (d *leanDriver) dialer() {
	defer close(d.dialDone)
	for {
		d.mu.Lock()
		jobs := d.dials
		d.dials, d.dialsSpare = d.dialsSpare[:0], nil
		if len(jobs) == 0 {
			d.dialerBusy = false
			stopped := d.stopped
			d.dialsSpare = jobs
			d.mu.Unlock()
			if stopped {
				return
			}
			<-d.dialWake
			continue
		}
		d.dialerBusy = true
		d.mu.Unlock()
		for i, j := range jobs {
			// Waiting here for the dialer is waiting inside surge for a
			// connection: client queueing, not connect time.
			if now := d.now(); now-j.at > dialQueueSlack && !j.p.retry {
				j.p.assigned = max(j.p.assigned, now)
			}
			d.dial(j.c, j.p)
			jobs[i] = dialJob{}
		}
		d.mu.Lock()
		if d.dialsSpare == nil {
			d.dialsSpare = jobs[:0]
		}
		d.mu.Unlock()
	}
}

// dialQueueSlack is how long a dial may wait for the dialer and still count
// as opened at once (as startConn counts its own bookkeeping).
const dialQueueSlack = 50 * time.Microsecond

// startConn registers a new connection for p, claimed by p's session, before
// it is dialed. d.mu is held.
func (d *leanDriver) startConn(p *pending) *leanConn {
	c := &leanConn{d: d, key: d.key(p), fd: -1, rnet: p.rnet}
	d.open++
	d.keyOpen[c.key]++
	d.conns[c] = true
	d.claim(c, p)
	at := d.now()
	if p.assigned < 0 && p.sent < 0 && at-p.handed < 50*time.Microsecond {
		at = p.handed // opened at once: no queueing, only our own bookkeeping
	}
	p.assign(at, schema.ConnNew)
	return c
}

// connect starts a non-blocking connect for c, with p its first request,
// on the caller's thread (the pacer's, or a poller's): it never waits for the
// network. The poller completes it (connected) when the socket is writable;
// a slow accept is then the target's connect time (or a connect error at
// the timeout), not the generator's lateness.
func (c *leanConn) connect(p *pending) {
	d := c.d
	at := d.now()
	if c.looked {
		at = c.dialAt // the lookup is part of opening the connection
	}
	c.opener, c.dialAt = p, at
	fd, connected, err := d.dialStart(c.to, c.source())
	d.mu.Lock()
	stopped := d.stopped || c.dead
	if err == nil && stopped {
		unix.Close(fd)
		err = errCanceled
	}
	if err == nil {
		events := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
		if !connected {
			events |= unix.EPOLLOUT
		}
		if err = unix.EpollCtl(d.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)}); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		d.abandon(c, p, err, stopped)
		return
	}
	c.fd = fd
	d.byFD[fd] = c
	c.queue = append([]*pending{p}, c.queue...)
	if !connected {
		c.connecting = true
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()
	c.established()
}

// established makes c ready and writes its queue. d.mu is not held.
func (c *leanConn) established() {
	d := c.d
	d.mu.Lock()
	c.connecting = false
	c.ready, c.writing = true, true
	if c.opener != nil {
		c.opener.connect = d.now() - c.dialAt
		c.opener = nil
	}
	d.mu.Unlock()
	c.drain()
}

// abandon gives up opening c: its opening request p and those queued on it
// fail with err (as dropped_abort when stopped), and a freed slot goes to
// a waiting request. d.mu is held, and released.
func (d *leanDriver) abandon(c *leanConn, p *pending, err error, stopped bool) {
	queued := c.queue
	c.queue = nil
	d.mu.Unlock()
	c.broken()
	d.failConnect(append([]*pending{p}, queued...), err, stopped)
	d.kick()
}

// failConnect fails requests whose connection could not be made: connect
// errors of the target, or, after our stop, dropped (never written).
func (d *leanDriver) failConnect(ps []*pending, err error, stopped bool) {
	for _, q := range ps {
		q.end = d.now()
		if stopped {
			markDropped(q, q.end, schema.DroppedAbort)
			q.done(q)
			continue
		}
		if re := (*ResolveError)(nil); errors.As(err, &re) {
			q.result.Detail = re.Reason
			d.fail(q, schema.ErrDNS)
			continue
		}
		q.result.Detail = errDetail(err)
		d.fail(q, schema.ErrConnect)
	}
}
