package demo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// feedMsg is a feed message as a client decodes it.
type feedMsg struct {
	Stream  string `json:"stream"`
	Seq     int64  `json:"seq"`
	TS      int64  `json:"ts"`
	Type    string `json:"type"`
	User    string `json:"user"`
	Text    string `json:"text"`
	Online  *int   `json:"online"`
	Viewers *int   `json:"viewers"`
}

func startWS(t *testing.T, ws WSConfig) *Server {
	t.Helper()
	srv, err := Start(Config{WebSocket: ws})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func dial(t *testing.T, srv *Server, path string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL(), "http")+path, nil)
}

// readN reads n messages of c (10 s at most).
func readN(t *testing.T, c *websocket.Conn, n int) []feedMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []feedMsg
	for range n {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read after %d messages: %v", len(out), err)
		}
		var m feedMsg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("message %s: %v", b, err)
		}
		out = append(out, m)
	}
	return out
}

// TestWSFeeds: both feeds send numbered, stamped JSON messages, one number
// after the other, with live counts.
func TestWSFeeds(t *testing.T) {
	srv := startWS(t, WSConfig{ChatInterval: 10 * time.Millisecond, ViewersInterval: 20 * time.Millisecond})
	chat, _, err := dial(t, srv, "/ws/chat/derby-20261121")
	if err != nil {
		t.Fatal(err)
	}
	defer chat.CloseNow()
	viewers, _, err := dial(t, srv, "/ws/viewers/derby-20261121")
	if err != nil {
		t.Fatal(err)
	}
	defer viewers.CloseNow()
	if err := chat.Write(context.Background(), websocket.MessageText, []byte(`{"type":"say","text":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c      *websocket.Conn
		stream string
	}{{chat, "chat/derby-20261121"}, {viewers, "viewers/derby-20261121"}} {
		msgs := readN(t, tc.c, 12)
		var presence int
		for i, m := range msgs {
			if m.Stream != tc.stream {
				t.Errorf("message %d stream %q; want %q", i, m.Stream, tc.stream)
			}
			if i > 0 && (m.Seq != msgs[i-1].Seq+1 || m.TS < msgs[i-1].TS) {
				t.Errorf("message %d: seq %d ts %d after seq %d ts %d; want the next number, not earlier", i, m.Seq, m.TS, msgs[i-1].Seq, msgs[i-1].TS)
			}
			if d := time.Since(time.UnixMilli(m.TS)); d < -time.Second || d > 10*time.Second {
				t.Errorf("message %d stamped %v ago; want now", i, d)
			}
			switch {
			case m.Viewers != nil:
				if *m.Viewers != 1 {
					t.Errorf("viewers = %d; want 1 (one viewer socket open)", *m.Viewers)
				}
			case m.Type == "presence":
				presence++
				if m.Online == nil || *m.Online != 1 {
					t.Errorf("presence online = %v; want 1", m.Online)
				}
			case m.Type == "chat":
				if len(m.User) != 9 || m.Text == "" {
					t.Errorf("chat message %+v lacks a user or text", m)
				}
			default:
				t.Errorf("message %d: %+v is no feed message", i, m)
			}
		}
		if tc.stream[0] == 'c' && (presence < 2 || presence > 3) {
			t.Errorf("%d presence messages in 12; want every 5th", presence)
		}
	}
	st := eventually(srv, func(st WSStats) bool { return st.FramesReceived == 1 })
	if st.Accepted != 2 || st.Open != 2 || st.FramesSent < 24 || st.FramesReceived != 1 {
		t.Errorf("stats %+v; want 2 accepted and open, 24+ frames out, 1 in", st)
	}
}

// TestWSFaults: a server injecting each fault at known frames; a checker
// that tracks the highest number seen counts every fault once and invents
// none.
func TestWSFaults(t *testing.T) {
	faults := []Fault{
		{Feed: "chat", Frame: 3, Kind: FaultSkip},
		{Feed: "chat", Frame: 5, Kind: FaultDuplicate},
		{Feed: "chat", Frame: 7, Kind: FaultRegress},
		{Feed: "chat", Frame: 9, Kind: FaultDelay, Delay: 5 * time.Second},
		{Feed: "viewers", Frame: 2, Kind: FaultSkip}, // not on chat
	}
	srv := startWS(t, WSConfig{ChatInterval: 10 * time.Millisecond, Faults: faults})
	for conn := range 2 { // every connection gets them, counted from its own first frame
		c, _, err := dial(t, srv, "/ws/chat/derby-20261121")
		if err != nil {
			t.Fatal(err)
		}
		// 12 feed frames: one skipped, one duplicated, one regressed: 13 messages.
		msgs := readN(t, c, 13)
		c.CloseNow()
		var gaps, dups, regs, stale int
		high := msgs[0].Seq
		for _, m := range msgs[1:] {
			switch {
			case m.Seq > high+1:
				gaps += int(m.Seq - high - 1)
			case m.Seq == high:
				dups++
			case m.Seq < high:
				regs++
			}
			high = max(high, m.Seq)
		}
		for i, m := range msgs {
			if i > 0 && m.Seq == msgs[i-1].Seq+1 && m.TS < msgs[i-1].TS-4000 {
				stale++
			}
		}
		if gaps != 1 || dups != 1 || regs != 1 || stale != 1 {
			t.Errorf("connection %d: %d gaps, %d duplicates, %d regressions, %d stale; want 1 of each\n%+v", conn, gaps, dups, regs, stale, msgs)
		}
	}
}

func TestWSFaultErrors(t *testing.T) {
	for _, f := range []Fault{
		{Frame: 0, Kind: FaultSkip},                 // frames count from 1
		{Frame: 1, Kind: "swap"},                    // no such kind
		{Frame: 1, Kind: FaultDelay},                // a delay needs its Delay
		{Feed: "prices", Frame: 1, Kind: FaultSkip}, // no such feed
	} {
		if _, err := New(Config{WebSocket: WSConfig{Faults: []Fault{f}}}); !errors.Is(err, ErrFault) {
			t.Errorf("New with fault %+v = %v; want ErrFault", f, err)
		}
	}
}

// TestWSCapacity: over the accept rate an upgrade gets 503 with
// Retry-After; over the open-socket limit a socket is closed with 1013.
func TestWSCapacity(t *testing.T) {
	t.Run("rate", func(t *testing.T) {
		// A bucket of 2 that refills once in 100 s.
		srv := startWS(t, WSConfig{AcceptRate: 0.01, AcceptBurst: 2})
		for i := range 3 {
			c, resp, err := dial(t, srv, "/ws/viewers/e")
			if i < 2 {
				if err != nil {
					t.Fatalf("upgrade %d: %v", i, err)
				}
				defer c.CloseNow()
				continue
			}
			if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
				t.Errorf("upgrade %d over the rate: %v, %+v; want 503 with Retry-After: 1", i, err, resp)
			}
		}
		if st := eventually(srv, func(st WSStats) bool { return st.Accepted == 2 }); st.RefusedRate != 1 || st.Accepted != 2 {
			t.Errorf("stats %+v; want 2 accepted, 1 refused over the rate", st)
		}
	})
	t.Run("open", func(t *testing.T) {
		srv := startWS(t, WSConfig{MaxConns: 2, AcceptRate: -1})
		for i := range 3 {
			c, _, err := dial(t, srv, "/ws/viewers/e")
			if err != nil {
				t.Fatalf("upgrade %d: %v", i, err)
			}
			defer c.CloseNow()
			if i < 2 {
				// The server counts a socket in after the client has it.
				eventually(srv, func(st WSStats) bool { return st.Accepted == int64(i+1) })
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _, err = c.Read(ctx)
			cancel()
			if websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
				t.Errorf("socket %d over the limit: read %v; want close 1013", i, err)
			}
		}
		if st := eventually(srv, func(st WSStats) bool { return st.ClosedFull == 1 }); st.ClosedFull != 1 || st.Peak != 2 {
			t.Errorf("stats %+v; want 1 closed with 1013, peak 2", st)
		}
	})
}

// TestWSRestart: POST /_demo/restart closes every socket with 1012 and,
// with down, refuses upgrades meanwhile.
func TestWSRestart(t *testing.T) {
	srv := startWS(t, WSConfig{AcceptRate: -1, ChatInterval: 10 * time.Millisecond})
	var conns []*websocket.Conn
	for range 3 {
		c, _, err := dial(t, srv, "/ws/chat/e")
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		readN(t, c, 1)
		conns = append(conns, c)
	}
	resp, err := http.Post(srv.URL()+RestartPath+"?down=1h", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Closed int }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 200 || body.Closed != 3 {
		t.Errorf("restart: %d, closed %d; want 200, 3", resp.StatusCode, body.Closed)
	}
	for i, c := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var err error
		for err == nil {
			_, _, err = c.Read(ctx)
		}
		cancel()
		if websocket.CloseStatus(err) != websocket.StatusServiceRestart {
			t.Errorf("socket %d after restart: %v; want close 1012", i, err)
		}
	}
	if _, resp, err := dial(t, srv, "/ws/chat/e"); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("upgrade while down: %v; want 503", err)
	}
	if resp, err := http.Post(srv.URL()+RestartPath+"?down=forever", "", nil); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("restart with a bad down: %v %v; want 400", resp.StatusCode, err)
	}
	if st := srv.Stats().WebSocket; st.Restarts != 1 || st.RefusedDown != 1 {
		t.Errorf("stats %+v; want 1 restart, 1 refused while down", st)
	}
}

// eventually returns the server's WebSocket counters once ok holds of them
// (a client's handshake ends before the server counts it), or after 10 s.
func eventually(srv *Server, ok func(WSStats) bool) WSStats {
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := srv.Stats().WebSocket
		if ok(st) || time.Now().After(deadline) {
			return st
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := bucket{rate: 10, burst: 2}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{
		{0, true},                      // a full bucket of 2
		{0, true},                      // the second
		{0, false},                     // empty
		{50 * time.Millisecond, false}, // half a token
		{100 * time.Millisecond, true}, // one token after 100 ms at 10/s
		{10 * time.Second, true},       // refilled to 2, no more
		{10 * time.Second, true},       //
		{10 * time.Second, false},      //
	} {
		if got := b.allow(t0.Add(tc.at)); got != tc.want {
			t.Errorf("allow(+%v) = %v; want %v", tc.at, got, tc.want)
		}
	}
}
