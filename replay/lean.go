//go:build linux

package replay

import (
	"container/list"
	"errors"
	"fmt"
	"log"
	"net"
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
// A session's requests reach the target in their recorded order: when a
// virtual session's next request follows one still in flight within
// affinityWindow, or its last request is itself still queued behind another
// on its connection, it is pipelined on that connection (HTTP/1.1 servers
// answer a connection's requests in order); otherwise it takes any idle
// connection, or opens one. Opening happens on the thread that needs the
// connection (the sender's, or a poller handing a waiting request a new
// per-user connection), so writes stay in schedule order and the time a dial
// takes shows as lateness. When the connection limit is reached and none is idle,
// requests wait for the next free one, in order; a waiting request later than
// the lateness limit (or past a backlog of maxWaiting) is dropped as
// dropped_deadline rather than sent late.
type leanDriver struct {
	addr     *net.TCPAddr
	family   int
	epfd     int
	now      func() time.Duration
	timeout  time.Duration
	maxConns int
	perUser  bool
	maxLate  time.Duration // waiting requests later than this are dropped; <= 0 never

	mu        sync.Mutex
	idle      idleSet
	waiting   []*pending
	open      int
	conns     map[*leanConn]bool
	bySession map[string]*leanConn // connections with requests in flight, by affinity key
	waitingBy map[string]int       // waiting requests, by affinity key
	byFD      map[int]*leanConn    // connections in the epoll set (closed by the poller only)
	stopped   bool

	pollMu    sync.Mutex // held by whoever polls: the pacer or the poll goroutine
	events    []unix.EpollEvent
	ready     []*leanConn // the connections of events, looked up under mu at once
	lastSweep time.Duration
	pacing    atomic.Bool   // the pacer polls
	wake      chan struct{} // wakes the poll goroutine when the pacer stops polling
	pollDone  chan struct{} // closed when the poll goroutine has closed every socket and returned
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
}

func newLeanDriver(addr string, now func() time.Duration, timeout, maxLate time.Duration, maxConns int, perUser bool) (*leanDriver, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lean driver: %w", err)
	}
	d := &leanDriver{
		now: now, timeout: timeout, maxLate: maxLate, maxConns: maxConns, perUser: perUser,
		idle:      idleSet{byKey: map[string][]*leanConn{}, lru: list.New()},
		conns:     map[*leanConn]bool{},
		bySession: map[string]*leanConn{},
		waitingBy: map[string]int{},
		byFD:      map[int]*leanConn{},
		events:    make([]unix.EpollEvent, 256),
		wake:      make(chan struct{}, 1),
		pollDone:  make(chan struct{}),
	}
	d.addr = ta
	d.family = unix.AF_INET6
	if ta.IP.To4() != nil {
		d.family = unix.AF_INET
	}
	if d.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("lean driver: epoll: %w", err)
	}
	go d.poll()
	return d, nil
}

// key is the connection owner of p: its user with per-user connections.
func (d *leanDriver) key(p *pending) string {
	if d.perUser {
		return p.result.User
	}
	return ""
}

// affinity is what keeps requests on one connection while in flight.
func (d *leanDriver) affinity(p *pending) string {
	if d.perUser {
		return p.result.User
	}
	return p.vsess
}

// send writes p, pipelined behind its session's requests in flight, on an
// idle connection, or on a new one; or queues it.
func (d *leanDriver) send(p *pending) {
	d.mu.Lock()
	if d.waitingBy[d.affinity(p)] > 0 {
		// An earlier request of the session is waiting: wait behind it.
		d.wait(p)
		d.mu.Unlock()
		return
	}
	if c := d.follow(p); c != nil {
		c.n++
		c.enqueueAndDrain(p)
		return
	}
	if len(d.waiting) == 0 {
		if c := d.idle.pop(d.key(p)); c != nil {
			d.claim(c, p)
			c.enqueueAndDrain(p)
			return
		}
	}
	if d.open >= d.maxConns || len(d.waiting) > 0 {
		// At the limit: recycle another user's idle connection, or wait.
		old := d.idle.evictOldest()
		if old == nil || len(d.waiting) > 0 {
			if old != nil {
				d.idle.push(old)
			}
			if len(d.waiting) >= maxWaiting {
				// The generator is far behind: this one would be sent too
				// late anyway, and the backlog must not grow without bound.
				d.mu.Unlock()
				markDropped(p, d.now(), schema.DroppedDeadline)
				p.done(p)
				return
			}
			d.wait(p)
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		old.broken()
		d.mu.Lock()
	}
	c := d.startConn(p)
	d.mu.Unlock()
	c.connect(p)
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
// d.mu is held.
func (d *leanDriver) follow(p *pending) *leanConn {
	c := d.bySession[d.affinity(p)]
	if c == nil || c.n >= pipelineDepth {
		return nil
	}
	if !c.ready || c.n >= 2 || d.now()-c.lastSent < affinityWindow {
		return c
	}
	return nil
}

// startConn registers a new connection for p, claimed by p's session, before
// it is dialed: the session's next requests queue behind it. d.mu is held.
func (d *leanDriver) startConn(p *pending) *leanConn {
	c := &leanConn{d: d, key: d.key(p), fd: -1}
	d.open++
	d.conns[c] = true
	d.claim(c, p)
	return c
}

// connect dials c and writes p and then the requests queued behind it, in
// order. It runs on the thread that decided to open c (see leanDriver).
func (c *leanConn) connect(p *pending) {
	d := c.d
	fd, err := d.dial()
	d.mu.Lock()
	if err == nil && (d.stopped || c.dead) {
		unix.Close(fd)
		err = errors.New("stopped")
	}
	if err == nil {
		err = unix.EpollCtl(d.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)})
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		queued := c.queue
		c.queue = nil
		d.mu.Unlock()
		c.broken()
		class := schema.ErrConnect
		if d.isStopped() {
			class = schema.ErrCanceled
		}
		for _, q := range append([]*pending{p}, queued...) {
			q.sent = d.now()
			q.end = q.sent
			d.fail(q, class)
		}
		return
	}
	c.fd = fd
	d.byFD[fd] = c
	c.ready, c.writing = true, true
	c.queue = append([]*pending{p}, c.queue...)
	d.mu.Unlock()
	c.drain()
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
	if !dead && c.send(p.wire) == nil {
		return
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
	stale := c.used && c.n == 1 && !p.retry
	c.n--
	d.mu.Unlock()
	c.broken()
	if stale {
		// The server closed an idle keep-alive connection: not the
		// request's fault; send it once more on a new connection.
		p.retry = true
		d.send(p)
		return
	}
	p.end = d.now()
	d.fail(p, schema.ErrReset)
}

// release makes c idle, or gives it the oldest waiting request.
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
	for len(d.waiting) > 0 && !d.stopped {
		p := d.unwait()
		if ac := d.follow(p); ac != nil {
			ac.n++
			ac.enqueueAndDrain(p)
			d.mu.Lock()
			continue
		}
		if d.key(p) == c.key {
			d.claim(c, p)
			c.enqueueAndDrain(p)
			return
		}
		// Connections are per user and this one is not p's user: replace
		// it with one for p's user.
		nc := d.startConn(p)
		d.mu.Unlock()
		c.broken()
		nc.connect(p)
		return
	}
	if d.stopped {
		d.mu.Unlock()
		c.broken()
		return
	}
	d.idle.push(c)
	d.mu.Unlock()
}

// wait queues p for a connection. d.mu is held.
func (d *leanDriver) wait(p *pending) {
	d.waiting = append(d.waiting, p)
	d.waitingBy[d.affinity(p)]++
}

// unwait takes the oldest waiting request. d.mu is held.
func (d *leanDriver) unwait() *pending {
	p := d.waiting[0]
	d.waiting[0] = nil
	d.waiting = d.waiting[1:]
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
		p := d.unwait()
		markDropped(p, now, schema.DroppedDeadline)
		late = append(late, p)
	}
	return late
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
	if d.conns[c] {
		delete(d.conns, c)
		d.open--
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
	d.setPacing(false)
	<-d.pollDone
}

// failAll stops the driver: every connection is broken (the pollers close
// their sockets and fail their requests), waiting requests are canceled.
// why, when set, is logged as the reason.
func (d *leanDriver) failAll(why error) {
	if why != nil {
		log.Printf("surge: %v", why)
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
		p.sent = d.now()
		p.end = p.sent
		d.fail(p, schema.ErrCanceled)
	}
}

func classify(err error, stopped bool) string {
	var ne net.Error
	switch {
	case stopped:
		return schema.ErrCanceled
	case errors.As(err, &ne) && ne.Timeout():
		return schema.ErrTimeout
	case errors.Is(err, errProtocol):
		return schema.ErrProtocol
	}
	return schema.ErrReset
}
