package capture

import (
	"container/heap"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/surge-replay/surge/schema"
)

// tapEvent is what the request path hands the recorder: a raw exchange
// (hit) or a WebSocket message (frame) of a connection (conn).
type tapEvent struct {
	at    time.Time
	hit   *Hit
	frame *schema.Frame
	conn  *wsConn
	end   bool // conn closed (at)
}

// wsConn is a WebSocket connection as the recorder knows it. Only the
// recorder goroutine touches its fields.
type wsConn struct {
	state   wsState
	session string
	id      string
	seq     int32
	// pending is the upgrade exchange, held until the connection closes
	// when the output accepts late exchanges (TapLateOutput).
	pending *schema.Exchange
	// closedAt is when the client connection closed (UnixNano; 0 while
	// open), set by the request path, read by the recorder at shutdown.
	closedAt atomic.Int64
}

type wsState int8

const (
	wsUnknown    wsState = iota // its upgrade was not recorded (dropped)
	wsRecorded                  // its upgrade was recorded: frames follow it
	wsSampledOut                // its user is outside the sample
)

// tapRecorder is the Tap's single consumer: it holds events for the
// re-order window, then sessionizes, samples, scrubs and writes them in
// request-start order. It owns the Scrubber and sessionizer (neither is safe
// for concurrent use).
type tapRecorder struct {
	t         *Tap
	out       TapOutput
	scrub     *Scrubber
	sess      *sessionizer
	all       bool   // no sampling
	threshold uint64 // keep a user whose hash is below
	window    time.Duration
	maxHeld   int
	pending   tapHeap
	arrivals  uint64
	released  time.Time            // the latest event time written
	late      bool                 // the output accepts late exchanges
	open      map[*wsConn]struct{} // connections whose upgrade is pending
}

func newTapRecorder(t *Tap) *tapRecorder {
	r := &tapRecorder{
		t:       t,
		out:     t.cfg.Output,
		scrub:   NewScrubber(t.cfg.Scrub),
		window:  cmp0(t.cfg.ReorderWindow, DefaultTapReorderWindow),
		maxHeld: cmp0(t.cfg.QueueSize, DefaultTapQueue),
	}
	r.sess = newSessionizer(t.cfg.Session, t.cfg.IdleGap, r.scrub)
	if lo, ok := r.out.(TapLateOutput); ok && lo.AcceptsLate() {
		r.late, r.open = true, map[*wsConn]struct{}{}
	}
	s := t.cfg.Sample
	r.all = s <= 0 || s >= 1
	if !r.all {
		r.threshold = uint64(s * math.Exp2(64))
	}
	return r
}

// run records until the Tap closes, then drains the queue and closes the
// output.
func (r *tapRecorder) run() {
	t := r.t
	defer close(t.done)
	every := cmp0(t.cfg.FlushInterval, DefaultTapFlushInterval)
	tick := time.NewTicker(min(every, 100*time.Millisecond))
	defer tick.Stop()
	lastFlush := time.Now()
	for {
		select {
		case ev := <-t.q:
			r.push(ev)
		case now := <-tick.C:
			r.release(now.Add(-r.window))
			if now.Sub(lastFlush) >= every {
				r.flush()
				lastFlush = now
			}
		case <-t.stop:
			for {
				select {
				case ev := <-t.q:
					r.push(ev)
					continue
				default:
				}
				break
			}
			r.release(time.Unix(math.MaxInt32, 0))
			// Connections still open were closed by Tap.Close, now.
			for c := range r.open {
				r.endConn(c, time.Now())
			}
			if err := r.out.Close(t.Loss()); err != nil {
				t.m.outputErrors.Add(1)
				t.err = err
				r.logf("capture: closing the output: %v", err)
			}
			return
		}
	}
}

func (r *tapRecorder) push(ev tapEvent) {
	r.arrivals++
	heap.Push(&r.pending, heldEvent{ev, r.arrivals})
	for r.pending.Len() > r.maxHeld {
		r.write(heap.Pop(&r.pending).(heldEvent).tapEvent)
	}
}

// release writes the held events that started before horizon.
func (r *tapRecorder) release(horizon time.Time) {
	for r.pending.Len() > 0 && r.pending[0].at.Before(horizon) {
		r.write(heap.Pop(&r.pending).(heldEvent).tapEvent)
	}
}

func (r *tapRecorder) flush() {
	// A close whose event the full queue refused: write its upgrade now.
	for c := range r.open {
		if ns := c.closedAt.Load(); ns != 0 && time.Since(time.Unix(0, ns)) > r.window {
			r.endConn(c, time.Unix(0, ns))
		}
	}
	lost, err := r.out.Flush(r.t.Loss())
	if n := lost.Exchanges + lost.Frames; n > 0 {
		// They were counted as written when the output accepted them.
		r.t.m.exchanges.Add(-lost.Exchanges)
		r.t.m.frames.Add(-lost.Frames)
		r.t.m.dropN(dropOutput, n)
	}
	if err != nil {
		r.t.m.outputErrors.Add(1)
		r.logf("capture: flushing the output: %v", err)
	}
}

func (r *tapRecorder) write(ev tapEvent) {
	m := r.t.m
	if ev.at.Before(r.released) {
		m.late.Add(1)
	} else {
		r.released = ev.at
	}
	if ev.hit != nil {
		r.exchange(ev.hit, ev.conn)
		return
	}
	if ev.end {
		r.endConn(ev.conn, ev.at)
		return
	}
	r.frame(ev.frame, ev.conn)
}

func (r *tapRecorder) exchange(h *Hit, conn *wsConn) {
	m := r.t.m
	kind, a, b := r.sess.rawKey(h)
	if !r.keep(kind, a, b) {
		m.sampledOut.Add(1)
		if conn != nil {
			conn.state = wsSampledOut
		}
		return
	}
	e := &h.Exchange
	if kind == "key" && r.sess.key.Kind == "jwt" {
		h.UserID = a // the sub claim names the user
	}
	r.sess.assign(h)
	r.scrub.Exchange(e)
	if errs := e.Validate(); len(errs) > 0 {
		// A request Go's server accepted is valid; this is a bug, and
		// the event is lost rather than written wrong.
		m.drop(dropOutput)
		r.logf("capture: invalid exchange (not written): %v", joinErrs(errs))
		return
	}
	if conn != nil {
		conn.state, conn.session = wsRecorded, e.Session
		conn.id = e.Session + "#" + strconv.Itoa(int(e.Seq))
		if r.late {
			conn.pending = e
			r.open[conn] = struct{}{}
			return
		}
	}
	if err := r.out.AddExchange(e); err != nil {
		r.outputFailed(err)
		return
	}
	m.exchanges.Add(1)
}

// endConn writes the held upgrade exchange of a closed connection, with
// how long the connection lasted (from the upgrade request's start to the
// close; at, unless the request path saw the close earlier).
func (r *tapRecorder) endConn(c *wsConn, at time.Time) {
	delete(r.open, c)
	e := c.pending
	if e == nil {
		return
	}
	c.pending = nil
	if ns := c.closedAt.Load(); ns != 0 {
		at = time.Unix(0, ns)
	}
	e.ConnectionNS = schema.Int64(max(0, int64(at.Sub(e.Time))))
	if err := r.out.AddExchange(e); err != nil {
		r.outputFailed(err)
		return
	}
	r.t.m.exchanges.Add(1)
}

func (r *tapRecorder) frame(f *schema.Frame, conn *wsConn) {
	m := r.t.m
	switch conn.state {
	case wsSampledOut:
		m.sampledOut.Add(1)
		return
	case wsUnknown:
		m.drop(dropNoConn)
		return
	}
	f.Session, f.Conn, f.Seq = conn.session, conn.id, conn.seq
	conn.seq++
	if len(f.Payload) > 0 && (f.Opcode == schema.OpText || f.Opcode == schema.OpBinary) {
		n := len(f.Payload)
		f.Payload = r.scrub.body(f.Payload)
		if !f.PayloadTruncated {
			f.PayloadSize += int64(len(f.Payload) - n)
		}
	}
	if err := r.out.AddFrame(f); err != nil {
		r.outputFailed(err)
		return
	}
	m.frames.Add(1)
}

// keep says whether a user key is in the sample: its keyed hash (the scrub
// key, so every tap sharing the key keeps the same users) below the
// threshold.
func (r *tapRecorder) keep(kind, a, b string) bool {
	if r.all {
		return true
	}
	h := r.scrub.Hash("k", kind+"\x00"+a+"\x00"+b)
	v, err := strconv.ParseUint(h[2:], 16, 64)
	return err == nil && v < r.threshold
}

// outputFailed counts an event the output refused, logging the first
// error and then one in 1000.
func (r *tapRecorder) outputFailed(err error) {
	m := r.t.m
	m.drop(dropOutput)
	if n := m.outputErrors.Add(1); n == 1 || n%1000 == 0 {
		r.logf("capture: output failed (%d times so far; events are dropped, traffic is not affected): %v", n, err)
	}
}

func (r *tapRecorder) logf(format string, args ...any) {
	if l := r.t.cfg.ErrorLog; l != nil {
		l.Printf(format, args...)
		return
	}
	stdLogf(format, args...)
}

// heldEvent is an event waiting in the re-order window, with its arrival
// number to keep events of equal time in arrival order.
type heldEvent struct {
	tapEvent
	n uint64
}

type tapHeap []heldEvent

func (h tapHeap) Len() int { return len(h) }
func (h tapHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].n < h[j].n
}
func (h tapHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *tapHeap) Push(x any)   { *h = append(*h, x.(heldEvent)) }
func (h *tapHeap) Pop() any {
	old := *h
	n := len(old) - 1
	x := old[n]
	old[n] = heldEvent{}
	*h = old[:n]
	return x
}
