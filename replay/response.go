package replay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// errProtocol marks a response that is not valid HTTP/1.1.
var errProtocol = errors.New("malformed HTTP response")

// maxHeaderBytes bounds a response's status line and headers.
const maxHeaderBytes = 64 << 10

// readResponse reads one HTTP/1.1 response to a request with method from br
// and discards its body. It returns the final status, the bytes read, and
// whether the connection can carry another request. 1xx responses before
// the final one are skipped.
func readResponse(br *bufio.Reader, method string) (status int, n int64, keepAlive bool, err error) {
	for {
		var h respHeader
		h, err = readHead(br, &n)
		if err != nil {
			return 0, n, false, err
		}
		status = h.status
		if status >= 100 && status < 200 && status != 101 {
			continue
		}
		keepAlive = !h.close && h.proto11
		switch {
		case method == "HEAD" || status == 204 || status == 304 || status == 101:
		case h.chunked:
			err = discardChunked(br, &n)
		case h.length >= 0:
			var d int
			d, err = br.Discard(int(h.length))
			n += int64(d)
		default:
			// No length: the body runs to the end of the connection.
			var d int64
			d, err = io.Copy(io.Discard, br)
			n += d
			keepAlive = false
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return status, n, keepAlive, err
	}
}

type respHeader struct {
	status  int
	proto11 bool
	close   bool
	chunked bool
	length  int64 // -1 when absent
}

func readHead(br *bufio.Reader, n *int64) (h respHeader, err error) {
	h.length = -1
	line, err := readLine(br, n)
	if err != nil {
		return h, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return h, fmt.Errorf("%w: status line %q", errProtocol, clipBytes(line))
	}
	h.proto11 = line[7] == '1'
	h.status, err = strconv.Atoi(string(line[9:12]))
	if err != nil || h.status < 100 || h.status > 999 {
		return h, fmt.Errorf("%w: status line %q", errProtocol, clipBytes(line))
	}
	for size := len(line); ; {
		line, err = readLine(br, n)
		if err != nil {
			return h, err
		}
		if len(line) == 0 {
			return h, nil
		}
		if size += len(line); size > maxHeaderBytes {
			return h, fmt.Errorf("%w: headers over %d bytes", errProtocol, maxHeaderBytes)
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

// readLine reads a CRLF- or LF-terminated line without its terminator.
func readLine(br *bufio.Reader, n *int64) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	*n += int64(len(line))
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%w: line over %d bytes", errProtocol, br.Size())
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, nil
}

func discardChunked(br *bufio.Reader, n *int64) error {
	for {
		line, err := readLine(br, n)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("%w: chunk size %q", errProtocol, clipBytes(line))
		}
		if size == 0 {
			// Trailers, then the empty line.
			for {
				line, err := readLine(br, n)
				if err != nil || len(line) == 0 {
					return err
				}
			}
		}
		d, err := br.Discard(int(size))
		*n += int64(d)
		if err != nil {
			return err
		}
		if _, err := readLine(br, n); err != nil {
			return err
		}
	}
}

func clipBytes(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
