package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/surge-replay/surge/schema"
)

// chatUpstream answers each text message with "echo: " + it, and pings the
// client once after the first message.
func chatUpstream(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	})
}

// TestTapWebSocketChat records a chat session through the tap: the upgrade
// as an Exchange and every message as a Frame, in order, with direction,
// opcode, size, payload and time, tied to the upgrade's session and seq.
func TestTapWebSocketChat(t *testing.T) {
	f := newTapFixture(t, chatUpstream(t), TapConfig{
		Routes:  []TapRoute{{Prefix: "/chat", FrameLimit: 16}},
		Session: SessionKey{Kind: "query", Name: "room"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/chat?room=42"
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []struct {
		typ  websocket.MessageType
		data string
	}{
		{websocket.MessageText, "hello"},
		{websocket.MessageBinary, "\x00\x01\x02"},
		{websocket.MessageText, strings.Repeat("long message ", 20)}, // over the 16-byte limit
	}
	for _, m := range msgs {
		if err := c.Write(ctx, m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil || typ != m.typ || string(got) != "echo: "+m.data {
			t.Fatalf("reply %v %q %v; want %v %q", typ, got, err, m.typ, "echo: "+m.data)
		}
	}
	c.Close(websocket.StatusNormalClosure, "bye")
	// The connection's end reaches the tap a moment after Close returns.
	time.Sleep(50 * time.Millisecond)
	ex, fr := f.close(t)
	if len(ex) != 1 || ex[0].Protocol != schema.ProtoWebSocket || ex[0].StatusCode() != 101 || ex[0].Path != "/chat" {
		t.Fatalf("exchanges %+v; want one WebSocket upgrade of /chat with status 101", ex)
	}
	up := ex[0]
	type want struct {
		dir     string
		op      int32
		payload string
		size    int
	}
	var wants []want
	for _, m := range msgs {
		op := int32(schema.OpText)
		if m.typ == websocket.MessageBinary {
			op = schema.OpBinary
		}
		wants = append(wants,
			want{schema.FromClient, op, m.data, len(m.data)},
			want{schema.FromServer, op, "echo: " + m.data, len(m.data) + 6})
	}
	closePayload := string(binary.BigEndian.AppendUint16(nil, uint16(websocket.StatusNormalClosure))) + "bye"
	wants = append(wants, want{schema.FromClient, schema.OpClose, closePayload, len(closePayload)})
	if len(fr) < len(wants) {
		t.Fatalf("recorded %d frames; want at least %d: %+v", len(fr), len(wants), fr)
	}
	for i, w := range wants {
		g := fr[i]
		wantPayload := w.payload[:min(len(w.payload), 16)]
		if g.Direction != w.dir || g.Opcode != w.op || string(g.Payload) != wantPayload || g.PayloadSize != int64(w.size) ||
			g.PayloadTruncated != (w.size > 16) {
			t.Errorf("frame %d = %s op %d %q (size %d, truncated %v); want %s op %d %q (size %d)",
				i, g.Direction, g.Opcode, g.Payload, g.PayloadSize, g.PayloadTruncated, w.dir, w.op, wantPayload, w.size)
		}
		if g.Session != up.Session || g.Conn != fmt.Sprintf("%s#%d", up.Session, up.Seq) || g.Seq != int32(i) {
			t.Errorf("frame %d session %q conn %q seq %d; want session %q conn %s#%d seq %d", i, g.Session, g.Conn, g.Seq, up.Session, up.Session, up.Seq, i)
		}
		if g.Time.Before(up.Time) || (i > 0 && g.Time.Before(fr[i-1].Time)) {
			t.Errorf("frame %d at %v is before the upgrade or the frame before it", i, g.Time)
		}
	}
	// The server's close reply ends the recording.
	if last := fr[len(fr)-1]; len(fr) == len(wants)+1 && (last.Direction != schema.FromServer || last.Opcode != schema.OpClose) {
		t.Errorf("last frame %s op %d; want the server's close", last.Direction, last.Opcode)
	}
}

// wsFrame builds one frame; mask (4 bytes) masks it as a client does.
func wsFrame(fin bool, op byte, payload []byte, mask []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	var mbit byte
	if mask != nil {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, mbit|byte(n))
	case n < 1<<16:
		out = append(out, mbit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, mbit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if mask == nil {
		return append(out, payload...)
	}
	out = append(out, mask...)
	for i, c := range payload {
		out = append(out, c^mask[i%4])
	}
	return out
}

type gotMsg struct {
	op        int32
	payload   string
	size      int64
	truncated bool
}

func parseAll(limit int, stream []byte, piece int) ([]gotMsg, bool) {
	var got []gotMsg
	p := &wsParser{limit: limit, emit: func(op int32, payload []byte, size int64, truncated bool, _ time.Time) {
		got = append(got, gotMsg{op, string(payload), size, truncated})
	}}
	for len(stream) > 0 {
		n := min(piece, len(stream))
		p.feed(stream[:n])
		stream = stream[n:]
	}
	return got, p.broken
}

func TestWSParser(t *testing.T) {
	mask := []byte{1, 2, 3, 4}
	big := bytes.Repeat([]byte("x"), 70000)
	for _, tc := range []struct {
		name   string
		stream []byte
		limit  int
		want   []gotMsg
		broken bool
	}{
		{"one unmasked text", wsFrame(true, 1, []byte("hi"), nil), 100,
			[]gotMsg{{1, "hi", 2, false}}, false},
		{"masked binary", wsFrame(true, 2, []byte{9, 8, 7}, mask), 100,
			[]gotMsg{{2, "\x09\x08\x07", 3, false}}, false},
		{"fragments joined, a ping between them",
			cat(wsFrame(false, 1, []byte("hel"), mask), wsFrame(true, 9, []byte("p"), mask), wsFrame(true, 0, []byte("lo"), mask)), 100,
			[]gotMsg{{9, "p", 1, false}, {1, "hello", 5, false}}, false},
		{"16-bit length, truncated to the limit", wsFrame(true, 2, big[:300], nil), 10,
			[]gotMsg{{2, "xxxxxxxxxx", 300, true}}, false},
		{"64-bit length", wsFrame(true, 2, big, mask), 4,
			[]gotMsg{{2, "xxxx", 70000, true}}, false},
		{"limit zero keeps sizes only", wsFrame(true, 1, []byte("secret"), mask), 0,
			[]gotMsg{{1, "", 6, true}}, false},
		{"compressed (RSV1): size only", func() []byte { f := wsFrame(true, 1, []byte("deflated"), mask); f[0] |= 0x40; return f }(), 100,
			[]gotMsg{{1, "", 8, true}}, false},
		{"empty close", wsFrame(true, 8, nil, nil), 10,
			[]gotMsg{{8, "", 0, false}}, false},
		{"continuation of nothing", wsFrame(true, 0, []byte("x"), nil), 10, nil, true},
		{"fragmented control frame", wsFrame(false, 9, []byte("x"), nil), 10, nil, true},
		{"reserved opcode", wsFrame(true, 3, []byte("x"), nil), 10, nil, true},
		{"new message inside a message",
			cat(wsFrame(false, 1, []byte("a"), nil), wsFrame(true, 1, []byte("b"), nil)), 10, nil, true},
	} {
		for _, piece := range []int{1, 3, 1 << 20} { // byte by byte, small pieces, all at once
			got, broken := parseAll(tc.limit, tc.stream, piece)
			if broken != tc.broken || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s (pieces of %d): got %v broken %v; want %v broken %v", tc.name, piece, got, broken, tc.want, tc.broken)
			}
		}
	}
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// FuzzWSParser: any bytes in any pieces never panic, and the sizes reported
// are consistent with the payload kept.
func FuzzWSParser(f *testing.F) {
	f.Add(wsFrame(true, 1, []byte("hi"), []byte{1, 2, 3, 4}), uint8(1))
	f.Add(cat(wsFrame(false, 2, []byte("ab"), nil), wsFrame(true, 0, []byte("c"), nil)), uint8(2))
	f.Add([]byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint8(5))
	f.Add(append([]byte("HTTP/1.1 101 x\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n\xc1\x05"), deflateMessages("hello")[0]...), uint8(7))
	f.Fuzz(func(t *testing.T, stream []byte, piece uint8) {
		p := &wsParser{limit: 8, inHead: bytes.HasPrefix(stream, []byte("HTTP/")), emit: func(op int32, payload []byte, size int64, truncated bool, _ time.Time) {
			if len(payload) > 8 || int64(len(payload)) > size || truncated != (size > int64(len(payload))) {
				t.Fatalf("op %d payload %d bytes, size %d, truncated %v", op, len(payload), size, truncated)
			}
		}}
		p.onHead = func(head []byte) { _, p.inflate = deflateParams(head) }
		step := max(int(piece), 1)
		for len(stream) > 0 {
			n := min(step, len(stream))
			p.feed(stream[:n])
			stream = stream[n:]
		}
	})
}

// TestTapWebSocketCompressed: messages compressed by permessage-deflate
// (with and without context takeover) are inflated, then scrubbed like any
// payload: the secret is gone, the rest is readable.
func TestTapWebSocketCompressed(t *testing.T) {
	for _, mode := range []websocket.CompressionMode{websocket.CompressionContextTakeover, websocket.CompressionNoContextTakeover} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: mode, CompressionThreshold: 1})
				if err != nil {
					return
				}
				defer c.CloseNow()
				for {
					typ, msg, err := c.Read(r.Context())
					if err != nil {
						return
					}
					c.Write(r.Context(), typ, msg)
				}
			})
			f := newTapFixture(t, up, TapConfig{Routes: []TapRoute{{Prefix: "/"}}})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/ws",
				&websocket.DialOptions{CompressionMode: mode, CompressionThreshold: 1})
			if err != nil {
				t.Fatal(err)
			}
			if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
				t.Fatalf("no compression negotiated (%q): the test proves nothing", ext)
			}
			// Three similar messages: with context takeover the later ones
			// refer back to the earlier ones.
			var sent []string
			for i := range 3 {
				msg := fmt.Sprintf(`{"n":%d,"password":"CANARYdeflate%d","text":"%s"}`, i, i, strings.Repeat("hello chat ", 10))
				sent = append(sent, msg)
				if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				if _, got, err := c.Read(ctx); err != nil || string(got) != msg {
					t.Fatalf("echo %q, %v", got, err)
				}
			}
			c.Close(websocket.StatusNormalClosure, "")
			time.Sleep(50 * time.Millisecond)
			_, fr := f.close(t)
			var text []schema.Frame
			for _, g := range fr {
				if bytes.Contains(g.Payload, []byte("CANARY")) {
					t.Errorf("frame %d holds the secret: %q", g.Seq, g.Payload)
				}
				if g.Opcode == schema.OpText {
					text = append(text, g)
				}
			}
			if len(text) != 2*len(sent) {
				t.Fatalf("recorded %d text messages; want %d", len(text), 2*len(sent))
			}
			for i, g := range text {
				want := strings.Replace(sent[i/2], fmt.Sprintf("CANARYdeflate%d", i/2), "", 1)
				got := string(g.Payload)
				if !strings.Contains(got, "hello chat hello chat") || !strings.Contains(got, `"password":"{{secret:`) ||
					g.PayloadSize != int64(len(g.Payload)) || g.PayloadTruncated {
					t.Errorf("message %d = %q (size %d, truncated %v); want %q inflated with the password scrubbed", i, got, g.PayloadSize, g.PayloadTruncated, want)
				}
			}
		})
	}
}
