package replay

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/surge-replay/surge/schema"
)

// wsEngine runs a run's WebSocket connections: one goroutine per scheduled
// connection (its reader), its client messages written from timer
// callbacks, so an idle connection costs one parked goroutine.
type wsEngine struct {
	r      *run
	cfg    *WSConfig
	conns  *WSConns
	client *http.Client
	base   string // ws://host[:port] or wss://…
	ctx    context.Context
	cancel context.CancelFunc
	stats  *WSStats
	timers wsTimers
	storms *wsStorms // nil without storms
}

// newWSEngine returns the engine for r, or nil when r replays no WebSocket.
func newWSEngine(ctx context.Context, r *run) *wsEngine {
	c := r.cfg.WebSocket
	if c == nil {
		return nil
	}
	e := &wsEngine{r: r, cfg: c, conns: c.Conns, stats: newWSStats()}
	if e.conns == nil {
		e.conns = NewWSConns()
	}
	scheme := "ws://"
	if r.cfg.Target.Scheme == "https" {
		scheme = "wss://"
	}
	e.base = scheme + r.cfg.Target.Host
	dialer := &net.Dialer{Timeout: r.cfg.timeout()}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			t0 := time.Now()
			c, err := dialer.DialContext(ctx, network, addr)
			if tr, ok := ctx.Value(dialTraceKey{}).(*dialTrace); ok {
				tr.connect, tr.err = time.Since(t0), err
			}
			return c, err
		},
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: r.cfg.Insecure},
		DisableKeepAlives: true,
		ForceAttemptHTTP2: false,
	}
	e.client = &http.Client{Transport: tr}
	e.timers = goTimers{r.clk}
	if !r.cfg.GoClock && leanSupported {
		// Linux: messages paced by a precise clock of their own.
		if p, err := newWSPacer(r.clk.wall(0)); err == nil {
			e.timers = p
		}
	}
	e.ctx, e.cancel = context.WithCancel(ctx)
	go func() {
		// A stop closes every connection with 1001 (going away); a
		// canceled context cuts them.
		select {
		case <-r.stopCh:
			e.closeAll()
		case <-e.ctx.Done():
		}
	}()
	e.startStorms()
	return e
}

// dialTrace receives the TCP connect time of a handshake.
type dialTrace struct {
	connect time.Duration
	err     error
}

type dialTraceKey struct{}

// close cuts whatever is still open and stops the timers.
func (e *wsEngine) close() {
	e.cancel()
	e.timers.close()
}

func (e *wsEngine) closeAll() {
	e.conns.mu.Lock()
	var live []*wsConn
	for c := range e.conns.live {
		if c.e == e {
			live = append(live, c)
		}
	}
	e.conns.mu.Unlock()
	for _, c := range live {
		c.end(schema.WSCloseStop, int(websocket.StatusGoingAway), nil, true)
	}
}

// wsConn is one open connection attempt.
type wsConn struct {
	e       *wsEngine
	class   string
	key     string
	hash    uint64
	c       *websocket.Conn
	mu      sync.Mutex
	closeBy string  // who ended it, once decided
	code    int     // the close code sent, when we closed
	backoff Backoff // Drop's policy for the reconnect
	timer   func()  // stops the pending timed callback; nil none
}

// end decides who ends c (the first caller wins) and closes it: with a close
// frame (graceful), or abruptly (CloseNow). It reports whether it was first.
func (c *wsConn) end(by string, code int, backoff Backoff, graceful bool) bool {
	c.mu.Lock()
	if c.closeBy != "" {
		c.mu.Unlock()
		return false
	}
	c.closeBy, c.code, c.backoff = by, code, backoff
	if c.timer != nil {
		c.timer()
	}
	c.mu.Unlock()
	if graceful {
		go c.c.Close(websocket.StatusCode(code), "")
	} else {
		c.c.CloseNow()
	}
	return true
}

// drop is Drop's: an abrupt close, then a reconnect by backoff.
func (c *wsConn) drop(backoff Backoff) bool {
	return c.end(schema.WSCloseDrop, int(websocket.StatusAbnormalClosure), backoff, false)
}

// start takes p, an upgrade the pacer handed over (it is in flight).
func (e *wsEngine) start(p *pending) { go e.session(p) }

// session runs a scheduled connection and its reconnects; each attempt is
// completed as a result of its own.
//
// A client reconnects after a drop (by Drop's policy), after the target
// closed or broke its connection, or after a failed reconnect (by
// WSConfig's policy), as long as its recorded life has not ended. Its
// policy sees the failures since its last open connection: 1 for the first
// reconnect after a connection was up, 2 after that one failed, and so on.
func (e *wsEngine) session(p *pending) {
	r := e.r
	s := p.ws
	base := p.at // offsets of the messages count from the scheduled upgrade
	chk := newWSChecker(s.check)
	chk.stats = e.stats
	var policy Backoff // the policy in force: Drop's or the config's
	failures := 0
	for attempt := 0; ; attempt++ {
		opened, then := e.attempt(p, base, attempt, chk)
		switch {
		case opened && then != nil:
			policy, failures = then, 0
		case opened:
			policy = nil // ended as recorded (or stopped)
		case attempt == 0:
			policy = e.cfg.reconnect() // the first handshake failed
		}
		if r.stopping.Load() || e.ctx.Err() != nil || r.clk.now() >= base+s.life(r.cfg.timeout()) {
			policy = nil
		}
		if policy != nil {
			// Hold the run open for the reconnect: p's completion may
			// be the last in flight.
			r.inflight.Add(1)
		}
		// The collector owns p once done: keep what a reconnect copies.
		tmpl := *p
		p.done(p)
		if policy == nil {
			return
		}
		failures++
		d, ok := policy(failures)
		if !ok {
			e.stats.gaveUp.Add(1)
			r.inflight.Done()
			return
		}
		e.stats.reconnects.Add(1)
		if !e.sleep(d) {
			r.inflight.Done()
			return
		}
		next := &pending{at: r.clk.now(), vsess: tmpl.vsess, method: tmpl.method, target: tmpl.target, host: tmpl.host,
			headers: tmpl.headers, ws: s, sent: -1, assigned: -1, done: tmpl.done, result: tmpl.result}
		next.result.WebSocket = schema.WebSocket{WS: true, WSAttempt: int32(attempt + 1)}
		next.result.Status, next.result.Error, next.result.Detail = 0, "", ""
		next.handed, next.inflight = next.at, true // the hold above
		p = next
	}
}

// life is how long after its scheduled upgrade a connection's recorded
// life lasts: to its recorded end, and when the server closed in the
// recording, the wait for the target's close beyond it.
func (s *wsScript) life(wait time.Duration) time.Duration {
	if s.waitPeer {
		return s.end + wait
	}
	return s.end
}

// reconnect returns a client's policy after the target closed its
// connection or its first handshake failed: a new one from NewReconnect,
// else Reconnect (nil: none).
func (c *WSConfig) reconnect() Backoff {
	if c.NewReconnect != nil {
		return c.NewReconnect()
	}
	return c.Reconnect
}

// sleep waits d, or until the run stops; false when it stopped.
func (e *wsEngine) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.r.stopCh:
	case <-e.ctx.Done():
	}
	return false
}

// attempt opens one connection and runs it to its end. It reports whether
// the connection opened, and the policy to reconnect by after it ended
// (Drop's, or the config's when the target closed it; nil for none).
func (e *wsEngine) attempt(p *pending, base time.Duration, attempt int, chk *wsChecker) (bool, Backoff) {
	r := e.r
	s := p.ws
	res := &p.result
	tr := &dialTrace{}
	ctx := context.WithValue(e.ctx, dialTraceKey{}, tr)
	dctx, cancel := context.WithTimeout(ctx, r.cfg.timeout())
	defer cancel()
	start := r.clk.now()
	opts := &websocket.DialOptions{HTTPClient: e.client, HTTPHeader: s.header, Subprotocols: s.protocols, Host: p.host}
	c, resp, err := websocket.Dial(dctx, e.base+p.target, opts)
	p.end = r.clk.now()
	p.connect, p.conn = tr.connect, schema.ConnNew
	p.assign(start, schema.ConnNew)
	if tr.err == nil && tr.connect > 0 {
		p.sent = start + tr.connect
	}
	if resp != nil {
		res.Status = int32(resp.StatusCode)
	}
	if err != nil {
		e.dialFailed(p, tr, resp, err)
		return false, nil
	}
	p.sent = max(p.sent, start)
	c.SetReadLimit(positive(e.cfg.ReadLimit, 1<<20))
	wc := &wsConn{e: e, c: c, class: s.class, key: p.vsess, hash: connHash(p.vsess, p.result.Clone, attempt)}
	e.conns.add(wc)
	defer e.conns.remove(wc)
	opened := r.clk.now()
	chk.reconnected(attempt)
	w := &wsWriter{e: e, wc: wc, s: s, base: base, res: res}
	w.first(opened, attempt)
	silence := chk.watchSilence(wc)
	if r.stopping.Load() {
		// The run stopped while this one dialed.
		wc.end(schema.WSCloseStop, int(websocket.StatusGoingAway), nil, true)
	}
	for {
		n, data, err := e.read(c, chk.c != nil)
		if err != nil {
			e.ended(wc, res, err)
			break
		}
		res.WSFramesIn++
		res.WSBytesIn += n
		if data != nil {
			chk.frame(data, time.Now())
		}
	}
	if silence != nil {
		silence.Stop()
	}
	w.stop()
	res.WSDurationNS = int64(r.clk.now() - opened)
	chk.fill(res)
	w.fill(res)
	switch wc.closeBy {
	case schema.WSCloseDrop:
		return true, wc.backoff
	case schema.WSCloseTarget:
		return true, e.targetReconnect(wc)
	}
	return true, nil
}

// read reads one message: whole when keep (a check reads it), else
// counted and discarded as it arrives.
func (e *wsEngine) read(c *websocket.Conn, keep bool) (int64, []byte, error) {
	if keep {
		_, data, err := c.Read(e.ctx)
		return int64(len(data)), data, err
	}
	_, rd, err := c.Reader(e.ctx)
	if err != nil {
		return 0, nil, err
	}
	n, err := io.Copy(io.Discard, rd)
	return n, nil, err
}

// ended records how the connection ended after Read failed with err.
func (e *wsEngine) ended(wc *wsConn, res *schema.Result, err error) {
	code := int(websocket.CloseStatus(err))
	if code < 0 {
		code = int(websocket.StatusAbnormalClosure) // no close frame
	}
	if wc.end(schema.WSCloseTarget, code, nil, false) {
		res.WSCloseBy, res.WSCloseCode = schema.WSCloseTarget, int32(code)
		if code == int(websocket.StatusAbnormalClosure) && !errors.Is(err, context.Canceled) {
			res.Detail = err.Error()
		}
		return
	}
	wc.mu.Lock()
	res.WSCloseBy, res.WSCloseCode = wc.closeBy, int32(wc.code)
	wc.mu.Unlock()
}

// dialFailed classes a failed handshake: a connect error, a timeout, or a
// refused upgrade (any status but 101 is the target's answer, kept as its
// status).
func (e *wsEngine) dialFailed(p *pending, tr *dialTrace, resp *http.Response, err error) {
	res := &p.result
	switch {
	case tr.err != nil:
		res.Error, res.Detail = schema.ErrConnect, connectDetail(tr.err)
		p.sent = -1
	case errors.Is(err, context.DeadlineExceeded):
		res.Error = schema.ErrTimeout
	case errors.Is(err, context.Canceled):
		res.Error = schema.ErrCanceled
	case resp != nil && resp.StatusCode != http.StatusSwitchingProtocols:
		// An answer, not a failure of ours: the status says it.
	default:
		res.Error, res.Detail = schema.ErrProtocol, err.Error()
	}
	if p.sent < 0 && res.Error != schema.ErrConnect {
		p.sent = p.handed
	}
}

// connectDetail names a connect error by its errno when it has one.
func connectDetail(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "connect timeout"
	}
	return err.Error()
}

// wsWriter writes a connection's client messages at their offsets, from
// timer callbacks (one at a time: each arms the next).
type wsWriter struct {
	e     *wsEngine
	wc    *wsConn
	s     *wsScript
	base  time.Duration
	res   *schema.Result
	next  int
	late  []int64
	mu    sync.Mutex // guards res counters written by callbacks, late
	done  bool       // stopped: a callback still running must not touch res
	bytes int64
}

// first skips the messages whose time passed while the client was
// reconnecting (counted in WSSkipped) and arms the timer for the rest.
func (w *wsWriter) first(now time.Duration, attempt int) {
	for attempt > 0 && w.next < len(w.s.out) && w.base+w.s.out[w.next].at < now {
		w.next++
		w.res.WSSkipped++
	}
	w.res.WSSkipped += w.s.skipped
	w.arm(now)
}

// arm sets the timer for the next message, or for the recorded end.
func (w *wsWriter) arm(now time.Duration) {
	at := w.base + w.s.end
	if w.next < len(w.s.out) {
		at = w.base + w.s.out[w.next].at
	} else if w.s.waitPeer {
		// The target closed in the recording: give it the request
		// timeout past the recorded end to do so again.
		at += w.e.r.cfg.timeout()
	}
	w.wc.mu.Lock()
	defer w.wc.mu.Unlock()
	if w.wc.closeBy != "" {
		return
	}
	w.wc.timer = w.e.timers.at(at, w.fire)
}

// fire sends what is due, then arms the next timer or ends the connection.
func (w *wsWriter) fire() {
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done {
		return
	}
	r := w.e.r
	now := r.clk.now()
	for w.next < len(w.s.out) && w.base+w.s.out[w.next].at <= now+earlySend {
		m := &w.s.out[w.next]
		w.next++
		late := int64(r.clk.now() - (w.base + m.at))
		// No deadline of its own: a write blocked on a target that stopped
		// reading ends when the connection does (closed by the target, a
		// drop, the stop, or the recorded end's close timing out).
		err := w.wc.c.Write(w.e.ctx, m.typ, m.data)
		if err != nil {
			return // the reader sees the connection end
		}
		w.mu.Lock()
		if w.done {
			// The connection ended while this wrote: its row is
			// being completed without it.
			w.mu.Unlock()
			return
		}
		w.late = append(w.late, late)
		w.res.WSFramesOut++
		w.res.WSBytesOut += int64(len(m.data))
		w.mu.Unlock()
		now = r.clk.now()
	}
	if w.next < len(w.s.out) || now < w.base+w.s.end || (w.s.waitPeer && now < w.base+w.s.end+r.cfg.timeout()) {
		w.arm(now)
		return
	}
	w.wc.end(schema.WSCloseClient, w.s.closeCode, nil, true)
}

// stop ends the writer (the connection is closed).
func (w *wsWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
	w.wc.mu.Lock()
	if w.wc.timer != nil {
		w.wc.timer()
	}
	w.wc.mu.Unlock()
}

// fill puts the send lateness into res and the run's histogram.
func (w *wsWriter) fill(res *schema.Result) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.late) == 0 {
		return
	}
	slices.Sort(w.late)
	res.WSLateP99NS = w.late[min(len(w.late)-1, int(float64(len(w.late))*0.99))]
	res.WSLateMaxNS = w.late[len(w.late)-1]
	w.e.stats.addLateness(w.late)
}
