package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// feedMsg is one message of the test feed.
func feedMsg(ch string, seq int64, ts time.Time) []byte {
	return fmt.Appendf(nil, `{"ch":%q,"seq":%d,"ts":%d}`, ch, seq, ts.UnixMilli())
}

// TestWSChecksCountInjectedFaults: a feed that injects each fault at known
// messages has every fault counted and none invented: a gap (10 skipped),
// a duplicate (20 twice), a regression (25 after 30), a stale message (40,
// 5 s old), a silence (a 900 ms pause with 200 ms heartbeats × 3: the alarm
// at 600 ms, re-armed for 1.2 s, leaves 300 ms of margin each side for a
// loaded machine), on one stream; the other stream, clean, counts nothing.
func TestWSChecksCountInjectedFaults(t *testing.T) {
	_, u := newWSTarget(t, func(ctx context.Context, c *websocket.Conn) {
		send := func(ch string, seq int64, ts time.Time) {
			c.Write(ctx, websocket.MessageText, feedMsg(ch, seq, ts))
		}
		for n := int64(1); n <= 50; n++ {
			send("clean", n, time.Now())
			switch n {
			case 10: // gap: 10 is never sent
			case 20: // duplicate
				send("a", n, time.Now())
				send("a", n, time.Now())
			case 30: // regression: 25 again after 30
				send("a", n, time.Now())
				send("a", 25, time.Now())
			case 40: // stale: produced 5 s ago
				send("a", n, time.Now().Add(-5*time.Second))
			case 45: // silence: nothing for 900 ms
				send("a", n, time.Now())
				time.Sleep(900 * time.Millisecond)
			default:
				send("a", n, time.Now())
			}
			time.Sleep(2 * time.Millisecond)
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
	x := NewFrameIndex()
	x.Add(&schema.Frame{Time: t0, Conn: ConnID("a", 0), Direction: schema.FromClient, Opcode: schema.OpText, Payload: []byte("sub")})
	x.Add(&schema.Frame{Time: t0.Add(5 * time.Second), Conn: ConnID("a", 0), Direction: schema.FromServer, Opcode: schema.OpClose})
	checks := []WSCheck{{Route: "/feed/*", Seq: "$.seq", Stream: "$.ch", TS: "$.ts", Heartbeat: 200 * time.Millisecond, Silence: 3}}
	got, st := runWS(t, u, []shaper.Request{{Session: "a", VirtualSession: "a", Exchange: wsUpgrade("a", "/feed/prices")}}, &WSConfig{Frames: x, Checks: checks})
	if len(got) != 1 {
		t.Fatalf("results = %d; want 1", len(got))
	}
	r := got[0]
	want := schema.WebSocket{WSGaps: 1, WSDuplicates: 1, WSRegressions: 1, WSSilences: 1}
	gotc := schema.WebSocket{WSGaps: r.WSGaps, WSDuplicates: r.WSDuplicates, WSRegressions: r.WSRegressions, WSSilences: r.WSSilences}
	if gotc != want {
		t.Errorf("counted gaps %d dups %d regressions %d silences %d; want 1 each", r.WSGaps, r.WSDuplicates, r.WSRegressions, r.WSSilences)
	}
	if r.WSStaleMaxNS < int64(5*time.Second) || r.WSStaleMaxNS > int64(7*time.Second) {
		t.Errorf("stale max %s; want ≈ 5 s (the one stale message)", time.Duration(r.WSStaleMaxNS))
	}
	if r.WSFramesIn != 50+50+1 { // clean 50; a: 49 + dup + regression + ... see below
		// a: 1..50 without 10 (49), plus the duplicate and the regression: 51.
		t.Errorf("frames in = %d; want 101", r.WSFramesIn)
	}
	h := st.WebSocket.Staleness()
	if h.TotalCount() != r.WSFramesIn {
		t.Errorf("staleness histogram counts %d; want every checked message (%d)", h.TotalCount(), r.WSFramesIn)
	}
	if p99 := time.Duration(h.ValueAtQuantile(99)); p99 > time.Second {
		t.Errorf("staleness p99 %s; want under 1 s (one stale message of 101)", p99)
	}
}

// TestWSStaleOnReconnect: the target closes, the client reconnects, and the
// first message after the reconnect is checked against the last before:
// older is stale on reconnect; counters start again on the new connection
// (a feed numbering from its own start is no regression).
func TestWSStaleOnReconnect(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]int{}
	// Session "stale" resumes below where it stopped (10); "fresh" above.
	resume := map[string]int64{"stale": 7, "fresh": 11}
	tg, u := newWSTarget(t, nil)
	tg.feed = func(ctx context.Context, c *websocket.Conn) {}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		s := r.Header.Get("X-Session") // recorded, sent on every attempt
		mu.Lock()
		conns[s]++
		n := conns[s]
		mu.Unlock()
		from, to := int64(1), int64(10)
		if n > 1 {
			from, to = resume[s], resume[s]+5
		}
		for i := from; i <= to; i++ {
			c.Write(r.Context(), websocket.MessageText, feedMsg("x", i, time.Now()))
		}
		if n > 1 {
			// The second connection stays until the client closes it.
			for {
				if _, _, err := c.Read(r.Context()); err != nil {
					return
				}
			}
		}
		c.Close(websocket.StatusServiceRestart, "restart")
	}))
	defer srv.Close()
	u, _ = url.Parse(srv.URL)
	x := NewFrameIndex()
	var reqs []shaper.Request
	for _, s := range []string{"stale", "fresh"} {
		// The client closes at +300 ms in the recording.
		x.Add(&schema.Frame{Time: t0.Add(300 * time.Millisecond), Conn: ConnID(s, 0), Direction: schema.FromClient, Opcode: schema.OpClose, Payload: []byte{3, 232}})
		reqs = append(reqs, shaper.Request{Session: s, VirtualSession: s, Exchange: wsUpgrade(s, "/feed/x")})
	}
	reconnect := func(attempt int) (time.Duration, bool) { return 5 * time.Millisecond, true }
	checks := []WSCheck{{Seq: "$.seq", TS: "$.ts"}}
	got, st := runWS(t, u, reqs, &WSConfig{Frames: x, Checks: checks, Reconnect: reconnect})
	rows := map[string][]schema.Result{}
	for _, r := range got {
		rows[r.Session] = append(rows[r.Session], r)
	}
	for _, s := range []string{"stale", "fresh"} {
		rs := rows[s]
		if len(rs) != 2 {
			t.Fatalf("%s: %d rows; want 2 (the connection the target closes, the reconnect the client closes)", s, len(rs))
		}
		for _, r := range rs {
			wantBy, wantCode := schema.WSCloseTarget, int32(websocket.StatusServiceRestart)
			if r.WSAttempt == 1 {
				wantBy, wantCode = schema.WSCloseClient, 1000
			}
			if r.WSCloseBy != wantBy || r.WSCloseCode != wantCode {
				t.Errorf("%s attempt %d: closed by %q %d; want %s %d", s, r.WSAttempt, r.WSCloseBy, r.WSCloseCode, wantBy, wantCode)
			}
			if r.WSGaps+r.WSDuplicates+r.WSRegressions != 0 {
				t.Errorf("%s attempt %d: gaps %d dups %d regressions %d; want none (each connection counts from its start)", s, r.WSAttempt, r.WSGaps, r.WSDuplicates, r.WSRegressions)
			}
			wantStale := s == "stale" && r.WSAttempt == 1
			if r.WSStaleOnReconnect != wantStale {
				t.Errorf("%s attempt %d: stale on reconnect %v; want %v", s, r.WSAttempt, r.WSStaleOnReconnect, wantStale)
			}
		}
	}
	if st.WebSocket.Reconnects() != 2 || st.WebSocket.GaveUp() != 0 {
		t.Errorf("reconnects %d, gave up %d; want 2 and 0", st.WebSocket.Reconnects(), st.WebSocket.GaveUp())
	}
}

// TestParseJSONPath: the JSONPath subset of checks.
func TestParseJSONPath(t *testing.T) {
	for _, c := range []struct {
		in   string
		want jsonPath
		bad  bool
	}{
		{"", nil, false},                                  // no path
		{"$", jsonPath(nil), false},                       // the document itself
		{"$.seq", jsonPath{"seq"}, false},                 // one key
		{"$.a.b[2].c", jsonPath{"a", "b", 2, "c"}, false}, // keys and an index
		{`$["x.y"]`, jsonPath{"x.y"}, false},              // a quoted name
		{"seq", nil, true},                                // no $
		{"$..seq", nil, true},                             // recursive descent is not supported
		{"$.a[", nil, true},                               // unclosed
		{"$.a[-1]", nil, true},                            // negative index
	} {
		got, err := parseJSONPath(c.in)
		if (err != nil) != c.bad || (!c.bad && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("parseJSONPath(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

// TestProducerTime: epoch numbers by magnitude and RFC 3339.
func TestProducerTime(t *testing.T) {
	at := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   any
		want time.Time
	}{
		{json.Number(strconv.FormatInt(at.Unix(), 10)), at},              // seconds
		{json.Number("1796400000.5"), time.Unix(1796400000, 5e8)},        // fractional seconds
		{json.Number(strconv.FormatInt(at.UnixMilli(), 10)), at},         // milliseconds
		{json.Number(strconv.FormatInt(at.UnixMicro(), 10)), at},         // microseconds
		{json.Number(strconv.FormatInt(at.UnixNano()+7, 10)), at.Add(7)}, // nanoseconds, exact
		{"2026-12-04T16:00:00Z", at},                                     // RFC 3339
	} {
		got, ok := producerTime(c.in)
		if !ok || !got.Equal(c.want) {
			t.Errorf("producerTime(%v) = %v, %v; want %v", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []any{json.Number("-1"), "yesterday", true, nil} {
		if _, ok := producerTime(bad); ok {
			t.Errorf("producerTime(%v) ok; want not a time", bad)
		}
	}
}

// FuzzWSCheckFrame: any JSON path and any message are checked without a
// panic.
func FuzzWSCheckFrame(f *testing.F) {
	f.Add("$.seq", "$.ts", `{"seq":1,"ts":1796400000000}`)
	f.Add("$.a[0].n", "$.t", `{"a":[{"n":"7"}],"t":"2026-12-04T16:00:00Z"}`)
	f.Add("$", "$", `12`)
	f.Fuzz(func(t *testing.T, seq, ts, msg string) {
		c := WSCheck{Seq: seq, TS: ts}
		if len(c.Validate()) > 0 {
			return
		}
		k := newWSChecker(&c)
		k.frame([]byte(msg), time.Now())
		k.frame([]byte(msg), time.Now())
		var res schema.Result
		k.fill(&res)
		if res.WSDuplicates+res.WSGaps+res.WSRegressions > 1 {
			t.Errorf("two copies of %q counted %d faults; want at most 1", msg, res.WSDuplicates+res.WSGaps+res.WSRegressions)
		}
	})
}

// TestDecodeWSSettings: the websocket block decodes strictly, every problem
// named with its place.
func TestDecodeWSSettings(t *testing.T) {
	s, err := DecodeWSSettings([]byte(`{"checks":[{"route":"/feed/*","seq":"$.seq","ts":"$.ts","heartbeat":"1s","silence":3}]}`))
	if err != nil || len(s.Checks) != 1 || s.Checks[0].Heartbeat != time.Second || s.Checks[0].seq == nil {
		t.Fatalf("DecodeWSSettings = %+v, %v; want one compiled check with a 1 s heartbeat", s, err)
	}
	for _, c := range []struct{ in, want string }{
		{`{"checks":[{"route":"/x","seq":"seq"}]}`, "websocket.checks[0]: seq: JSON path"},  // no $
		{`{"checks":[{"seq":"$.s","heartbeat":"often"}]}`, "websocket.checks[0].heartbeat"}, // bad duration
		{`{"checks":[{"route":"/x"}]}`, "checks nothing"},                                   // nothing to check
		{`{"check":[]}`, `unknown field "check"`},                                           // a typo
		{`{"checks":[{"route":"[","seq":"$.s"}]}`, "websocket.checks[0]: route"},            // bad pattern
	} {
		_, err := DecodeWSSettings([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("DecodeWSSettings(%s) = %v; want an error containing %q", c.in, err, c.want)
		}
	}
}
