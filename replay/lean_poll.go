//go:build linux

package replay

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// The lean driver's sockets: dialing and writing them (the senders), and
// reading, timing out and closing them (the pollers: the pacer while it
// paces, the poll goroutine otherwise). lean.go decides which connection a
// request goes on.

// dialStart starts a non-blocking TCP connect to the target. connected is
// true when it completed at once; otherwise the socket becomes writable when
// it completes (or fails: SO_ERROR says why).
// With regions, the address is to (its region's answer) and the socket is
// bound to src first when src is valid (the region's source address).
func (d *leanDriver) dialStart(to netip.AddrPort, src netip.Addr) (fd int, connected bool, err error) {
	family, sa := d.family, unix.Sockaddr(nil)
	if to.IsValid() {
		family, sa = sockaddrOf(to)
	} else {
		sa = d.sockaddr()
	}
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, false, err
	}
	// As Go's own TCP connections: pipelined requests must not wait for
	// Nagle's algorithm.
	err = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err == nil && src.IsValid() {
		_, ssa := sockaddrOf(netip.AddrPortFrom(src, 0))
		err = unix.Bind(fd, ssa)
	}
	if err == nil {
		err = unix.Connect(fd, sa)
		if err == nil {
			return fd, true, nil
		}
		if errors.Is(err, unix.EINPROGRESS) {
			return fd, false, nil
		}
	}
	unix.Close(fd)
	return -1, false, err
}

// connectDone completes c's connect, its socket being writable (or in
// error): established, or its requests fail as connect errors. Only a
// poller calls it.
func (c *leanConn) connectDone() {
	d := c.d
	soerr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && soerr != 0 {
		err = unix.Errno(soerr)
	}
	if err == nil {
		err = unix.EpollCtl(d.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)})
	}
	if err != nil {
		c.end(err)
		return
	}
	c.established()
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

// sockaddrOf returns ap's address family and a fresh Sockaddr for it.
func sockaddrOf(ap netip.AddrPort) (int, unix.Sockaddr) {
	a := ap.Addr().Unmap()
	if a.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
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
	// Only pollers close sockets, and this one holds pollMu: the connections
	// looked up here stay open while it reads them.
	d.ready = d.ready[:0]
	d.readyConnecting = d.readyConnecting[:0]
	d.mu.Lock()
	for _, ev := range d.events[:max(n, 0)] {
		if c := d.byFD[int(ev.Fd)]; c != nil {
			d.ready = append(d.ready, c)
			d.readyConnecting = append(d.readyConnecting, c.connecting)
		}
	}
	d.mu.Unlock()
	for i, c := range d.ready {
		if d.readyConnecting[i] {
			c.connectDone()
		} else {
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
		// Per user there are many connections: start smaller.
		first := 16 << 10
		if c.d.perUser {
			first = 2 << 10
		}
		c.in = slices.Grow(c.in, max(first, cap(c.in)))
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
	var unsent []*pending
	connecting := c.connecting
	if connecting {
		// Never connected: its requests were never written.
		unsent, c.queue, c.connecting, c.opener = c.queue, nil, false, nil
	}
	delete(d.byFD, c.fd)
	stopped := d.stopped
	d.mu.Unlock()
	unix.EpollCtl(d.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	c.wmu.Lock()
	unix.Close(c.fd)
	c.fd = -1
	c.wmu.Unlock()
	if connecting {
		if errors.Is(err, errCanceled) {
			stopped = true
		}
		d.failConnect(unsent, err, stopped)
	}
	started := c.parser.started()
	for i, p := range rest {
		p.end = d.now()
		switch {
		case i == 0 && started:
			// A response was cut short (or malformed, or timed out).
			p.result.Detail = errDetail(err)
			d.fail(p, classify(err, stopped))
		case peerClosed(err) && (c.used || i > 0) && !p.retry && idempotent(p.method) && !stopped:
			// The target closed or reset a reused connection (or one whose
			// earlier response ended it) with p written and unanswered: p
			// is idempotent; send it once more, on another connection.
			d.mu.Lock()
			c.n--
			d.mu.Unlock()
			d.resend(p)
		default:
			p.result.Detail = errDetail(err)
			d.fail(p, classify(err, stopped))
		}
	}
	c.parser = respParser{}
	d.kick()
}

// peerClosed reports whether err is the target closing (FIN) or resetting
// the connection, as opposed to our timeout or stop or a malformed response.
func peerClosed(err error) bool {
	return errors.Is(err, errEOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE)
}

// sweep closes the sockets of broken connections at once; every
// timeoutTick it also times out the requests waiting too long for their
// response (or connection) and closes connections idle longer than
// idleTimeout. It reports whether the poller is done: the driver closed and
// every socket closed. The scan of every connection runs only every
// timeoutTick: it holds d.mu, which the pacer's sends take.
func (d *leanDriver) sweep(now time.Duration) (done bool) {
	d.mu.Lock()
	var dead, late, idle []*leanConn
	for _, c := range d.dead {
		if c.fd >= 0 && d.byFD[c.fd] == c {
			dead = append(dead, c)
		}
	}
	d.dead = d.dead[:0]
	if now-d.lastScan >= timeoutTick || d.stopped {
		d.lastScan = now
		for _, c := range d.byFD {
			switch {
			case c.dead:
				dead = append(dead, c)
			case c.connecting && now-c.dialAt > d.timeout:
				late = append(late, c)
			case len(c.inflight) > 0 && now-c.inflight[0].sent > d.timeout:
				late = append(late, c)
			case c.elem != nil && now-c.idleAt > idleTimeout:
				idle = append(idle, c)
			}
		}
	}
	done = d.stopped && len(d.byFD) == 0
	d.mu.Unlock()
	for _, c := range dead {
		c.end(errCanceled)
	}
	for _, c := range late {
		c.end(errTimeout)
	}
	for _, c := range idle {
		c.end(errCanceled)
	}
	return done
}

// timeoutTick is how often the pollers scan every connection for timeouts
// and idle connections; idleTimeout is how long a connection may sit idle
// before surge closes it (memory holds live users' connections only).
const (
	timeoutTick = 50 * time.Millisecond
	idleTimeout = 15 * time.Second
)

// errCanceled ends a connection the driver broke.
var errCanceled = errors.New("connection closed by the replay")
