package capture

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"
)

func TestDeflateParams(t *testing.T) {
	for _, tc := range []struct {
		head                   string
		want                   bool // negotiated
		clientTake, serverTake bool
	}{
		// context takeover both ways (the default)
		{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", true, true, true},
		// no takeover, lower-case header name, parameters with spaces
		{"HTTP/1.1 101 x\r\nsec-websocket-extensions: permessage-deflate; client_no_context_takeover ; server_no_context_takeover\r\n\r\n", true, false, false},
		// window bits only
		{"HTTP/1.1 101 x\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n\r\n", true, true, true},
		// another extension first, then deflate
		{"HTTP/1.1 101 x\r\nSec-WebSocket-Extensions: x-foo, permessage-deflate; client_no_context_takeover\r\n\r\n", true, false, true},
		// none negotiated
		{"HTTP/1.1 101 x\r\nUpgrade: websocket\r\n\r\n", false, false, false},
	} {
		c, s := deflateParams([]byte(tc.head))
		if (c != nil) != tc.want || (c != nil && (c.takeover != tc.clientTake || s.takeover != tc.serverTake)) {
			t.Errorf("deflateParams(%q) = %+v, %+v; want negotiated %v, takeover client %v server %v", tc.head, c, s, tc.want, tc.clientTake, tc.serverTake)
		}
	}
}

// deflateMessages compresses messages as a permessage-deflate sender with
// context takeover does: one stream, a sync flush after each, the tail cut.
func deflateMessages(msgs ...string) [][]byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	var out [][]byte
	for _, m := range msgs {
		buf.Reset()
		w.Write([]byte(m))
		w.Flush()
		b := bytes.TrimSuffix(buf.Bytes(), deflateTail)
		out = append(out, append([]byte(nil), b...))
	}
	return out
}

func TestInflaterTakeover(t *testing.T) {
	msgs := []string{strings.Repeat("chat message one ", 20), strings.Repeat("chat message one ", 19) + "two", "short"}
	f := &inflater{takeover: true}
	for i, z := range deflateMessages(msgs...) {
		got, size, err := f.message(z, 1000)
		if err != nil || string(got) != msgs[i] || size != int64(len(msgs[i])) {
			t.Errorf("message %d = %q (%d), %v; want %q", i, got, size, err, msgs[i])
		}
	}
	// A limit keeps a prefix and the whole size.
	f = &inflater{}
	z := deflateMessages("0123456789")[0]
	if got, size, err := f.message(z, 4); err != nil || string(got) != "0123" || size != 10 {
		t.Errorf("limited = %q (%d), %v; want \"0123\" (10)", got, size, err)
	}
}

func FuzzInflate(f *testing.F) {
	for _, z := range deflateMessages("hello", strings.Repeat("ab", 100)) {
		f.Add(z, true)
	}
	f.Add([]byte{0xff, 0xff, 0xff}, false)
	f.Fuzz(func(t *testing.T, z []byte, takeover bool) {
		in := &inflater{takeover: takeover}
		for range 2 {
			got, size, err := in.message(z, 64)
			if err == nil && (len(got) > 64 || int64(len(got)) > size || size > maxInflated) {
				t.Fatalf("got %d bytes, size %d", len(got), size)
			}
			if len(in.dict) > deflateDict {
				t.Fatalf("dictionary of %d bytes", len(in.dict))
			}
		}
	})
}
