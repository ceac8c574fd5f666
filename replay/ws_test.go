package replay

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// wsUpgrade is a recorded upgrade of session s (sequence 0) to path at t0.
func wsUpgrade(s, path string) *schema.Exchange {
	return &schema.Exchange{
		Time: t0, Session: s, Method: "GET", Path: path, Protocol: schema.ProtoWebSocket,
		Headers: []schema.Header{
			{Name: "Upgrade", Value: "websocket"}, {Name: "Connection", Value: "Upgrade"},
			{Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZSBub25jZQ=="}, {Name: "Sec-WebSocket-Version", Value: "13"},
			{Name: "X-Session", Value: s},
		},
	}
}

// wsScriptFrames records n client text messages "m0".."m<n-1>" of conn,
// step apart from offset first, then a client close at close (0: none),
// and k server messages in between.
func wsScriptFrames(x *FrameIndex, conn string, n int, first, step, close time.Duration, k int) {
	for i := 0; i < n; i++ {
		x.Add(&schema.Frame{Time: t0.Add(first + time.Duration(i)*step), Conn: conn, Direction: schema.FromClient,
			Opcode: schema.OpText, Payload: []byte("m" + strconv.Itoa(i))})
	}
	for i := 0; i < k; i++ {
		x.Add(&schema.Frame{Time: t0.Add(first + time.Duration(i)*step + time.Millisecond), Conn: conn, Direction: schema.FromServer,
			Opcode: schema.OpText, Payload: []byte(`{"seq":1}`)})
	}
	if close > 0 {
		x.Add(&schema.Frame{Time: t0.Add(close), Conn: conn, Direction: schema.FromClient, Opcode: schema.OpClose, Payload: []byte{0x03, 0xe8}})
	}
}

// wsArrival is a client message as the target saw it.
type wsArrival struct {
	msg string
	at  time.Time
}

// wsTarget is a loopback WebSocket server: it records the client messages
// of each connection (by X-Session) and their arrival offsets, and answers
// each with an echo.
type wsTarget struct {
	mu       sync.Mutex
	arrivals map[string][]wsArrival
	headers  map[string]http.Header
	feed     func(ctx context.Context, c *websocket.Conn) // nil: echo only
}

func newWSTarget(t *testing.T, feed func(ctx context.Context, c *websocket.Conn)) (*wsTarget, *url.URL) {
	w := &wsTarget{arrivals: map[string][]wsArrival{}, headers: map[string]http.Header{}, feed: feed}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(rw, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		s := r.Header.Get("X-Session")
		w.mu.Lock()
		w.headers[s] = r.Header.Clone()
		w.mu.Unlock()
		ctx := r.Context()
		if w.feed != nil {
			go w.feed(ctx, c)
		}
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			w.mu.Lock()
			w.arrivals[s] = append(w.arrivals[s], wsArrival{string(data), time.Now()})
			w.mu.Unlock()
			if w.feed == nil {
				if c.Write(ctx, typ, data) != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return w, u
}

// runWS replays reqs with frames against target (Go timers) and returns
// the results.
func runWS(t *testing.T, target *url.URL, reqs []shaper.Request, ws *WSConfig) ([]schema.Result, *Stats) {
	t.Helper()
	return runWSClock(t, target, reqs, ws, true)
}

// runWSClock is runWS with the precise clock (and the WebSocket pacer) when
// goClock is false.
func runWSClock(t *testing.T, target *url.URL, reqs []shaper.Request, ws *WSConfig, goClock bool) ([]schema.Result, *Stats) {
	t.Helper()
	var mu sync.Mutex
	var got []schema.Result
	st, err := Run(context.Background(), Config{Target: target, GoClock: goClock, WebSocket: ws, Started: func(s time.Time) { wsStart = s }}, &slice{reqs: reqs}, nil, func(r *schema.Result) {
		mu.Lock()
		got = append(got, *r)
		mu.Unlock()
	})
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	return got, st
}

// TestWSReplayInOrderAtOffsets: a recorded session's client messages reach
// the target in order, at their recorded offsets (within a bound a loaded
// machine keeps), the echoes are counted, and the connection closes as
// recorded; with Go timers and with the precise WebSocket pacer.
func TestWSReplayInOrderAtOffsets(t *testing.T) {
	t.Run("go-timers", func(t *testing.T) { testWSInOrder(t, true) })
	t.Run("precise", func(t *testing.T) { testWSInOrder(t, false) })
}

// wsStart is the start of the last runWS (Config.Started).
var wsStart time.Time

func testWSInOrder(t *testing.T, goClock bool) {
	tg, u := newWSTarget(t, nil)
	x := NewFrameIndex()
	const n = 8
	step := 40 * time.Millisecond
	var reqs []shaper.Request
	for i := 0; i < 3; i++ {
		s := "s" + strconv.Itoa(i)
		wsScriptFrames(x, ConnID(s, 0), n, 20*time.Millisecond, step, 20*time.Millisecond+n*step, 0)
		reqs = append(reqs, shaper.Request{At: time.Duration(i) * 10 * time.Millisecond, Session: s, VirtualSession: s, Exchange: wsUpgrade(s, "/chat")})
	}
	got, st := runWSClock(t, u, reqs, &WSConfig{Frames: x}, goClock)
	if len(got) != 3 {
		t.Fatalf("results = %d; want 3 (one per connection)", len(got))
	}
	for _, r := range got {
		if !r.WS || r.Status != 101 || r.Error != "" {
			t.Errorf("%s: WS %v status %d error %q; want a 101 connection", r.Session, r.WS, r.Status, r.Error)
		}
		if r.WSFramesOut != n || r.WSFramesIn != n || r.WSBytesOut != r.WSBytesIn {
			t.Errorf("%s: frames out %d in %d bytes out %d in %d; want %d echoed", r.Session, r.WSFramesOut, r.WSFramesIn, r.WSBytesOut, r.WSBytesIn, n)
		}
		if r.WSCloseBy != schema.WSCloseClient || r.WSCloseCode != 1000 {
			t.Errorf("%s: closed by %q code %d; want client 1000 as recorded", r.Session, r.WSCloseBy, r.WSCloseCode)
		}
		// The close goes at the recorded 20 ms + n steps after the
		// scheduled upgrade: the handshake's latency plus the life.
		if life := time.Duration(r.LatencyNS + r.WSDurationNS); life < 20*time.Millisecond+n*step-5*time.Millisecond {
			t.Errorf("%s: handshake + duration %s; want at least the recorded %s", r.Session, life, 20*time.Millisecond+n*step)
		}
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for s, arr := range tg.arrivals {
		if len(arr) != n {
			t.Fatalf("%s: target got %d messages; want %d", s, len(arr), n)
		}
		for i, a := range arr {
			if a.msg != "m"+strconv.Itoa(i) {
				t.Errorf("%s: message %d = %q; want m%d (in order)", s, i, a.msg, i)
			}
			// Message i is due 20 ms + i steps after the session's
			// scheduled upgrade (session k at k × 10 ms). Early
			// would be a bug; late is bounded loosely for a loaded
			// machine (the benchmark measures lateness).
			k, _ := strconv.Atoi(s[1:])
			want := wsStart.Add(time.Duration(k)*10*time.Millisecond + 20*time.Millisecond + time.Duration(i)*step)
			if d := a.at.Sub(want); d < -time.Millisecond || d > 250*time.Millisecond {
				t.Errorf("%s: message %d arrived %s after its recorded offset; want within [-1 ms, 250 ms]", s, i, d)
			}
		}
		if h := tg.headers[s]; h.Get("Sec-WebSocket-Key") == "dGhlIHNhbXBsZSBub25jZQ==" {
			t.Errorf("%s: the recorded Sec-WebSocket-Key was sent; want the library's own", s)
		}
	}
	if h := st.WebSocket.Lateness(); h.TotalCount() != 3*n {
		t.Errorf("lateness histogram counts %d; want %d", h.TotalCount(), 3*n)
	}
}

// TestWSTargetCloses: a connection the target closes ends there, closed by
// the target with its code; without a reconnect policy it stays closed.
func TestWSTargetCloses(t *testing.T) {
	_, u := newWSTarget(t, func(ctx context.Context, c *websocket.Conn) {
		c.Write(ctx, websocket.MessageText, []byte(`{"hello":1}`))
		c.Close(websocket.StatusTryAgainLater, "restart")
	})
	x := NewFrameIndex()
	wsScriptFrames(x, ConnID("a", 0), 2, time.Second, time.Second, 0, 0)
	got, st := runWS(t, u, []shaper.Request{{Session: "a", VirtualSession: "a", Exchange: wsUpgrade("a", "/feed/x")}}, &WSConfig{Frames: x})
	if len(got) != 1 {
		t.Fatalf("results = %d; want 1", len(got))
	}
	r := got[0]
	if r.WSCloseBy != schema.WSCloseTarget || r.WSCloseCode != int32(websocket.StatusTryAgainLater) || r.WSFramesIn != 1 {
		t.Errorf("closed by %q code %d, frames in %d; want target 1013 after 1 frame", r.WSCloseBy, r.WSCloseCode, r.WSFramesIn)
	}
	if st.WebSocket.Reconnects() != 0 {
		t.Errorf("reconnects = %d; want 0 (no policy)", st.WebSocket.Reconnects())
	}
}

// TestWSRefusedUpgrade: a target that answers the upgrade with 503 is a
// result with that status, not a connection.
func TestWSRefusedUpgrade(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "full", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	got, _ := runWS(t, u, []shaper.Request{{Session: "a", VirtualSession: "a", Exchange: wsUpgrade("a", "/chat")}}, &WSConfig{})
	if len(got) != 1 || got[0].Status != 503 || got[0].WSDurationNS != 0 || !got[0].WS {
		t.Fatalf("results = %+v; want one WS row with status 503", got)
	}
}

// TestWSDropReconnects: Drop closes the chosen fraction abruptly and each
// dropped client reconnects by the backoff it was given: a row per attempt.
func TestWSDropReconnects(t *testing.T) {
	_, u := newWSTarget(t, nil)
	x := NewFrameIndex()
	var reqs []shaper.Request
	for i := 0; i < 10; i++ {
		s := fmt.Sprintf("s%d", i)
		wsScriptFrames(x, ConnID(s, 0), 2, 0, 600*time.Millisecond, 700*time.Millisecond, 0)
		reqs = append(reqs, shaper.Request{Session: s, VirtualSession: s, Class: map[bool]string{true: "vip", false: "anon"}[i < 4], Exchange: wsUpgrade(s, "/chat")})
	}
	conns := NewWSConns()
	dropped := make(chan int, 1)
	go func() {
		for conns.Live() < 10 {
			time.Sleep(5 * time.Millisecond)
		}
		n, err := conns.Drop(0.5, "anon", func(attempt int) (time.Duration, bool) { return 10 * time.Millisecond, attempt <= 1 })
		if err != nil {
			t.Error(err)
		}
		dropped <- n
	}()
	got, st := runWS(t, u, reqs, &WSConfig{Frames: x, Conns: conns})
	n := <-dropped
	if n != 3 {
		t.Errorf("Drop(0.5, anon) dropped %d; want 3 (half of 6, rounded)", n)
	}
	var drops, retries int
	for _, r := range got {
		if r.WSCloseBy == schema.WSCloseDrop {
			drops++
			if i, _ := strconv.Atoi(r.Session[1:]); i < 4 {
				t.Errorf("%s, a vip connection, was dropped; want anon only", r.Session)
			}
		}
		if r.WSAttempt == 1 {
			retries++
		}
	}
	if drops != 3 || retries != 3 || st.WebSocket.Reconnects() != 3 || len(got) != 13 {
		t.Errorf("drops %d, reconnect rows %d, reconnects %d, rows %d; want 3, 3, 3, 13", drops, retries, st.WebSocket.Reconnects(), len(got))
	}
	if _, err := conns.Drop(0, "", nil); err == nil {
		t.Errorf("Drop(0) = nil error; want ErrBadFraction")
	}
}

// TestWSClonesThroughShaper: a recorded WebSocket session shaped at ratio 3
// is three connections of three virtual users, each sending the recorded
// messages with placeholders filled (a shared secret in a header and in a
// message), and the speed scales the message offsets.
func TestWSClonesThroughShaper(t *testing.T) {
	tg, u := newWSTarget(t, nil)
	up := *wsUpgrade("s_rec", "/chat")
	up.Headers = append(up.Headers, schema.Header{Name: "X-App-Key", Value: "{{secret:appkey}}"})
	x := NewFrameIndex()
	conn := ConnID("s_rec", 0)
	for i, at := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond} {
		x.Add(&schema.Frame{Time: t0.Add(at), Conn: conn, Direction: schema.FromClient, Opcode: schema.OpText,
			Payload: fmt.Appendf(nil, `{"n":%d,"key":"{{secret:appkey}}"}`, i)})
	}
	x.Add(&schema.Frame{Time: t0.Add(400 * time.Millisecond), Conn: conn, Direction: schema.FromClient, Opcode: schema.OpClose, Payload: []byte{3, 232}})
	events := []schema.Exchange{up}
	sh, err := shaper.New(shaper.Config{Ratio: shaper.Constant(3), Speed: 2, Spread: -1}, func() (shaper.Source, error) {
		i := 0
		return func() (*schema.Exchange, error) {
			if i == len(events) {
				return nil, io.EOF
			}
			i++
			return &events[i-1], nil
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []schema.Result
	var mu sync.Mutex
	var start time.Time
	_, err = Run(context.Background(), Config{Target: u, GoClock: true, Secrets: map[string]string{"{{secret:appkey}}": "k-123"},
		Started: func(s time.Time) { start = s }, WebSocket: &WSConfig{Frames: x, Speed: 2}}, sh, nil, func(r *schema.Result) {
		mu.Lock()
		got = append(got, *r)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]bool{}
	for _, r := range got {
		users[r.User+"/"+strconv.Itoa(int(r.Clone))] = true
		if r.WSFramesOut != 2 || r.WSCloseBy != schema.WSCloseClient {
			t.Errorf("clone %d: %d messages out, closed by %q; want 2, client", r.Clone, r.WSFramesOut, r.WSCloseBy)
		}
	}
	if len(got) != 3 || len(users) != 3 {
		t.Fatalf("%d connections of %d virtual users; want 3 of 3", len(got), len(users))
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	arr := tg.arrivals["s_rec"] // X-Session is the recorded one on every clone
	if len(arr) != 6 {
		t.Fatalf("target got %d messages; want 6", len(arr))
	}
	for _, a := range arr {
		if !strings.Contains(a.msg, `"key":"k-123"`) {
			t.Errorf("message %s; want the secret filled", a.msg)
		}
		// At speed 2 the messages are due at +50 ms and +150 ms (the
		// recorded +100 and +300 ms halved); late is bounded loosely.
		due := 50 * time.Millisecond
		if strings.Contains(a.msg, `"n":1`) {
			due = 150 * time.Millisecond
		}
		if d := a.at.Sub(start) - due; d < -time.Millisecond || d > 250*time.Millisecond {
			t.Errorf("message %s %s after its time at speed 2; want within [-1 ms, 250 ms]", a.msg, d)
		}
	}
	if h := tg.headers["s_rec"].Get("X-App-Key"); h != "k-123" {
		t.Errorf("X-App-Key = %q; want the secret filled", h)
	}
}

// TestWSReconnectUntilGiveUp: after the target closes, a client reconnects
// by its own policy (NewReconnect), which sees its failures since the last
// open connection (1, 2, 3, 4: the refused upgrades count) and gives up at
// the fourth; every attempt is a row.
func TestWSReconnectUntilGiveUp(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if !first {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Close(websocket.StatusServiceRestart, "")
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	x := NewFrameIndex()
	wsScriptFrames(x, ConnID("a", 0), 1, 5*time.Second, time.Second, 6*time.Second, 0)
	var seen []int
	policies := 0
	ws := &WSConfig{Frames: x, NewReconnect: func() Backoff {
		policies++
		return func(failures int) (time.Duration, bool) {
			mu.Lock()
			seen = append(seen, failures)
			mu.Unlock()
			return time.Millisecond, failures < 4
		}
	}}
	got, st := runWS(t, u, []shaper.Request{{Session: "a", VirtualSession: "a", Exchange: wsUpgrade("a", "/chat")}}, ws)
	if len(got) != 4 || got[0].Status != 101 || got[3].Status != 503 || got[3].WSAttempt != 3 {
		t.Fatalf("rows %d (first status %d, last %d attempt %d); want 4: the connection, 3 refused reconnects", len(got), got[0].Status, got[len(got)-1].Status, got[len(got)-1].WSAttempt)
	}
	if fmt.Sprint(seen) != "[1 2 3 4]" || policies != 1 || st.WebSocket.GaveUp() != 1 || st.WebSocket.Reconnects() != 3 {
		t.Errorf("policy saw %v (%d policies), gave up %d, reconnects %d; want [1 2 3 4], 1, 1, 3", seen, policies, st.WebSocket.GaveUp(), st.WebSocket.Reconnects())
	}
}

// TestWSClosedMode: in closed mode a session's WebSocket connection does not
// hold up its next request, and its reconnect rows are completed once each.
func TestWSClosedMode(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return // the client closed
			}
		}
	})
	target, _ := url.Parse(srv.URL)
	x := NewFrameIndex()
	wsScriptFrames(x, ConnID("a", 0), 1, 50*time.Millisecond, time.Millisecond, 500*time.Millisecond, 0)
	api := &schema.Exchange{Time: t0.Add(10 * time.Millisecond), Session: "a", Seq: 1, Method: "GET", Path: "/api"}
	reqs := []shaper.Request{
		{Session: "a", VirtualSession: "a", Exchange: wsUpgrade("a", "/chat")},
		{At: 10 * time.Millisecond, Session: "a", VirtualSession: "a", Exchange: api},
	}
	var mu sync.Mutex
	var rows []schema.Result
	var apiAt time.Time
	_, err := Run(context.Background(), Config{Target: target, GoClock: true, Mode: Closed, WebSocket: &WSConfig{Frames: x}}, &slice{reqs: reqs}, nil, func(r *schema.Result) {
		mu.Lock()
		rows = append(rows, *r)
		if !r.WS {
			apiAt = r.Intended
		}
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].WS || !rows[1].WS {
		t.Fatalf("rows %+v; want the request first (it did not wait for the socket), then the connection", rows)
	}
	// The close is due 500 ms after the scheduled upgrade.
	if life := time.Duration(rows[1].LatencyNS + rows[1].WSDurationNS); life < 495*time.Millisecond || apiAt.IsZero() {
		t.Errorf("handshake + life %s; want at least the recorded 500 ms, the request meanwhile", life)
	}
}
