package accounts

import (
	"errors"
	"fmt"
	"math/bits"
	"sync/atomic"
	"time"
)

// What a Lender does when a virtual user finds no free account
// (LenderConfig.Exhausted).
const (
	// ExhaustedShare lends an account already in use (one of the recorded
	// user's when it has any) and counts the user and its sessions.
	ExhaustedShare = "share"
	// ExhaustedStop refuses the lease with ErrExhausted: the run stops.
	ExhaustedStop = "stop"
)

// ErrExhausted is returned by Lender.Get under ExhaustedStop when no
// account is free for a virtual user.
var ErrExhausted = errors.New("account pool exhausted")

// LenderConfig configures a Lender. The zero value works.
type LenderConfig struct {
	// Idle is how long (schedule time) a virtual user without a request
	// keeps its account: the session gap scaled by the speed, after which
	// its sessions are over and the account returns to the pool. Zero
	// means 30 min (shaper.DefaultIdleGap).
	Idle time.Duration
	// Exhausted is ExhaustedShare (default, "") or ExhaustedStop.
	Exhausted string
}

// Lease is an account lent to one virtual user. Read-only for the caller.
type Lease struct {
	Account    int    // the account's number in the pool (index order)
	Name       string // the account's name
	Credential string // what the virtual user presents (a token)
	// Own is true when the account is one of the virtual user's recorded
	// user's, false for a user the pool has no account of (it borrowed a
	// free account of another user).
	Own bool
	// Shared is true when the lease was made while no fitting account was
	// free: another live virtual user holds the same account.
	Shared bool

	id       string
	last     time.Duration // schedule time of the user's last request
	deadline time.Duration // when the expiry heap looks at it again
	session  string        // the last virtual session seen, for SharedSessions
}

// Lender lends a Pool's accounts to virtual users exclusively: a virtual
// user (its identity, such as shaper.Request.User) keeps its account while
// it is live and returns it once it has had no request for Idle. Clone k of
// recorded user u is lent u's account k (modulo u's count) or, when that one
// is taken, another free account of u's; a user the pool has no account of
// borrows a free one of another user's, a user's last account first. Two live virtual users never hold
// one account unless the pool was exhausted (Shared leases, counted).
//
// Times are the schedule's and must not decrease from call to call, so the
// assignment is deterministic. Get is for one goroutine; the counters may be
// read from any.
type Lender struct {
	pool   *Pool
	idle   time.Duration
	stop   bool
	busy   []uint64 // one bit per account held by an exclusive lease
	spare  []uint64 // one bit per account that is the last of its user's (lent to strangers first)
	held   map[string]*Lease
	expiry []*Lease // min-heap by deadline
	buf    []byte

	leased, exhausted, sharedSessions, unmatched atomic.Int64
}

// NewLender returns a Lender of p's accounts.
func NewLender(p *Pool, cfg LenderConfig) (*Lender, error) {
	switch cfg.Exhausted {
	case "", ExhaustedShare, ExhaustedStop:
	default:
		return nil, fmt.Errorf("accounts: exhausted policy %q is not %s or %s", cfg.Exhausted, ExhaustedShare, ExhaustedStop)
	}
	if p.Accounts() == 0 {
		return nil, errors.New("accounts: the pool has no accounts")
	}
	idle := cfg.Idle
	if idle <= 0 {
		idle = 30 * time.Minute
	}
	l := &Lender{pool: p, idle: idle, stop: cfg.Exhausted == ExhaustedStop,
		busy: make([]uint64, (p.Accounts()+63)/64), spare: make([]uint64, (p.Accounts()+63)/64), held: map[string]*Lease{}}
	for _, end := range p.firsts[1:] {
		a := int(end) - 1
		l.spare[a>>6] |= 1 << (a & 63)
	}
	return l, nil
}

// LenderStats counts what a Lender did.
type LenderStats struct {
	Leased    int64 // leases made (one per live virtual user)
	Exhausted int64 // virtual users that found no free account (shared one, or stopped the run)
	// SharedSessions counts the virtual sessions that ran on a shared
	// lease: without an account of their own.
	SharedSessions int64
	Unmatched      int64 // virtual users whose recorded user has no account in the pool
}

// Stats returns the counters so far (safe from any goroutine).
func (l *Lender) Stats() LenderStats {
	return LenderStats{Leased: l.leased.Load(), Exhausted: l.exhausted.Load(),
		SharedSessions: l.sharedSessions.Load(), Unmatched: l.unmatched.Load()}
}

// Get returns the lease of virtual user id at schedule time now, lending
// it an account when it holds none: id is clone clone of recorded user
// recorded ("" when anonymous) and session is its virtual session. A user
// that holds a lease gets it back without allocating. Under ExhaustedStop
// the error wraps ErrExhausted when no account is free; an error reading
// the index is returned as is.
func (l *Lender) Get(id, recorded, session string, clone int, now time.Duration) (*Lease, error) {
	l.expire(now)
	if ls := l.held[id]; ls != nil {
		ls.last = max(ls.last, now)
		if ls.Shared && session != ls.session {
			ls.session = session
			l.sharedSessions.Add(1)
		}
		return ls, nil
	}
	first, n := 0, 0
	if recorded != "" {
		first, n = l.pool.Lookup(recorded)
	}
	ls := &Lease{id: id, last: now, session: session, Own: n > 0}
	a := -1
	if n > 0 {
		start := first + ((clone%n)+n)%n
		for i := range n {
			c := first + (start-first+i)%n
			if !l.isBusy(c) {
				a = c
				break
			}
		}
		if a < 0 {
			ls.Shared, a = true, start
		}
	} else {
		l.unmatched.Add(1)
		h := UserHash(id)
		if a = l.freeFrom(int(h % uint64(l.pool.Accounts()))); a < 0 {
			ls.Shared, a = true, int(h%uint64(l.pool.Accounts()))
		}
	}
	if ls.Shared {
		l.exhausted.Add(1)
		if l.stop {
			if n > 0 {
				return nil, fmt.Errorf("%w: all %d accounts of recorded user %s are in use (virtual user %s)", ErrExhausted, n, recorded, printable(id))
			}
			return nil, fmt.Errorf("%w: no free account for virtual user %s", ErrExhausted, printable(id))
		}
		l.sharedSessions.Add(1)
	}
	name, cred, buf, err := l.pool.Credential(a, l.buf)
	l.buf = buf
	if err != nil {
		return nil, err
	}
	ls.Account, ls.Name, ls.Credential = a, string(name), string(cred)
	if !ls.Shared {
		l.busy[a>>6] |= 1 << (a & 63)
	}
	l.leased.Add(1)
	l.held[id] = ls
	ls.deadline = now + l.idle
	l.push(ls)
	return ls, nil
}

// printable shows an anonymous identity (a 0 byte and its virtual session).
func printable(id string) string {
	if len(id) > 0 && id[0] == 0 {
		return "of anonymous session " + id[1:]
	}
	return id
}

func (l *Lender) isBusy(a int) bool { return l.busy[a>>6]&(1<<(a&63)) != 0 }

// maxProbeWords bounds the search for a free account for a user the pool
// has none of: 1024 words of the bitmap, 65536 accounts.
const maxProbeWords = 1024

// freeFrom returns a free account at or after a (wrapping around), or -1
// when none is within maxProbeWords words. It prefers the last account of
// a user (the one its clones need last: clone k takes account k first),
// so that a stranger rarely takes an account a clone of its user needs.
func (l *Lender) freeFrom(a int) int {
	if c := l.scan(a, l.spare); c >= 0 {
		return c
	}
	return l.scan(a, nil)
}

// scan returns the first account at or after a (wrapping around) that is
// free and, when only is set, in only; -1 when none is within
// maxProbeWords words.
func (l *Lender) scan(a int, only []uint64) int {
	m := l.pool.Accounts()
	w := a >> 6
	mask := ^uint64(1<<(a&63) - 1) // accounts before a in its word are not candidates
	for range min(maxProbeWords, len(l.busy)+1) {
		free := ^l.busy[w] & mask
		if only != nil {
			free &= only[w]
		}
		if free != 0 {
			if c := w<<6 + bits.TrailingZeros64(free); c < m {
				return c
			}
		}
		w, mask = (w+1)%len(l.busy), ^uint64(0)
	}
	return -1
}

// expire returns the accounts of users idle longer than Idle at now.
func (l *Lender) expire(now time.Duration) {
	for len(l.expiry) > 0 && l.expiry[0].deadline < now {
		ls := l.pop()
		if now-ls.last > l.idle {
			delete(l.held, ls.id)
			if !ls.Shared {
				l.busy[ls.Account>>6] &^= 1 << (ls.Account & 63)
			}
			continue
		}
		ls.deadline = ls.last + l.idle
		l.push(ls)
	}
}

// Live returns how many virtual users hold a lease.
func (l *Lender) Live() int { return len(l.held) }

func (l *Lender) push(ls *Lease) {
	l.expiry = append(l.expiry, ls)
	i := len(l.expiry) - 1
	for i > 0 {
		p := (i - 1) / 2
		if l.expiry[p].deadline <= l.expiry[i].deadline {
			break
		}
		l.expiry[p], l.expiry[i] = l.expiry[i], l.expiry[p]
		i = p
	}
}

func (l *Lender) pop() *Lease {
	h := l.expiry
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = nil
	h = h[:last]
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1].deadline < h[c].deadline {
			c++
		}
		if h[i].deadline <= h[c].deadline {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	l.expiry = h
	return top
}
