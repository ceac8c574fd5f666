//go:build linux

package replay

import "time"

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
