package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/surge-replay/surge/schema"
)

// wsRow is a WebSocket connection result.
func wsRow(attempt int32, status int32, closeBy string, code int32) *schema.Result {
	r := &schema.Result{Intended: time.Unix(1795290300, 0), Status: status, Method: "GET", Route: "GET /feed/{id}", LatencyNS: 3e6}
	r.WebSocket = schema.WebSocket{WS: true, WSAttempt: attempt, WSDurationNS: 2e9, WSFramesOut: 2, WSBytesOut: 20,
		WSFramesIn: 5, WSBytesIn: 500, WSCloseBy: closeBy, WSCloseCode: code, WSLateP99NS: 4e5, WSLateMaxNS: 5e5,
		WSGaps: 1, WSStaleMaxNS: 7e6}
	return r
}

// TestWebSocketSummary: WebSocket rows fold into the websocket section;
// the engine's per-message histograms replace the per-connection maxima.
func TestWebSocketSummary(t *testing.T) {
	a := NewAggregator(RunInfo{})
	a.Add(&schema.Result{Intended: time.Unix(1795290300, 0), Status: 200, Method: "GET", Route: "GET /api"})
	a.Add(wsRow(0, 101, schema.WSCloseDrop, 1006))
	a.Add(wsRow(1, 101, schema.WSCloseClient, 1000))
	a.Add(wsRow(0, 503, "", 0))
	s := a.Summary()
	w := s.WebSocket
	if w == nil || w.Connections != 3 || w.Opened != 2 || w.Failed != 1 || w.Reconnects != 1 {
		t.Fatalf("websocket = %+v; want 3 connections, 2 opened, 1 failed, 1 reconnect", w)
	}
	if w.FramesOut != 4 || w.FramesIn != 10 || w.BytesIn != 1000 || w.Checks.Gaps != 2 || w.CloseBy["drop"] != 1 || w.CloseCodes["1006"] != 1 {
		t.Errorf("websocket = %+v; want the two open rows' counts", w)
	}
	if w.LatenessOf != "connections" || w.SendLateness.Max != 0.5 || w.Checks.StalenessOf != "connections" || w.Checks.Staleness.Max != 7 {
		t.Errorf("lateness %+v of %s, staleness %+v of %s; want the connections' maxima (0.5, 7 ms)", w.SendLateness, w.LatenessOf, w.Checks.Staleness, w.Checks.StalenessOf)
	}
	late := hdr.New(1, 3600e9, 3)
	for i := int64(1); i <= 100; i++ {
		late.RecordValue(i * 1e4) // 10 µs .. 1 ms
	}
	a.SetWebSocket(late, hdr.New(1, 3600e9, 3), 4)
	w = a.Summary().WebSocket
	if w.LatenessOf != "messages" || w.SendLateness.Max < 0.99 || w.SendLateness.Max > 1.01 || w.GaveUp != 4 || w.Checks.StalenessOf != "connections" {
		t.Errorf("with the engine's histograms: lateness %+v of %s, gave up %d, staleness of %s; want max 1 ms of messages, 4, connections (no staleness measured per message)",
			w.SendLateness, w.LatenessOf, w.GaveUp, w.Checks.StalenessOf)
	}
	var text bytes.Buffer
	a.Summary().WriteText(&text)
	for _, want := range []string{"websocket: 3 connections (2 opened, 1 failed, 1 reconnects, 4 gave up)", "send lateness (of messages)", "closed by  client 1, drop 1", "gaps 2"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	a.Summary().WriteJSON(&js)
	var back struct {
		WebSocket *WebSocketSummary `json:"websocket"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.WebSocket == nil || back.WebSocket.Opened != 2 {
		t.Errorf("JSON websocket = %+v, %v; want the section", back.WebSocket, err)
	}
}
