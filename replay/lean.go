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

// dial opens a non-blocking TCP connection to the target, waiting at most
// the timeout for it to be established.
func (d *leanDriver) dial() (int, error) {
	fd, err := unix.Socket(d.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	// As Go's own TCP connections: pipelined requests must not wait for
	// Nagle's algorithm.
	if err = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err == nil {
		err = unix.Connect(fd, d.sockaddr())
		if errors.Is(err, unix.EINPROGRESS) {
			if err = waitFD(fd, unix.POLLOUT, d.timeout); err == nil {
				var soerr int
				if soerr, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && soerr != 0 {
					err = unix.Errno(soerr)
				}
			}
		}
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// sockaddr returns the target's address for connect: a fresh one per call
// (connect writes into it, and dials run concurrently).
func (d *leanDriver) sockaddr() unix.Sockaddr {
	if d.family == unix.AF_INET {
		sa := &unix.SockaddrInet4{Port: d.addr.Port}
		copy(sa.Addr[:], d.addr.IP.To4())
		return sa
	}
	sa := &unix.SockaddrInet6{Port: d.addr.Port}
	copy(sa.Addr[:], d.addr.IP.To16())
	return sa
}

// waitFD waits until fd is ready for events, or the timeout.
func waitFD(fd int, events int16, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return errTimeout
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: events}}, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// errTimeout is a lean socket operation that took longer than the timeout.
var errTimeout = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

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

// send writes b whole to c's socket, waiting (at most the timeout) while
// the socket's buffer is full.
func (c *leanConn) send(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for len(b) > 0 {
		if c.fd < 0 {
			return unix.EPIPE
		}
		n, err := unix.SendmsgN(c.fd, b, nil, nil, unix.MSG_NOSIGNAL)
		if n > 0 {
			b = b[n:]
		}
		switch {
		case errors.Is(err, unix.EAGAIN):
			if err := waitFD(c.fd, unix.POLLOUT, c.d.timeout); err != nil {
				return err
			}
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return err
		}
	}
	return nil
}

// poll reads the responses of every connection when the pacer does not (see
// setPacing): one goroutine, blocked in epoll_wait between bursts. Whoever
// polls also times out requests waiting too long for their response and
// closes the sockets of broken connections: the pollers are the only
// closers, so no descriptor is reused while one is read. poll returns once
// the driver is closed and every socket is.
func (d *leanDriver) poll() {
	defer close(d.pollDone)
	defer func() {
		d.pollMu.Lock()
		unix.Close(d.epfd)
		d.epfd = -1
		d.pollMu.Unlock()
	}()
	for {
		if d.pacing.Load() {
			<-d.wake
			continue
		}
		d.pollMu.Lock()
		done := d.pollOnce(int(pollTick / time.Millisecond))
		d.pollMu.Unlock()
		if done {
			return
		}
	}
}

// setPacing hands the reading of responses to the pacer (on), which then
// calls pollNow on each of its wake-ups, or back to the poll goroutine.
// While the pacer sends at a high rate it wakes every few tens of
// microseconds anyway: reading there saves a thread wake-up per response
// (measured: two context switches per request, most of the generator's
// system time at 40k req/s).
func (d *leanDriver) setPacing(on bool) {
	d.pacing.Store(on)
	if !on {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// pollNow reads the responses that have arrived, without waiting; it does
// nothing while the poll goroutine is polling.
func (d *leanDriver) pollNow() {
	if d.pollMu.TryLock() {
		d.pollOnce(0)
		d.pollMu.Unlock()
	}
}

// pollOnce waits up to timeoutMs for sockets to be readable, reads them,
// and sweeps every pollTick. It reports whether the driver is done (closed,
// every socket closed). d.pollMu is held.
func (d *leanDriver) pollOnce(timeoutMs int) (done bool) {
	if d.epfd < 0 {
		return true // the poll goroutine is done
	}
	n, err := unix.EpollWait(d.epfd, d.events, timeoutMs)
	if err != nil && !errors.Is(err, unix.EINTR) {
		// Cannot happen with a valid epoll set; if it does, no response
		// can be read any more: cut every connection, as close does.
		d.failAll(fmt.Errorf("lean driver: epoll: %w", err))
		n = 0
	}
	for _, ev := range d.events[:max(n, 0)] {
		d.mu.Lock()
		c := d.byFD[int(ev.Fd)]
		d.mu.Unlock()
		if c != nil {
			c.readable()
		}
	}
	if now := d.now(); now-d.lastSweep >= pollTick || (n <= 0 && timeoutMs > 0) {
		d.lastSweep = now
		return d.sweep(now)
	}
	return false
}

// pollTick is how often the pollers check for timeouts and stragglers.
const pollTick = 5 * time.Millisecond

// readable reads what arrived on c (one read: the set is level-triggered,
// so more data wakes the poller again) and completes the responses it ends.
func (c *leanConn) readable() {
	if len(c.in) == cap(c.in) {
		// Room for more: small at first, grown for long heads (the parser
		// consumes bodies as they come, so they never need the room).
		c.in = append(c.in, make([]byte, max(16<<10, cap(c.in)))...)[:len(c.in)]
	}
	n, err := unix.Read(c.fd, c.in[len(c.in):cap(c.in)])
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return
	}
	if n <= 0 {
		if err == nil {
			err = errEOF
		}
		c.end(err)
		return
	}
	c.in = c.in[:len(c.in)+n]
	c.parse()
}

// errEOF is the end of a connection, seen by the poller.
var errEOF = errors.New("connection closed by the target")

// parse completes the responses whole in c.in, in order.
func (c *leanConn) parse() {
	d := c.d
	for len(c.in) > 0 {
		d.mu.Lock()
		if len(c.inflight) == 0 {
			d.mu.Unlock()
			c.end(fmt.Errorf("%w: %d bytes before any request", errProtocol, len(c.in)))
			return
		}
		p := c.inflight[0]
		d.mu.Unlock()
		used, done, err := c.parser.feed(c.in, p.method)
		c.in = c.in[:copy(c.in, c.in[used:])]
		if err != nil {
			c.end(err)
			return
		}
		if !done {
			return
		}
		if !c.complete(p) {
			return
		}
	}
}

// complete hands the response the parser just ended to p, the first
// request in flight on c, and reports whether c can carry more.
func (c *leanConn) complete(p *pending) bool {
	d := c.d
	p.end = d.now()
	p.result.Status = int32(c.parser.status)
	p.result.BytesIn = c.parser.n
	keepAlive := c.parser.keepAlive
	c.parser.reset()
	d.mu.Lock()
	c.inflight = c.inflight[1:]
	c.used = true
	c.n--
	last := c.n == 0
	if last && d.bySession[c.sess] == c {
		delete(d.bySession, c.sess)
	}
	d.mu.Unlock()
	p.done(p)
	if !keepAlive {
		c.end(errEOF)
		return false
	}
	if last {
		d.release(c)
	}
	return true
}

// end finishes c after err (the target closed it, a malformed response, a
// timeout, or c broken by the driver): a response running to the end of the
// connection is complete; the first request in flight fails with err's
// class, or is sent again if the target closed an idle keep-alive
// connection before answering; the others fail as reset. Then the socket is
// closed. Only the poller calls it.
func (c *leanConn) end(err error) {
	d := c.d
	if errors.Is(err, errEOF) && c.parser.eof() {
		d.mu.Lock()
		p := c.inflight[0]
		d.mu.Unlock()
		c.complete(p) // keep-alive is false: it ends c again, with nothing in flight
		return
	}
	c.broken()
	d.mu.Lock()
	rest := c.inflight
	c.inflight = nil
	delete(d.byFD, c.fd)
	stopped := d.stopped
	d.mu.Unlock()
	unix.EpollCtl(d.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	c.wmu.Lock()
	unix.Close(c.fd)
	c.fd = -1
	c.wmu.Unlock()
	for i, p := range rest {
		p.end = d.now()
		switch {
		case i > 0:
			d.fail(p, schema.ErrReset)
		case errors.Is(err, errEOF) && c.used && !c.parser.started() && !p.retry && len(rest) == 1 && !stopped:
			// The server closed an idle keep-alive connection as this
			// request arrived: send it once more on a new connection.
			p.retry = true
			d.mu.Lock()
			c.n--
			d.mu.Unlock()
			d.send(p)
		default:
			d.fail(p, classify(err, stopped))
		}
	}
	c.parser = respParser{}
}

// sweep times out the requests waiting too long for their response and
// reports whether the poller is done: the driver closed and every socket
// closed.
func (d *leanDriver) sweep(now time.Duration) (done bool) {
	d.mu.Lock()
	var late []*leanConn
	for _, c := range d.byFD {
		if c.dead || (len(c.inflight) > 0 && now-c.inflight[0].sent > d.timeout) {
			late = append(late, c)
		}
	}
	done = d.stopped && len(d.byFD) == 0
	d.mu.Unlock()
	for _, c := range late {
		if c.dead {
			c.end(errCanceled)
		} else {
			c.end(errTimeout)
		}
	}
	return done
}

// errCanceled ends a connection the driver broke.
var errCanceled = errors.New("connection closed by the replay")

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
