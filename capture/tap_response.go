package capture

import (
	"bufio"
	"net"
	"net/http"
	"time"

	"github.com/surge-replay/surge/schema"
)

// tapResponse passes a response on to the client and notes its status and
// body bytes. Flush, Hijack and Unwrap keep what the ReverseProxy needs of
// the server's ResponseWriter (streaming, protocol upgrades, deadlines).
type tapResponse struct {
	http.ResponseWriter
	tap      *Tap
	hit      *Hit
	route    *TapRoute
	body     *tapBody // the request's, nil without one
	status   int
	bytes    int64
	hijacked bool
}

func (w *tapResponse) WriteHeader(code int) {
	// 1xx responses other than 101 are informational: the final status
	// follows.
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *tapResponse) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// FlushError flushes the response to the client.
func (w *tapResponse) FlushError() error {
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush flushes the response to the client.
func (w *tapResponse) Flush() { w.FlushError() }

// Unwrap lets http.ResponseController reach the server's ResponseWriter.
func (w *tapResponse) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack takes over the client connection for a protocol switch (the
// ReverseProxy does, after the upstream answered 101). The upgrade request
// is recorded now, before its frames; the connection's bytes then pass
// through two WebSocket parsers on their way.
func (w *tapResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return conn, brw, err
	}
	w.hijacked = true
	t := w.tap
	e := &w.hit.Exchange
	now := time.Now()
	e.Status = schema.Int32(http.StatusSwitchingProtocols)
	e.ResponseBytes = schema.Int64(0)
	e.LatencyNS = schema.Int64(int64(now.Sub(e.Time)))
	e.Protocol = schema.ProtoWebSocket
	ws := &wsConn{}
	t.enqueue(tapEvent{at: e.Time, hit: w.hit, conn: ws})
	limit := 0
	if w.route != nil {
		limit = cmp0(w.route.FrameLimit, DefaultFrameLimit)
	}
	parser := func(dir string) *wsParser {
		return &wsParser{limit: limit, emit: func(op int32, payload []byte, size int64, truncated bool, at time.Time) {
			t.enqueue(tapEvent{at: at, conn: ws, frame: &schema.Frame{
				Time: at, Direction: dir, Opcode: op, Payload: payload,
				PayloadSize: size, PayloadTruncated: truncated, Source: TapSource,
			}})
		}}
	}
	tc := &tapConn{Conn: conn, fromClient: parser(schema.FromClient), fromServer: parser(schema.FromServer)}
	// The proxy writes the 101 response through brw: through the tap, so
	// that the server side's parser reads the extensions it agreed.
	tc.fromServer.inHead = true
	tc.fromServer.onHead = func(head []byte) {
		tc.fromClient.inflate, tc.fromServer.inflate = deflateParams(head)
	}
	brw = bufio.NewReadWriter(brw.Reader, bufio.NewWriter(tc))
	tc.closed = func() {
		now := time.Now()
		ws.closedAt.Store(now.UnixNano())
		t.enqueueEnd(tapEvent{at: now, conn: ws, end: true})
		t.connMu.Lock()
		delete(t.conns, tc)
		t.connMu.Unlock()
		if tc.fromClient.broken || tc.fromServer.broken {
			t.m.wsBroken.Inc()
		}
	}
	t.connMu.Lock()
	t.conns[tc] = struct{}{}
	t.connMu.Unlock()
	if t.closing.Load() {
		conn.Close() // Close may have missed it
	}
	return tc, brw, nil
}
