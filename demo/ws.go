package demo

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// feed is one of the WebSocket feeds.
type feed uint8

const (
	feedChat    feed = iota // chat messages and presence counts of an event
	feedViewers             // the viewer count of an event
)

func (f feed) String() string {
	if f == feedViewers {
		return "viewers"
	}
	return "chat"
}

// wsRoute maps a WebSocket path to its feed and event.
func wsRoute(path string) (f feed, event string, ok bool) {
	if e, ok := strings.CutPrefix(path, "/ws/chat/"); ok && isSegment(e) {
		return feedChat, e, true
	}
	if e, ok := strings.CutPrefix(path, "/ws/viewers/"); ok && isSegment(e) {
		return feedViewers, e, true
	}
	return 0, "", false
}

// RestartPath is the demo's control that imitates a restart of its feed
// servers: POST it (?down=2s) and every open WebSocket is closed with code
// 1012 (Service Restart), and upgrades get 503 for down (default 0).
const RestartPath = "/_demo/restart"

// hub is the WebSocket side of a Server: the registry of open sockets, the
// accept limits, the feeds' clock and the counters. Safe for concurrent
// use.
type hub struct {
	cfg      WSConfig
	seed     uint64
	now      func() time.Time // the wall clock frames are stamped with
	epoch    time.Time        // feed sequence 0 (runtime clock)
	maxConns int              // 0: no limit
	stop     <-chan struct{}

	mu        sync.Mutex
	bucket    bucket
	downUntil time.Time
	conns     map[*wsConn]struct{}
	perEvent  map[string]*[2]int // open sockets per event and feed
	peak      int
	st        WSStats

	framesOut atomic.Int64
	framesIn  atomic.Int64
}

// wsConn is one open feed socket.
type wsConn struct {
	c      *websocket.Conn
	cancel context.CancelFunc
	code   atomic.Int32 // close code to use when cancelled from outside
}

func newHub(cfg WSConfig, seed uint64, now func() time.Time, stop <-chan struct{}) *hub {
	rate, burst := cfg.acceptRate()
	return &hub{
		cfg:      cfg,
		seed:     seed,
		now:      now,
		epoch:    time.Now(),
		maxConns: cfg.maxConns(),
		stop:     stop,
		bucket:   bucket{rate: rate, burst: float64(burst)},
		conns:    map[*wsConn]struct{}{},
		perEvent: map[string]*[2]int{},
	}
}

// serve upgrades r to a feed socket, within the hub's limits, and sends the
// feed until the client or the server closes it.
func (h *hub) serve(w http.ResponseWriter, r *http.Request, f feed, event string) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeBytes(w, http.StatusMethodNotAllowed, contentJSON, bodyNotAllowed)
		return
	}
	if !h.admit() {
		w.Header().Set("Retry-After", "1")
		writeBytes(w, http.StatusServiceUnavailable, contentJSON, bodyOverloaded)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		h.count(func(st *WSStats) { st.BadUpgrades++ })
		return // Accept wrote the error response
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wc := &wsConn{c: c, cancel: cancel}
	if ok, closing := h.add(wc, f, event); !ok {
		if closing {
			c.Close(websocket.StatusGoingAway, "server closing")
		} else {
			c.Close(websocket.StatusTryAgainLater, "too many connections")
		}
		return
	}
	defer h.remove(wc, f, event)
	// The reader's context is not the sender's: cancelling a read makes
	// the library close the socket at once, and a restart must close it
	// with its code.
	go h.read(context.Background(), wc)
	h.send(ctx, wc, f, event) // until the client, a restart or Close ends it
	switch code := websocket.StatusCode(wc.code.Load()); code {
	case 0: // the client closed or went away, or a write failed
		c.CloseNow()
	case websocket.StatusServiceRestart:
		c.Close(code, "service restart")
	default: // the server is closing
		c.Close(code, "server closing")
	}
}

// admit takes a handshake token, unless the server is down after a restart
// or at its accept rate.
func (h *hub) admit() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	h.st.Upgrades++
	if now.Before(h.downUntil) {
		h.st.RefusedDown++
		return false
	}
	if !h.bucket.allow(now) {
		h.st.RefusedRate++
		return false
	}
	return true
}

// add registers an accepted socket, or reports that the server is full or
// closing.
func (h *hub) add(wc *wsConn, f feed, event string) (ok, closing bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.stop:
		return false, true
	default:
	}
	if h.maxConns > 0 && len(h.conns) >= h.maxConns {
		h.st.ClosedFull++
		return false, false
	}
	h.conns[wc] = struct{}{}
	n := h.perEvent[event]
	if n == nil {
		n = new([2]int)
		h.perEvent[event] = n
	}
	n[f]++
	h.st.Accepted++
	h.peak = max(h.peak, len(h.conns))
	return true, false
}

func (h *hub) remove(wc *wsConn, f feed, event string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, wc)
	if n := h.perEvent[event]; n != nil {
		n[f]--
	}
	h.st.Closed++
}

// open returns how many sockets of feed f are open on event.
func (h *hub) open(event string, f feed) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := h.perEvent[event]; n != nil {
		return n[f]
	}
	return 0
}

func (h *hub) count(f func(*WSStats)) {
	h.mu.Lock()
	f(&h.st)
	h.mu.Unlock()
}

// read reads and counts what the client sends (chat messages; pings are
// answered by the library) until the socket ends, which ends the feed.
func (h *hub) read(ctx context.Context, wc *wsConn) {
	defer wc.cancel()
	for {
		if _, _, err := wc.c.Read(ctx); err != nil {
			return
		}
		h.framesIn.Add(1)
	}
}

// closeAll closes every open socket with code (1012 on a restart, 1001 on
// Close) and refuses upgrades for down.
func (h *hub) closeAll(code websocket.StatusCode, down time.Duration) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if down > 0 {
		h.downUntil = time.Now().Add(down)
	}
	for wc := range h.conns {
		wc.code.Store(int32(code))
		wc.cancel()
	}
	return len(h.conns)
}

// restart serves RestartPath.
func (h *hub) restart(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeBytes(w, http.StatusMethodNotAllowed, contentJSON, bodyNotAllowed)
		return
	}
	var down time.Duration
	if v := r.URL.Query().Get("down"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Hour {
			writeBytes(w, http.StatusBadRequest, contentJSON, []byte(`{"error":"down: want a duration from 0 to 1h, like 2s"}`))
			return
		}
		down = d
	}
	n := h.closeAll(websocket.StatusServiceRestart, down)
	h.count(func(st *WSStats) { st.Restarts++ })
	writeBytes(w, http.StatusOK, contentJSON, []byte(`{"closed":`+strconv.Itoa(n)+`,"down_ms":`+strconv.FormatInt(down.Milliseconds(), 10)+`}`))
}

// stats returns the WebSocket counters.
func (h *hub) stats() WSStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.st
	st.Open = len(h.conns)
	st.Peak = h.peak
	st.MaxConns = h.maxConns
	st.AcceptRate = h.bucket.rate
	st.FramesSent = h.framesOut.Load()
	st.FramesReceived = h.framesIn.Load()
	return st
}

// errGone: the socket ended while a frame was due.
var errGone = errors.New("demo: socket gone")
