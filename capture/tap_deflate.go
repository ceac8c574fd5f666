package capture

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net/textproto"
	"strings"
)

// Bounds of permessage-deflate inflation: a compressed message longer than
// maxDeflated is not buffered, an inflated one longer than maxInflated is
// not read to its end (a deflate bomb). Either ends inflation for the rest
// of a direction that keeps its compression context.
const (
	maxDeflated = 1 << 20
	maxInflated = 16 << 20
	deflateDict = 32 << 10 // the LZ77 window of deflate
)

// deflateTail ends every compressed message's data: the empty stored block
// the sender removed (RFC 7692 section 7.2.1).
var deflateTail = []byte{0, 0, 0xff, 0xff}

var errInflateBound = errors.New("capture: websocket message over the inflation bounds")

// inflater decompresses the permessage-deflate messages (RFC 7692) of one
// direction of a connection. With context takeover (the default) each
// message may refer to the last 32 KiB of the messages before it, so the
// inflater keeps them; once it misses a message it can inflate no more.
type inflater struct {
	takeover bool
	dict     []byte // the last deflateDict bytes inflated (takeover)
	lost     bool   // a message was missed: the context is gone
	fr       io.ReadCloser
	buf      [4096]byte
}

// message inflates one message's compressed bytes and returns up to limit
// bytes of the result and its whole size.
func (f *inflater) message(z []byte, limit int) ([]byte, int64, error) {
	src := io.MultiReader(bytes.NewReader(z), bytes.NewReader(deflateTail))
	var dict []byte
	if f.takeover {
		dict = f.dict
	}
	if f.fr == nil {
		f.fr = flate.NewReaderDict(src, dict)
	} else if err := f.fr.(flate.Resetter).Reset(src, dict); err != nil {
		return nil, 0, err
	}
	var out []byte
	var size int64
	for {
		n, err := f.fr.Read(f.buf[:])
		chunk := f.buf[:n]
		if room := limit - len(out); room > 0 && n > 0 {
			out = append(out, chunk[:min(n, room)]...)
		}
		size += int64(n)
		if f.takeover && n > 0 {
			f.dict = append(f.dict, chunk...)
			if len(f.dict) > 2*deflateDict {
				f.dict = append(f.dict[:0], f.dict[len(f.dict)-deflateDict:]...)
			}
		}
		switch {
		case size > maxInflated:
			return nil, 0, errInflateBound
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			// A message ends with a sync flush, not a final block: the
			// input runs out where the message does.
			if len(f.dict) > deflateDict {
				f.dict = f.dict[len(f.dict)-deflateDict:]
			}
			return out, size, nil
		case err != nil:
			return nil, 0, err
		}
	}
}

// deflateParams returns the inflaters a 101 response's
// Sec-WebSocket-Extensions negotiated for the client's and the server's
// messages, or nils when it did not negotiate permessage-deflate.
func deflateParams(head []byte) (client, server *inflater) {
	for _, line := range strings.Split(string(head), "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)) != "Sec-Websocket-Extensions" {
			continue
		}
		for _, ext := range strings.Split(value, ",") {
			params := strings.Split(ext, ";")
			if strings.TrimSpace(params[0]) != "permessage-deflate" {
				continue
			}
			client, server = &inflater{takeover: true}, &inflater{takeover: true}
			for _, p := range params[1:] {
				switch strings.TrimSpace(p) {
				case "client_no_context_takeover":
					client.takeover = false
				case "server_no_context_takeover":
					server.takeover = false
				}
			}
			return client, server
		}
	}
	return nil, nil
}
