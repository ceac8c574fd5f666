package replay

import (
	"encoding/binary"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// FrameIndex holds the recorded WebSocket messages a replay needs, by
// connection (schema.Frame.Conn): the client's messages with their times and
// payloads, and of the server's only their count and the close. Build it
// with Add from a capture's frames (surge replay reads them from the
// capture's _frames dataset or its .frames.parquet sibling). It is read-only
// once the run starts and then safe for concurrent use.
//
// Memory is that of the client messages of the connections added: a
// capture's server-to-client traffic (the bulk of a feed) is not kept.
type FrameIndex struct {
	conns map[string]*wsRecording
	n     int
}

// wsRecording is one recorded connection.
type wsRecording struct {
	client     []schema.Frame // client messages (close and pings included), in time order
	server     int64          // server messages
	last       time.Time      // the last frame of either side
	closedBy   string         // schema.FromClient or FromServer: who sent the first close; "" none
	closeCode  int
	closeFrame time.Time // when the first close was sent
	sorted     bool
}

// NewFrameIndex returns an empty index.
func NewFrameIndex() *FrameIndex { return &FrameIndex{conns: map[string]*wsRecording{}} }

// Add records f. Frames of a connection may come in any order.
func (x *FrameIndex) Add(f *schema.Frame) {
	rec := x.conns[f.Conn]
	if rec == nil {
		rec = &wsRecording{sorted: true}
		x.conns[f.Conn] = rec
	}
	x.n++
	if f.Time.After(rec.last) {
		rec.last = f.Time
	}
	if f.Opcode == schema.OpClose && (rec.closedBy == "" || f.Time.Before(rec.closeFrame)) {
		rec.closedBy, rec.closeFrame, rec.closeCode = f.Direction, f.Time, closeCode(f.Payload)
	}
	if f.Direction != schema.FromClient {
		rec.server++
		return
	}
	g := *f
	g.Payload = append([]byte(nil), f.Payload...)
	if n := len(rec.client); n > 0 && g.Time.Before(rec.client[n-1].Time) {
		rec.sorted = false
	}
	rec.client = append(rec.client, g)
}

// Len returns how many frames were added.
func (x *FrameIndex) Len() int {
	if x == nil {
		return 0
	}
	return x.n
}

// Conns returns how many connections have frames.
func (x *FrameIndex) Conns() int {
	if x == nil {
		return 0
	}
	return len(x.conns)
}

// lookup returns the recording of conn, its client frames in order (nil
// when there is none). Not safe concurrently with Add.
func (x *FrameIndex) lookup(conn string) *wsRecording {
	if x == nil {
		return nil
	}
	rec := x.conns[conn]
	if rec != nil && !rec.sorted {
		sort.SliceStable(rec.client, func(i, j int) bool { return rec.client[i].Time.Before(rec.client[j].Time) })
		rec.sorted = true
	}
	return rec
}

// closeCode reads the status code of a close frame's payload (RFC 6455
// §5.5.1): 1005 (no status) when it has none.
func closeCode(p []byte) int {
	if len(p) < 2 {
		return int(websocket.StatusNoStatusRcvd)
	}
	return int(binary.BigEndian.Uint16(p))
}

// wsScript is a prepared connection: what to send and when, as offsets
// from the upgrade's scheduled time (scaled by the speed).
type wsScript struct {
	header    http.Header
	protocols []string
	out       []wsOut
	skipped   int64         // recorded client control frames not replayed (pings, pongs)
	end       time.Duration // the recorded end: client close, or last frame
	closeCode int           // the code to close with at end
	waitPeer  bool          // the server closed in the recording: wait for the target's close
	check     *WSCheck
	class     string
}

// wsOut is one client message to send.
type wsOut struct {
	at   time.Duration
	typ  websocket.MessageType
	data []byte
}

// wsHeaders are the handshake headers the library writes itself.
func wsHeader(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "sec-websocket-")
}

// prepareWS builds the script of the upgrade p was prepared from:
// placeholders in payloads are filled for the virtual user as in headers.
func (pr *preparer) prepareWS(r *shaper.Request, p *pending) {
	e := r.Exchange
	s := &wsScript{header: http.Header{}, class: r.Class}
	kept := p.headers[:0]
	for _, h := range p.headers {
		if wsHeader(h.Name) {
			if strings.EqualFold(h.Name, "Sec-WebSocket-Protocol") {
				for _, v := range strings.Split(h.Value, ",") {
					if v = strings.TrimSpace(v); v != "" {
						s.protocols = append(s.protocols, v)
					}
				}
			}
			continue
		}
		kept = append(kept, h)
		s.header[h.Name] = append(s.header[h.Name], h.Value)
	}
	p.headers = kept
	s.check = pr.wsCfg.checkFor(e.Path)
	speed := pr.wsCfg.speed()
	scale := func(t time.Time) time.Duration {
		return max(time.Duration(float64(t.Sub(e.Time))/speed), 0)
	}
	s.closeCode = int(websocket.StatusNormalClosure)
	rec := pr.wsCfg.Frames.lookup(ConnID(e.Session, e.Seq))
	if rec != nil {
		id := identity(r)
		for i := range rec.client {
			f := &rec.client[i]
			switch f.Opcode {
			case schema.OpText, schema.OpBinary:
				typ := websocket.MessageText
				if f.Opcode == schema.OpBinary {
					typ = websocket.MessageBinary
				}
				data := f.Payload
				if typ == websocket.MessageText && strings.Contains(string(data), "{{") {
					data = []byte(pr.subst.replace(string(data), id, ""))
				}
				s.out = append(s.out, wsOut{at: scale(f.Time), typ: typ, data: data})
			case schema.OpClose:
			default:
				s.skipped++
			}
		}
		s.end = scale(rec.last)
		if rec.closedBy == schema.FromClient {
			s.end, s.closeCode = scale(rec.closeFrame), rec.closeCode
			if s.closeCode == int(websocket.StatusNoStatusRcvd) {
				s.closeCode = int(websocket.StatusNormalClosure)
			}
		}
		s.waitPeer = rec.closedBy == schema.FromServer
	}
	p.ws = s
	p.result.WS = true
}

// checkFor returns the first check whose route matches path, or nil.
func (c *WSConfig) checkFor(path string) *WSCheck {
	for i := range c.Checks {
		if c.Checks[i].matches(path) {
			return &c.Checks[i]
		}
	}
	return nil
}
