package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/surge-replay/surge/report"
)

// wsHAR is a Chrome HAR with two WebSocket sessions (each a client message
// at +100 ms and +300 ms) and one plain request.
func wsHAR(t0 time.Time) string {
	entry := func(at time.Duration, page string) string {
		start := t0.Add(at)
		sec := func(d time.Duration) string {
			return fmt.Sprintf("%.6f", float64(start.Add(d).UnixMicro())/1e6)
		}
		return fmt.Sprintf(`{"startedDateTime":%q,"pageref":%q,"time":5,"request":{"method":"GET","url":"http://live.example.com/feed/scores","httpVersion":"HTTP/1.1",
"headers":[{"name":"Upgrade","value":"websocket"},{"name":"Connection","value":"Upgrade"},{"name":"Sec-WebSocket-Version","value":"13"}]},
"response":{"status":101,"headers":[]},"_webSocketMessages":[
{"type":"send","time":%s,"opcode":1,"data":"{\"op\":\"sub\"}"},
{"type":"receive","time":%s,"opcode":1,"data":"{\"seq\":1}"},
{"type":"send","time":%s,"opcode":1,"data":"{\"op\":\"ping\"}"},
{"type":"send","time":%s,"opcode":8,"data":""}]}`,
			start.Format(time.RFC3339Nano), page, sec(100*time.Millisecond), sec(150*time.Millisecond), sec(300*time.Millisecond), sec(400*time.Millisecond))
	}
	plain := fmt.Sprintf(`{"startedDateTime":%q,"time":5,"request":{"method":"GET","url":"http://live.example.com/api/x","httpVersion":"HTTP/1.1","headers":[]},"response":{"status":200}}`,
		t0.Add(50*time.Millisecond).Format(time.RFC3339Nano))
	return `{"log":{"version":"1.2","entries":[` + entry(0, "a") + "," + plain + "," + entry(200*time.Millisecond, "b") + `]}}`
}

// TestReplayWebSocketEndToEnd: a HAR's WebSocket sessions are imported with
// their messages, replayed against a loopback feed as connections (messages
// in order, counted, checks applied) and reported in the text, the JSON
// summary and surge report over the results file.
func TestReplayWebSocketEndToEnd(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "ws-test-key")
	dir := t.TempDir()
	har := filepath.Join(dir, "ws.har")
	if err := os.WriteFile(har, []byte(wsHAR(time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC))), 0o644); err != nil {
		t.Fatal(err)
	}
	capture := filepath.Join(dir, "c.parquet")
	_, stderr, err := surge(t, "import", "har", har, "-o", capture)
	if err != nil || !strings.Contains(stderr, "8 frames of WebSocket connections") {
		// Two connections of 4 frames (two sends, a receive, a close).
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "c.frames.parquet")); err != nil {
		t.Fatalf("import wrote no frames file: %v\n%s", err, stderr)
	}
	var mu sync.Mutex
	var got [][]string // per connection
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			w.WriteHeader(200)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		mu.Lock()
		i := len(got)
		got = append(got, nil)
		mu.Unlock()
		for n := 1; ; n++ {
			_, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			mu.Lock()
			got[i] = append(got[i], string(data))
			mu.Unlock()
			seq := n
			if n == 2 {
				seq = 5 // a gap the check counts, once per connection
			}
			c.Write(r.Context(), websocket.MessageText, fmt.Appendf(nil, `{"seq":%d,"ts":%d}`, seq, time.Now().UnixMilli()))
		}
	}))
	defer srv.Close()
	conf := filepath.Join(dir, "ws.yaml")
	os.WriteFile(conf, []byte("websocket:\n  checks:\n    - route: /feed/*\n      seq: $.seq\n      ts: $.ts\n"), 0o644)
	results, summary := filepath.Join(dir, "r.parquet"), filepath.Join(dir, "s.json")
	out, stderr, err := surge(t, "replay", "--from", capture, "--target", srv.URL, "--config", conf, "--progress", "none", "--spread=0",
		"--results", results, "--summary-json", summary)
	// A loaded machine may make the generator's verdict fail the run;
	// the WebSocket facts are checked all the same.
	if err != nil && !strings.Contains(err.Error(), "generator fell behind") {
		t.Fatalf("replay: %v\n%s\n%s", err, out, stderr)
	}
	if !strings.Contains(out, "websocket: 2 connections (2 opened") || !strings.Contains(out, "gaps 2") {
		t.Errorf("report text lacks the websocket section:\n%s", out)
	}
	mu.Lock()
	if len(got) != 2 || strings.Join(got[0], "") != `{"op":"sub"}{"op":"ping"}` || strings.Join(got[1], "") != `{"op":"sub"}{"op":"ping"}` {
		t.Errorf("target got %q; want sub, ping on each of 2 connections", got)
	}
	mu.Unlock()
	var s struct {
		WebSocket report.WebSocketSummary `json:"websocket"`
	}
	b, _ := os.ReadFile(summary)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	ws := s.WebSocket
	if ws.Opened != 2 || ws.FramesOut != 4 || ws.FramesIn != 4 || ws.CloseBy["client"] != 2 || ws.Checks.Gaps != 2 || ws.LatenessOf != "messages" {
		t.Errorf("summary websocket = %+v; want 2 opened, 4 out, 4 in, 2 closed by the client, 2 gaps, lateness of messages", ws)
	}
	js := mustSurge(t, "report", "--json", results)
	var r struct {
		WebSocket report.WebSocketSummary `json:"websocket"`
	}
	json.Unmarshal([]byte(js), &r)
	if r.WebSocket.Opened != 2 || r.WebSocket.FramesOut != 4 || r.WebSocket.Checks.Gaps != 2 || r.WebSocket.LatenessOf != "connections" {
		t.Errorf("surge report websocket = %+v; want the run's counts, lateness of connections", r.WebSocket)
	}
}
