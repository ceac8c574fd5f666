package replay

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// errProtocol marks a response that is not valid HTTP/1.1.
var errProtocol = errors.New("malformed HTTP response")

// maxHeaderBytes bounds a response's status line and headers.
const maxHeaderBytes = 64 << 10

// respParser finds the ends of HTTP/1.1 responses in bytes as they arrive,
// for the lean driver's poller: feed takes whatever has been read so far and
// consumes what it can (bodies are skipped, never buffered; a head is
// parsed once it is whole), so a response may come in any number of pieces.
// 1xx responses before the final one are skipped.
type respParser struct {
	state     parseState
	remain    int64 // body or chunk bytes still to skip
	status    int
	keepAlive bool
	n         int64 // bytes of the response consumed so far
}

type parseState uint8

const (
	stHead      parseState = iota // status line and headers
	stBody                        // Content-Length body
	stChunkSize                   // a chunk-size line
	stChunkData                   // chunk data
	stChunkEnd                    // the CRLF after chunk data
	stTrailers                    // trailer lines up to the empty line
	stToEOF                       // no length: the body runs to the end of the connection
)

// feed consumes what it can of b for the response to a request with method.
// It returns the bytes used and whether the response is complete (then
// p.status, p.keepAlive and p.n describe it until the next feed starts the
// next response). A response running to the end of the connection is never
// complete here: see eof.
func (p *respParser) feed(b []byte, method string) (used int, done bool, err error) {
	for {
		rest := b[used:]
		switch p.state {
		case stHead:
			end := headEnd(rest)
			if end < 0 || end > maxHeaderBytes {
				if end > maxHeaderBytes || len(rest) > maxHeaderBytes {
					return used, false, fmt.Errorf("%w: headers over %d bytes", errProtocol, maxHeaderBytes)
				}
				return used, false, nil
			}
			h, err := parseHead(rest[:end])
			used += end
			p.n += int64(end)
			if err != nil {
				return used, false, err
			}
			if h.status >= 100 && h.status < 200 && h.status != 101 {
				continue // an interim response: the final one follows
			}
			p.status, p.keepAlive = h.status, !h.close && h.proto11
			switch {
			case method == "HEAD" || h.status == 204 || h.status == 304 || h.status == 101:
				return used, p.end(), nil
			case h.chunked:
				p.state = stChunkSize
			case h.length >= 0:
				p.state, p.remain = stBody, h.length
			default:
				p.state, p.keepAlive = stToEOF, false
			}
		case stBody, stChunkData:
			k := min(p.remain, int64(len(rest)))
			used += int(k)
			p.n += k
			if p.remain -= k; p.remain > 0 {
				return used, false, nil
			}
			if p.state == stBody {
				return used, p.end(), nil
			}
			p.state = stChunkEnd
		case stChunkSize, stChunkEnd, stTrailers:
			line, k := nextLine(rest)
			if k < 0 || k > maxHeaderBytes {
				if k > maxHeaderBytes || len(rest) > maxHeaderBytes {
					return used, false, fmt.Errorf("%w: line over %d bytes", errProtocol, maxHeaderBytes)
				}
				return used, false, nil
			}
			used += k
			p.n += int64(k)
			switch p.state {
			case stChunkEnd:
				if len(line) != 0 {
					return used, false, fmt.Errorf("%w: %q after chunk data", errProtocol, clipBytes(line))
				}
				p.state = stChunkSize
			case stTrailers:
				if len(line) == 0 {
					return used, p.end(), nil
				}
			default:
				if i := bytes.IndexByte(line, ';'); i >= 0 {
					line = line[:i]
				}
				size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
				if err != nil || size < 0 {
					return used, false, fmt.Errorf("%w: chunk size %q", errProtocol, clipBytes(line))
				}
				p.state, p.remain = stChunkData, size
				if size == 0 {
					p.state = stTrailers
				}
			}
		case stToEOF:
			p.n += int64(len(rest))
			return len(b), false, nil
		}
	}
}

// end finishes a response: the next feed starts the next one.
func (p *respParser) end() bool {
	p.state, p.remain = stHead, 0
	return true
}

// eof tells the parser the connection ended. A response running to the end
// of the connection is then complete; any other one begun is cut short.
func (p *respParser) eof() (done bool) {
	if p.state == stToEOF {
		return p.end()
	}
	return false
}

// started reports whether any byte of the current response has arrived.
func (p *respParser) started() bool { return p.n > 0 }

// reset readies the parser for a new response, after a complete one was
// taken (its n counted).
func (p *respParser) reset() { p.n = 0 }

// headEnd returns the length of the head at the start of b, through its
// empty line, or -1 when b does not hold it all.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
		if i >= len(b) {
			return -1
		}
	}
}

// nextLine returns the first CRLF- or LF-terminated line of b without its
// terminator, and the bytes it takes; k < 0 when b holds no whole line.
func nextLine(b []byte) (line []byte, k int) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, -1
	}
	line = b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, i + 1
}

type respHeader struct {
	status  int
	proto11 bool
	close   bool
	chunked bool
	length  int64 // -1 when absent
}

// parseHead parses a whole response head: status line, headers, empty line.
func parseHead(b []byte) (h respHeader, err error) {
	h.length = -1
	line, k := nextLine(b)
	b = b[k:]
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return h, fmt.Errorf("%w: status line %q", errProtocol, clipBytes(line))
	}
	h.proto11 = line[7] == '1'
	h.status, err = strconv.Atoi(string(line[9:12]))
	if err != nil || h.status < 100 || h.status > 999 {
		return h, fmt.Errorf("%w: status line %q", errProtocol, clipBytes(line))
	}
	for {
		line, k = nextLine(b)
		b = b[k:]
		if len(line) == 0 {
			return h, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return h, fmt.Errorf("%w: header line %q", errProtocol, clipBytes(line))
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			h.length, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil || h.length < 0 {
				return h, fmt.Errorf("%w: Content-Length %q", errProtocol, clipBytes(value))
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			h.chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			h.close = bytes.EqualFold(value, []byte("close"))
		}
	}
}

func clipBytes(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
