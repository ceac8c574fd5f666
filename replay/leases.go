package replay

import (
	"sort"
	"sync/atomic"
	"time"
)

// leases lends accounts (indexes 0..n-1) to virtual users exclusively: a
// user keeps its account while it is live and returns it when it has had no
// request for idle (schedule time: the session gap, after which its virtual
// sessions are over). While an account is free no two live users share one;
// when none is, the user shares one (round robin) and the exhaustion is
// counted. Times are the schedule's, so the assignment is deterministic.
// Used by the producer alone.
type leases struct {
	idle  time.Duration
	n     int
	free  []int // free accounts, lowest index last (taken first)
	held  map[string]*lease
	next  int // round robin over accounts when exhausted
	sweep time.Duration

	leased    atomic.Int64 // leases granted (one per live user)
	exhausted atomic.Int64 // users that found no free account
}

type lease struct {
	account int
	last    time.Duration // schedule time of the user's last request
	shared  bool          // given while the pool was exhausted: not returned
}

// defaultLeaseIdle is how long a user keeps its account without a request
// when the run sets no session gap: shaper.DefaultIdleGap.
const defaultLeaseIdle = 30 * time.Minute

func newLeases(n int, idle time.Duration) *leases {
	if idle <= 0 {
		idle = defaultLeaseIdle
	}
	l := &leases{idle: idle, n: n, held: map[string]*lease{}}
	for i := n - 1; i >= 0; i-- {
		l.free = append(l.free, i)
	}
	return l
}

// get returns the account of user at schedule time now, leasing one if the
// user holds none.
func (l *leases) get(user string, now time.Duration) int {
	if ls, ok := l.held[user]; ok && now-ls.last <= l.idle {
		ls.last = max(ls.last, now)
		return ls.account
	} else if ok {
		l.release(user, ls)
	}
	if len(l.free) == 0 || now-l.sweep > l.idle {
		l.expire(now)
	}
	ls := &lease{last: now}
	if n := len(l.free); n > 0 {
		ls.account = l.free[n-1]
		l.free = l.free[:n-1]
	} else {
		l.exhausted.Add(1)
		ls.account, ls.shared = l.next%l.n, true
		l.next++
	}
	l.leased.Add(1)
	l.held[user] = ls
	return ls.account
}

// expire returns the accounts of users idle longer than idle at now.
func (l *leases) expire(now time.Duration) {
	l.sweep = now
	var back []int
	for u, ls := range l.held {
		if now-ls.last > l.idle {
			delete(l.held, u)
			if !ls.shared {
				back = append(back, ls.account)
			}
		}
	}
	// Lowest index taken first, whatever the map's order.
	sort.Sort(sort.Reverse(sort.IntSlice(back)))
	l.free = append(l.free, back...)
}

func (l *leases) release(user string, ls *lease) {
	delete(l.held, user)
	if !ls.shared {
		l.free = append(l.free, ls.account)
	}
}
