package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"sync"
	"time"
)

// wsParser follows one direction of a WebSocket connection (RFC 6455
// section 5.2) as its bytes pass through the tap, in whatever pieces they
// come, and reports each complete message: a data message (text or binary,
// its fragments joined) or a control frame (close, ping, pong). It keeps at
// most limit bytes of a message's payload, unmasked. It never blocks and
// never fails the stream it watches: bytes it cannot parse (a frame whose
// header breaks the RFC) end its parsing, counted once by broken.
//
// A message compressed by permessage-deflate (RFC 7692: RSV1 set on its
// first frame) is inflated when the connection negotiated it (inflate set,
// from the 101 response the server side's stream starts with: inHead);
// its size is then the inflated size. A compressed message that cannot be
// inflated keeps no payload, only its size on the wire: its bytes could not
// be scrubbed, and compression hides no secret.
type wsParser struct {
	limit int
	emit  func(op int32, payload []byte, size int64, truncated bool, at time.Time)

	hdr    [14]byte
	hdrN   int   // header bytes read of the current frame
	inBody bool  // reading the current frame's payload
	left   int64 // its payload bytes still to come
	mask   [4]byte
	masked bool
	maskAt int // position in mask of the next payload byte
	fin    bool
	op     byte // the current frame's opcode

	// The data message being assembled (its first frame's opcode).
	msgOp   byte
	inMsg   bool
	msgRSV1 bool   // compressed
	zok     bool   // it is being kept for inflation...
	zbuf    []byte // ...in zbuf, unmasked
	msgSize int64
	msgBuf  []byte

	inflate *inflater // permessage-deflate negotiated for this direction
	// inHead: the stream starts with an HTTP response head (the 101 the
	// proxy writes through the tap), read up to its blank line and handed
	// to onHead before frames follow.
	inHead bool
	head   []byte
	onHead func(head []byte)
	// A control frame's payload (at most 125 bytes), which may come
	// between a message's fragments.
	ctrlBuf  []byte
	ctrlSize int64

	broken bool
	// at is when the bytes being fed reached the tap (feedAt); zero means
	// now, when a message ends.
	at time.Time
}

// feedAt parses the next bytes of the stream, which reached the tap at at:
// a message they end is stamped with it.
func (p *wsParser) feedAt(b []byte, at time.Time) {
	p.at = at
	p.feed(b)
	p.at = time.Time{}
}

// feed parses the next bytes of the stream.
func (p *wsParser) feed(b []byte) {
	for len(b) > 0 && !p.broken {
		if p.inHead {
			b = p.readHead(b)
			continue
		}
		if !p.inBody {
			b = p.header(b)
			continue
		}
		n := int(min(int64(len(b)), p.left))
		p.payload(b[:n])
		b = b[n:]
		p.left -= int64(n)
		if p.left == 0 {
			p.endFrame()
		}
	}
}

// readHead reads the response head from b and returns the rest.
func (p *wsParser) readHead(b []byte) []byte {
	p.head = append(p.head, b...)
	end := bytes.Index(p.head, []byte("\r\n\r\n"))
	if end < 0 {
		if len(p.head) > 64<<10 {
			p.broken = true
		}
		return nil
	}
	rest := p.head[end+4:]
	p.inHead = false
	if p.onHead != nil {
		p.onHead(p.head[:end+4])
	}
	p.head = nil
	return rest
}

// header reads header bytes from b and returns the rest; when the header is
// complete the frame's payload starts (or the frame ends, when empty).
func (p *wsParser) header(b []byte) []byte {
	need := 2
	if p.hdrN >= 2 {
		need = headerLen(p.hdr[1])
	}
	for p.hdrN < need && len(b) > 0 {
		p.hdr[p.hdrN] = b[0]
		p.hdrN++
		b = b[1:]
		if p.hdrN == 2 {
			need = headerLen(p.hdr[1])
		}
	}
	if p.hdrN < need {
		return b
	}
	p.fin = p.hdr[0]&0x80 != 0
	p.op = p.hdr[0] & 0x0f
	p.masked = p.hdr[1]&0x80 != 0
	n := int64(p.hdr[1] & 0x7f)
	at := 2
	switch n {
	case 126:
		n = int64(binary.BigEndian.Uint16(p.hdr[2:4]))
		at = 4
	case 127:
		u := binary.BigEndian.Uint64(p.hdr[2:10])
		if u>>63 != 0 {
			p.broken = true
			return nil
		}
		n = int64(u)
		at = 10
	}
	if p.masked {
		copy(p.mask[:], p.hdr[at:at+4])
	}
	p.maskAt, p.left, p.hdrN = 0, n, 0
	control := p.op&0x08 != 0
	switch {
	case control && (n > 125 || !p.fin), // section 5.5
		control && p.op > 0x0a,
		!control && p.op > 0x02,
		p.op == 0 && !p.inMsg,            // a continuation of nothing
		p.op != 0 && !control && p.inMsg: // a new message inside a message
		p.broken = true
		return nil
	}
	if control {
		p.ctrlBuf, p.ctrlSize = p.ctrlBuf[:0], n
	} else if p.op != 0 {
		p.inMsg, p.msgOp, p.msgSize, p.msgBuf = true, p.op, 0, nil
		p.msgRSV1 = p.hdr[0]&0x40 != 0
		p.zok = p.msgRSV1 && p.inflate != nil && !p.inflate.lost
	}
	if p.op == 0 || !control {
		p.msgSize += n
	}
	p.inBody = true
	if n == 0 {
		p.endFrame()
	}
	return b
}

// headerLen returns the length of a frame header from its second byte.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// payload keeps what the limit allows of a frame's payload bytes, unmasked.
func (p *wsParser) payload(b []byte) {
	control := p.op&0x08 != 0
	room := p.limit - len(p.msgBuf)
	if control {
		room = p.limit - len(p.ctrlBuf)
	} else if p.msgRSV1 {
		room = 0
		p.deflated(b)
	}
	keep := b[:max(0, min(len(b), room))]
	start := len(p.msgBuf)
	if control {
		start = len(p.ctrlBuf)
		p.ctrlBuf = append(p.ctrlBuf, keep...)
	} else {
		p.msgBuf = append(p.msgBuf, keep...)
	}
	if p.masked {
		buf := p.msgBuf
		if control {
			buf = p.ctrlBuf
		}
		for i := range keep {
			buf[start+i] ^= p.mask[(p.maskAt+i)&3]
		}
	}
	p.maskAt = (p.maskAt + len(b)) & 3
}

// deflated keeps a compressed message's bytes, unmasked, for inflation.
func (p *wsParser) deflated(b []byte) {
	if !p.zok {
		return
	}
	if len(p.zbuf)+len(b) > maxDeflated {
		p.inflate.lost = p.inflate.takeover // the context is gone with this message
		p.zok, p.zbuf = false, nil
		return
	}
	start := len(p.zbuf)
	p.zbuf = append(p.zbuf, b...)
	if p.masked {
		for i := range b {
			p.zbuf[start+i] ^= p.mask[(p.maskAt+i)&3]
		}
	}
}

// endFrame reports a control frame, or the message a final fragment ends.
func (p *wsParser) endFrame() {
	p.inBody = false
	now := p.at
	if now.IsZero() {
		now = time.Now()
	}
	if p.op&0x08 != 0 {
		p.emit(int32(p.op), clone(p.ctrlBuf), p.ctrlSize, p.ctrlSize > int64(len(p.ctrlBuf)), now)
		return
	}
	if !p.fin {
		return
	}
	payload, size := p.msgBuf, p.msgSize
	if p.zok && !p.inflate.lost {
		out, n, err := p.inflate.message(p.zbuf, p.limit)
		if err != nil {
			p.inflate.lost = p.inflate.takeover
		} else {
			payload, size = out, n
		}
	}
	p.emit(int32(p.msgOp), payload, size, size > int64(len(payload)), now)
	p.inMsg, p.msgBuf, p.zbuf, p.zok = false, nil, nil, false // the emitted slice is the frame's now
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// tapConn is a hijacked client connection whose bytes feed two parsers:
// what the client sends (Read) and what the server sends back (Write). It
// changes nothing of what passes.
type tapConn struct {
	net.Conn
	fromClient, fromServer *wsParser
	closeOnce              sync.Once
	closed                 func() // called once, at the first Close
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.fromClient.feed(b[:n])
	}
	return n, err
}

func (c *tapConn) Write(b []byte) (int, error) {
	// Stamped before the write: once the client has the bytes it may
	// answer, and its answer must not be recorded before them.
	at := time.Now()
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.fromServer.feedAt(b[:n], at)
	}
	return n, err
}

// CloseWrite half-closes the connection when it can (ReverseProxy passes an
// end of stream on this way).
func (c *tapConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *tapConn) Close() error {
	err := c.Conn.Close()
	if c.closed != nil {
		c.closeOnce.Do(c.closed)
	}
	return err
}
