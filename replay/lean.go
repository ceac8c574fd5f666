//go:build linux

package replay

import (
	"container/list"
	"context"
	"fmt"
	"log"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/surge-replay/surge/schema"
)

// leanSupported says the lean driver exists on this platform (it polls its
// sockets with epoll).
const leanSupported = true

// maxWaiting bounds the requests waiting for a connection.
const maxWaiting = 1 << 16

// pipelineDepth bounds the requests in flight on one connection.
const pipelineDepth = 64

// affinityWindow is how soon after a session's previous request its next one
// is pipelined behind it rather than sent on another connection. A request
// written on another connection can reach the server's handler before an
// earlier one that the server has not yet read (scheduling on a busy server
// takes milliseconds), so closer requests keep to one connection; further
// apart, a separate connection (as a browser would use) avoids head-of-line
// blocking behind a slow response.
const affinityWindow = 50 * time.Millisecond

// leanDriver is a minimal HTTP/1.1 client for plain keep-alive replay: the
// request bytes are formatted before the pacer needs them, the pacer writes
// them to a connection itself (one write syscall, no goroutine hand-off on
// the send path), and the responses of every connection are read from one
// epoll set over the driver's own non-blocking sockets (outside Go's network
// poller): by the pacer on its own wake-ups while it paces, by a poll
// goroutine otherwise (setPacing). A response then costs a read, not a
// goroutine wake-up (measured: that scheduling was a third of the
// generator's CPU at 40k req/s). It parses just enough of each response
// (status, Content-Length or chunked, Connection) to find its end, whatever
// pieces it arrives in (respParser).
//
// Connections have owners (key): each virtual user (userKey) with per-user
// connections, as a browser: up to perUserConns each; one shared pool
// otherwise. A request takes an idle connection of its owner, or opens one
// (a non-blocking connect started on the sender's thread and completed by
// the poller: the pacer never waits on the network), or waits for one of its
// owner's (client queueing, measured); without pipelining a request never
// waits behind another on one connection. With pipelining (pipeline > 1), a
// session's request following one in flight within affinityWindow, or
// behind a queued one, is pipelined on its connection (HTTP/1.1 servers
// answer in order, so arrival order holds). At the connection limit, the
// connection idle longest (another owner's) is closed for a new one, or the
// request waits; a waiting request later than the lateness limit (or past
// a backlog of maxWaiting) is dropped as dropped_queue, client queueing,
// never as the generator's lateness.
type leanDriver struct {
	addr     *net.TCPAddr
	family   int
	epfd     int
	now      func() time.Duration
	timeout  time.Duration
	maxConns int
	perUser  bool
	perKey   int           // connections one owner key may have open
	pipeline int           // requests in flight on one connection at most (1: no pipelining)
	maxLate  time.Duration // waiting requests later than this are dropped; <= 0 never

	mu        sync.Mutex
	idle      idleSet
	waiting   []*pending
	open      int
	conns     map[*leanConn]bool
	bySession map[string]*leanConn // connections with requests in flight, by affinity key
	waitingBy map[string]int       // waiting requests, by affinity key
	keyOpen   map[string]int       // open connections, by owner key
	byFD      map[int]*leanConn    // connections in the epoll set (closed by the poller only)
	dead      []*leanConn          // broken, for a poller to close
	stopped   bool

	pollMu          sync.Mutex // held by whoever polls: the pacer or the poll goroutine
	events          []unix.EpollEvent
	ready           []*leanConn // the connections of events, looked up under mu at once
	readyConnecting []bool      // ready[i] was connecting when looked up
	lastSweep       time.Duration
	lastScan        time.Duration
	pacing          atomic.Bool   // the pacer polls
	wake            chan struct{} // wakes the poll goroutine when the pacer stops polling
	pollDone        chan struct{} // closed when the poll goroutine has closed every socket and returned

	// Dials (socket, connect, epoll_ctl: a loopback connect runs the whole
	// handshake in the caller's system call) are made by the dialer
	// goroutine, never on the pacer's thread: senders queue them under mu
	// and wake the dialer only when it is idle, so a burst of new
	// connections costs the pacer one wake-up, not four system calls each.
	dials      []dialJob
	dialsSpare []dialJob
	dialerBusy bool          // the dialer is awake (or about to be): no wake-up needed
	dialWake   chan struct{} // wakes the idle dialer
	dialDone   chan struct{} // closed when the dialer has returned (after a stop, its queue done)

	// Regions (region_lean.go): each connection goes to its region's
	// address; a dial whose region has no fresh answer waits for a lookup
	// in a goroutine of its own (lookups), never in the dialer.
	nets         *regionNets
	lookupCtx    context.Context
	lookupCancel context.CancelFunc
	lookups      sync.WaitGroup
}

// dialJob is a connection to dial and the request that opened it, queued at
// (driver clock).
type dialJob struct {
	c  *leanConn
	p  *pending
	at time.Duration
}

type leanConn struct {
	d   *leanDriver
	key string // the virtual user owning it, when connections are per user

	// The socket: written by senders under wmu; read by the pollers (one at
	// a time, under d.pollMu), which alone close it, under wmu, so a
	// descriptor is never reused under a reader or a writer.
	wmu    sync.Mutex
	fd     int // -1 until connected, and once closed
	in     []byte
	parser respParser

	// Guarded by d.mu.
	inflight []*pending    // written, awaiting their responses, in order
	lastSent time.Duration // when the last request was written
	n        int           // requests in flight (written or queued)
	sess     string        // affinity key of the requests in flight
	ready    bool          // connected
	writing  bool          // a goroutine is draining queue
	queue    []*pending    // claimed, to be written in this order
	used     bool          // has carried a response: a failure may be a stale keep-alive
	dead     bool          // broken: no more writes; a poller closes the socket
	elem     *list.Element // in idleSet.lru while idle
	idleAt   time.Duration // when it last became idle

	connecting bool          // a non-blocking connect is under way (the poller completes it)
	dialAt     time.Duration // when the connect started (or its lookup, with looked)
	rnet       *regionNet    // its region's way to the target; nil without regions
	to         netip.AddrPort
	looked     bool     // dialAt is when its DNS lookup started
	opener     *pending // the request that opened it, until connected
}

func newLeanDriver(addr string, now func() time.Duration, timeout, maxLate time.Duration, maxConns int, perUser bool, pipeline int) (*leanDriver, error) {
	ta := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} // unused with regions (addr "")
	var err error
	if addr != "" {
		if ta, err = net.ResolveTCPAddr("tcp", addr); err != nil {
			return nil, fmt.Errorf("lean driver: %w", err)
		}
	}
	d := &leanDriver{
		now: now, timeout: timeout, maxLate: maxLate, maxConns: maxConns, perUser: perUser,
		perKey: maxConns, pipeline: max(pipeline, 1),
		keyOpen:   map[string]int{},
		idle:      idleSet{byKey: map[string][]*leanConn{}, lru: list.New()},
		conns:     map[*leanConn]bool{},
		bySession: map[string]*leanConn{},
		waitingBy: map[string]int{},
		byFD:      map[int]*leanConn{},
		events:    make([]unix.EpollEvent, 256),
		wake:      make(chan struct{}, 1),
		pollDone:  make(chan struct{}),
		dialWake:  make(chan struct{}, 1),
		dialDone:  make(chan struct{}),
	}
	if perUser {
		d.perKey = min(perUserConns, maxConns)
	}
	d.addr = ta
	d.family = unix.AF_INET6
	if ta.IP.To4() != nil {
		d.family = unix.AF_INET
	}
	if d.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("lean driver: epoll: %w", err)
	}
	// The poll goroutine waits in epoll_wait, a system call that keeps its
	// P: Run reserves a P for it (Config.blockingThreads).
	go d.poll()
	go d.dialer()
	return d, nil
}

// key is the connection owner of p: its virtual user with per-user
// connections (userKey), "" with a shared pool.
func (d *leanDriver) key(p *pending) string {
	if d.perUser {
		return userKey(p)
	}
	if p.rnet != nil {
		return p.result.Region // one shared pool per region
	}
	return ""
}

// affinity is what keeps a session's requests in order: with pipelining,
// the session's requests in flight share a connection; without, the owner's
// waiting requests keep their order.
func (d *leanDriver) affinity(p *pending) string {
	if d.pipeline <= 1 {
		return d.key(p)
	}
	if d.perUser {
		return userKey(p)
	}
	return p.vsess
}

// send takes p from the pacer: it goes on an idle connection of its owner,
// or on a new one (dialed off the pacer's thread), or, with pipelining,
// behind its session's requests in flight; otherwise it waits for one of
// its owner's connections (client queueing). It never blocks on the network.
func (d *leanDriver) send(p *pending) {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		markDropped(p, d.now(), schema.DroppedAbort)
		p.done(p)
		return
	}
	d.assign(p)
}

// assign places p (see send). d.mu is held on entry and released.
func (d *leanDriver) assign(p *pending) {
	if d.waitingBy[d.affinity(p)] > 0 {
		// An earlier request of the owner (or session) is waiting: wait
		// behind it, so they keep their order.
		d.waitOrDrop(p)
		return
	}
	if d.pipeline > 1 {
		if c := d.follow(p); c != nil {
			c.n++
			p.assign(d.now(), schema.ConnReused)
			c.enqueueAndDrain(p)
			return
		}
	}
	k := d.key(p)
	if c := d.idle.pop(k); c != nil {
		d.claim(c, p)
		p.assign(p.handed, schema.ConnReused)
		c.enqueueAndDrain(p)
		return
	}
	if d.keyOpen[k] >= d.perKey {
		if c := d.pipelineOn(k); c != nil {
			c.n++
			p.assign(d.now(), schema.ConnReused)
			c.enqueueAndDrain(p)
			return
		}
		d.waitOrDrop(p)
		return
	}
	if d.open >= d.maxConns {
		// At the limit: recycle another owner's idle connection, or wait.
		old := d.idle.evictOldest()
		if old == nil {
			d.waitOrDrop(p)
			return
		}
		d.mu.Unlock()
		old.broken()
		d.mu.Lock()
	}
	c := d.startConn(p)
	wake := d.queueDial(c, p)
	d.mu.Unlock()
	if wake {
		d.wakeDialer()
	}
}

// pipelineOn returns the least busy ready connection of key with room for
// one more pipelined request, or nil without pipelining. d.mu is held.
func (d *leanDriver) pipelineOn(key string) *leanConn {
	if d.pipeline <= 1 {
		return nil
	}
	var best *leanConn
	for c := range d.conns {
		if c.key == key && c.ready && !c.dead && c.n < d.pipeline && (best == nil || c.n < best.n) {
			best = c
		}
	}
	return best
}

// waitOrDrop queues p for a connection, or drops it when the backlog is
// full. d.mu is held on entry and released.
func (d *leanDriver) waitOrDrop(p *pending) {
	if len(d.waiting) >= maxWaiting {
		// Far behind: the backlog must not grow without bound.
		d.mu.Unlock()
		markDropped(p, d.now(), schema.DroppedQueue)
		p.done(p)
		return
	}
	d.wait(p)
	d.mu.Unlock()
}

// claim gives c to p's session. d.mu is held.
func (d *leanDriver) claim(c *leanConn, p *pending) {
	c.n, c.sess = 1, d.affinity(p)
	c.lastSent = d.now() // about to be: a close follower must pipeline
	d.bySession[c.sess] = c
}

// follow returns the connection p must be pipelined on to keep its
// session's order, or nil: the one carrying the session's requests in
// flight, when that one is still connecting, already has a request queued
// behind another, or was given a request less than affinityWindow ago.
// Only with pipelining. d.mu is held.
func (d *leanDriver) follow(p *pending) *leanConn {
	c := d.bySession[d.affinity(p)]
	if c == nil || c.n >= d.pipeline || c.dead {
		return nil
	}
	if !c.ready || c.n >= 2 || d.now()-c.lastSent < affinityWindow {
		return c
	}
	return nil
}

// enqueueAndDrain queues p for writing on c, in the order of claims, and
// writes the queue if no one else is writing on c. d.mu is held on entry
// and released.
func (c *leanConn) enqueueAndDrain(p *pending) {
	c.queue = append(c.queue, p)
	if c.writing || !c.ready {
		// The writer (or the dialer, once connected) writes it in turn.
		c.d.mu.Unlock()
		return
	}
	c.writing = true
	c.d.mu.Unlock()
	c.drain()
}

// drain writes c's queue in order until it is empty. Only the one writer of
// c runs it (c.writing, or the dialer before c is ready), so requests go out
// in the order their sessions claimed c.
func (c *leanConn) drain() {
	d := c.d
	for {
		d.mu.Lock()
		queued := c.queue
		c.queue = nil
		if len(queued) == 0 {
			c.writing = false
			d.mu.Unlock()
			return
		}
		c.writing = true
		d.mu.Unlock()
		for _, q := range queued {
			c.write(q)
		}
	}
}

func (d *leanDriver) fail(p *pending, class string) {
	p.result.Error = class
	p.done(p)
}

// write sends p on c (counted in c.n by the caller). p joins c's requests
// in flight before the bytes go out, so the poller always finds the request
// a response answers; its send time is taken then.
func (c *leanConn) write(p *pending) {
	d := c.d
	d.mu.Lock()
	p.sent = d.now()
	c.lastSent = p.sent
	dead := c.dead
	if !dead {
		c.inflight = append(c.inflight, p)
	}
	d.mu.Unlock()
	var err error = errCanceled
	if !dead {
		if err = c.send(p.wire); err == nil {
			return
		}
	}
	d.mu.Lock()
	if !dead {
		i := len(c.inflight) - 1
		if i < 0 || c.inflight[i] != p {
			// The poller ended c meanwhile and failed p with the rest.
			d.mu.Unlock()
			return
		}
		c.inflight = c.inflight[:i]
	}
	stopped := d.stopped
	retry := c.used && c.n == 1 && !p.retry && idempotent(p.method) && !stopped
	c.n--
	d.mu.Unlock()
	c.broken()
	if retry {
		// The target closed a reused keep-alive connection before p could
		// be written: p is idempotent; send it once more, on another
		// connection.
		d.resend(p)
		return
	}
	p.end = d.now()
	switch {
	case stopped:
		d.fail(p, schema.ErrCanceled)
	default:
		p.result.Detail = errDetail(err)
		d.fail(p, schema.ErrReset)
	}
}

// resend sends p a second time (retries are counted: p.retry).
func (d *leanDriver) resend(p *pending) {
	p.retry = true
	p.sent = -1
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		p.end = d.now()
		d.fail(p, schema.ErrCanceled)
		return
	}
	d.assign(p)
}

// broken takes c out of use: no more writes; the poller closes its socket
// and fails the requests still in flight on it. Safe to call more than
// once.
func (c *leanConn) broken() {
	d := c.d
	d.mu.Lock()
	if c.dead {
		d.mu.Unlock()
		return
	}
	c.dead = true
	d.dead = append(d.dead, c)
	if d.conns[c] {
		delete(d.conns, c)
		d.open--
		if d.keyOpen[c.key]--; d.keyOpen[c.key] <= 0 {
			delete(d.keyOpen, c.key)
		}
	}
	if d.bySession[c.sess] == c {
		delete(d.bySession, c.sess)
	}
	if c.elem != nil {
		d.idle.remove(c)
	}
	d.mu.Unlock()
}

func (d *leanDriver) isStopped() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopped
}

// close closes every connection: idle ones at once; busy ones are cut, and
// their requests fail as canceled. Waiting requests are canceled. It
// returns once the poll goroutine has closed every socket.
func (d *leanDriver) close() {
	d.failAll(nil)
	d.wakeDialer()
	d.setPacing(false)
	<-d.dialDone
	d.lookups.Wait()
	<-d.pollDone
}

// failAll stops the driver: every connection is broken (the pollers close
// their sockets and fail their requests), waiting requests are canceled.
// why, when set, is logged as the reason.
func (d *leanDriver) failAll(why error) {
	if why != nil {
		log.Printf("surge: %v", why)
	}
	if d.lookupCancel != nil {
		d.lookupCancel()
	}
	d.mu.Lock()
	d.stopped = true
	waiting := d.waiting
	d.waiting = nil
	clear(d.waitingBy)
	conns := make([]*leanConn, 0, len(d.conns))
	for c := range d.conns {
		conns = append(conns, c)
	}
	d.mu.Unlock()
	for _, c := range conns {
		c.broken()
	}
	for _, p := range waiting {
		// Never written: dropped by the stop, not sent.
		markDropped(p, d.now(), schema.DroppedAbort)
		p.done(p)
	}
}
