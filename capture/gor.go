package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// Limits of the GoReplay decoder.
const (
	// gorSeparator is the line between payloads: a payload ends with
	// "\n🐵🙈🙉\n".
	gorSeparator = "🐵🙈🙉"
	// gorMaxPayload is the largest payload kept; a larger one is skipped.
	gorMaxPayload = 8 << 20
	// gorMaxPending is how many requests may wait for their response.
	gorMaxPending = 10000
	// gorMaxPendingBytes bounds what the waiting requests hold.
	gorMaxPendingBytes = 64 << 20
)

// NewGorDecoder returns a Decoder for a GoReplay (.gor) file: payloads
// separated by the line "🐵🙈🙉", each a meta line "TYPE ID TIMESTAMP_NS
// [LATENCY_NS]" followed by a raw HTTP/1.x message. Type 1 is a request,
// 2 the original response, 3 a replayed response (ignored).
//
// A request's meta timestamp is Exchange.Time. Its request line gives method,
// path and raw query (an absolute-form target also gives scheme and host);
// headers are kept in wire order, the Host header is Exchange.Host, the body
// (de-chunked; Content-Length beyond the recorded bytes marks it truncated)
// goes through SetBody. Scheme is "http" unless the target says otherwise:
// a .gor file does not record TLS. Hit.Client is the first X-Forwarded-For
// address, else X-Real-IP, else empty. Source is "gor".
//
// The response with the same ID gives Status, ResponseBytes (Content-Length,
// else the body's length) and LatencyNS: its timestamp minus the request's
// (in GoReplay 1.x the 4th meta field is the message's own capture span, not
// a latency), or the latency of a GoReplay 0.x "2 ID LATENCY_NS" meta; never
// negative. A request glued after a complete one in the same payload is
// queued as the next request, without response facts; bytes there that are
// not a request are a *RecordError at their offset. Requests are emitted in file order once their
// response is seen; a request still waiting when more than 10,000 (or 64 MiB)
// are pending, or at the end of the file, is emitted without response facts.
// A response whose request is not pending is ignored.
//
// A payload that cannot be parsed, or is over 8 MiB (skipped without being
// buffered), is a *RecordError with its line and offset; decoding goes on
// with the next payload.
func NewGorDecoder(r io.Reader, name string) Decoder {
	d := &gorDecoder{in: newGorReader(r, name), byID: make(map[string]*gorPending)}
	return d.decode
}

// gorPending is a request waiting for its response.
type gorPending struct {
	hit  Hit
	id   string
	ts   int64 // request timestamp, ns since the epoch
	done bool  // its response was seen
	size int   // bytes it holds, for gorMaxPendingBytes
}

// gorDecoder pairs requests with responses. queue holds the requests in file
// order; byID those still waiting for a response.
type gorDecoder struct {
	in      *gorReader
	queue   []*gorPending
	byID    map[string]*gorPending
	pending int // bytes held by queue
	eof     bool
	err     error // sticky fatal error
}

// decode is the Decoder: it reads payloads until a request may be emitted.
func (d *gorDecoder) decode(h *Hit) error {
	for {
		if p := d.ready(); p != nil {
			*h = p.hit
			return nil
		}
		if d.eof {
			return io.EOF
		}
		if d.err != nil {
			return d.err
		}
		payload, pos, err := d.in.next()
		var rerr *RecordError
		switch {
		case err == io.EOF:
			d.eof = true
			continue
		case errors.As(err, &rerr):
			return err
		case err != nil:
			d.err = err
			return err
		}
		if rerr := d.handle(payload, pos); rerr != nil {
			rerr.Pos = pos
			return rerr
		}
	}
}

// ready pops the oldest request when it may be emitted.
func (d *gorDecoder) ready() *gorPending {
	if len(d.queue) == 0 {
		return nil
	}
	p := d.queue[0]
	if !p.done && !d.eof && len(d.queue) <= gorMaxPending && d.pending <= gorMaxPendingBytes {
		return nil
	}
	d.queue[0] = nil
	d.queue = d.queue[1:]
	d.pending -= p.size
	if d.byID[p.id] == p {
		delete(d.byID, p.id)
	}
	return p
}

// handle parses one payload and queues or pairs it.
func (d *gorDecoder) handle(payload []byte, pos Position) *RecordError {
	if len(bytes.TrimSpace(payload)) == 0 {
		return nil
	}
	meta, msg, _ := bytes.Cut(trimLineStart(payload), []byte("\n")) // NULs: copytruncate
	if m, ok := bytes.CutSuffix(meta, []byte("\r")); ok {
		// A file whose line ends became CRLF (unix2dos, git autocrlf):
		// the meta line and the line end before the separator have a CR
		// that GoReplay did not write.
		meta, msg = m, bytes.TrimSuffix(msg, []byte("\r"))
	}
	m, rerr := parseGorMeta(string(meta))
	if rerr != nil {
		return rerr
	}
	switch m.kind {
	case "1":
		return d.requests(meta, msg, m, pos)
	case "2":
		p := d.byID[m.id]
		if p == nil {
			return nil
		}
		if rerr := gorResponse(msg, m, p); rerr != nil {
			return rerr
		}
		delete(d.byID, m.id)
	}
	return nil
}

// gorMaxGlued bounds the requests parsed out of one payload.
const gorMaxGlued = 1000

// requests queues the request of a type 1 payload and every request glued
// after it: a capture that lost a separator holds a second request right
// after the first one's body. A glued request has no response to wait for
// (its response, if any, has another ID); bytes after a request that are not
// one are a *RecordError at their own offset.
func (d *gorDecoder) requests(meta, msg []byte, m gorMeta, pos Position) *RecordError {
	at := Position{File: pos.File, Line: pos.Line + 1, Offset: pos.Offset + int64(len(meta)) + 1}
	for n := 0; ; n++ {
		p := &gorPending{id: m.id, ts: m.ts, done: n > 0}
		p.hit.Pos = pos
		if n > 0 {
			p.hit.Pos = at
		}
		rest, rerr := parseGorRequestRest(msg, m.ts, &p.hit)
		if rerr != nil {
			if n > 0 {
				rerr.Pos = at
				rerr.Reason = fmt.Sprintf("%d bytes after the request's body are not a request (%s)", len(msg), rerr.Reason)
			}
			return rerr
		}
		p.size = gorSize(&p.hit.Exchange)
		d.queue = append(d.queue, p)
		if n == 0 {
			d.byID[m.id] = p
		}
		d.pending += p.size
		used := len(msg) - len(rest)
		at.Line += int64(bytes.Count(msg[:used], []byte("\n")))
		at.Offset += int64(used)
		if msg = rest; len(bytes.TrimSpace(msg)) == 0 {
			return nil
		}
		if n+1 == gorMaxGlued {
			return &RecordError{Pos: at, Field: "payload", Reason: fmt.Sprintf("more than %d requests glued in one payload; %d bytes skipped", gorMaxGlued, len(msg))}
		}
	}
}

// gorMeta is a parsed meta line.
type gorMeta struct {
	kind  string // "1", "2" or "3"
	id    string
	ts    int64 // ns since the epoch (or a 0.x response's latency, see gorResponse)
	short bool  // three fields, no span
}

// gorMinEpoch is the smallest meta timestamp taken as a time (1973-03-03 in
// ns since the epoch): a smaller third field of a three-field response meta,
// smaller also than its request's timestamp, is the latency of GoReplay
// 0.x's "2 ID LATENCY_NS".
const gorMinEpoch = 1e17

// parseGorMeta parses "TYPE ID TIMESTAMP_NS [SPAN_NS]". In GoReplay 1.x the
// fourth field is the message's own capture span (its first to its last
// packet), not a latency: it is read and not used.
func parseGorMeta(line string) (gorMeta, *RecordError) {
	f := strings.Fields(line)
	if len(f) < 3 || len(f) > 4 {
		return gorMeta{}, badRecord("meta", "%q is not \"TYPE ID TIMESTAMP [LATENCY]\"", line)
	}
	m := gorMeta{kind: f[0], id: f[1]}
	if m.kind != "1" && m.kind != "2" && m.kind != "3" {
		return m, badRecord("meta.type", "%q is not 1, 2 or 3", m.kind)
	}
	ts, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || ts <= 0 {
		return m, badRecord("meta.timestamp", "%q is not a positive number of nanoseconds", f[2])
	}
	m.ts = ts
	m.short = len(f) == 3
	if len(f) == 4 {
		if _, err := strconv.ParseInt(f[3], 10, 64); err != nil {
			return m, badRecord("meta.span", "%q is not a number of nanoseconds", f[3])
		}
	}
	return m, nil
}

// parseGorRequest fills h from a raw HTTP/1.x request that started at ts
// (ns since the epoch).
func parseGorRequest(msg []byte, ts int64, h *Hit) *RecordError {
	_, rerr := parseGorRequestRest(msg, ts, h)
	return rerr
}

// parseGorRequestRest is parseGorRequest returning the bytes after the
// request's body (its Content-Length, or its last chunk).
func parseGorRequestRest(msg []byte, ts int64, h *Hit) ([]byte, *RecordError) {
	e := &h.Exchange
	e.Time = time.Unix(0, ts).UTC()
	line, rest, ok := gorLine(msg)
	if !ok {
		return nil, badRecord("request", "no request line")
	}
	parts := strings.Split(string(line), " ")
	if len(parts) != 3 {
		return nil, badRecord("request", "%q is not \"METHOD TARGET HTTP/1.x\"", line)
	}
	e.Method = parts[0]
	switch parts[2] {
	case "HTTP/1.0":
		e.Protocol = schema.ProtoHTTP10
	case "HTTP/1.1":
		e.Protocol = schema.ProtoHTTP11
	default:
		return nil, badRecord("proto", "%q is not HTTP/1.0 or HTTP/1.1", parts[2])
	}
	var err *RecordError
	if e.Headers, rest, err = gorHeaders(rest, e.Headers[:0]); err != nil {
		return nil, err
	}
	e.Scheme = "http"
	e.Host, _ = e.Header("Host")
	if e.Method == "CONNECT" {
		return nil, badRecord("method", "%s", connectReason(parts[1]))
	}
	if err := gorTarget(e, parts[1]); err != nil {
		return nil, err
	}
	body, declared, after, berr := gorBody(e.Headers, rest, false)
	if berr != nil {
		return nil, badRecord("body", "%v", berr)
	}
	e.SetBody(body, 0)
	if declared > e.BodySize {
		e.BodySize, e.BodyTruncated = declared, true
	}
	e.Protocol = websocketOr(e, e.Protocol)
	e.Device = deviceOf(e)
	e.Source = "gor"
	h.Client = gorClient(e)
	return after, exchangeProblem(e)
}

// gorTarget sets path and query, and scheme and host for an absolute-form
// target (which wins over the Host header, as RFC 9112 says).
func gorTarget(e *schema.Exchange, target string) *RecordError {
	switch {
	case target == "*":
		e.Path = target
	case strings.HasPrefix(target, "/"):
		e.Path, e.Query, _ = strings.Cut(target, "?")
	default:
		u, err := url.Parse(target)
		if err != nil || u.Host == "" || u.Opaque != "" {
			return badRecord("target", "%q is neither a path nor an absolute URL", target)
		}
		e.Scheme, e.Host = strings.ToLower(u.Scheme), u.Host
		e.Path, e.Query = u.EscapedPath(), u.RawQuery
		if e.Path == "" {
			e.Path = "/"
		}
	}
	if e.Host == "" {
		return badRecord("host", "no Host header")
	}
	return nil
}

// gorClient is the first X-Forwarded-For address, else X-Real-IP.
func gorClient(e *schema.Exchange) string {
	if xff, ok := e.Header("X-Forwarded-For"); ok {
		first, _, _ := strings.Cut(xff, ",")
		if first = strings.TrimSpace(first); first != "" {
			return first
		}
	}
	ip, _ := e.Header("X-Real-IP")
	return strings.TrimSpace(ip)
}

// gorResponse sets the response facts of the pending request p.
func gorResponse(msg []byte, m gorMeta, p *gorPending) *RecordError {
	line, rest, ok := gorLine(msg)
	if !ok {
		return badRecord("response", "no status line")
	}
	proto, code, _ := strings.Cut(string(line), " ")
	code, _, _ = strings.Cut(code, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || len(code) != 3 || err != nil || status < 100 || status > 599 {
		return badRecord("status", "%q is not an HTTP/1.x status line", line)
	}
	headers, rest, rerr := gorHeaders(rest, nil)
	if rerr != nil {
		return rerr
	}
	body, declared, _, berr := gorBody(headers, rest, true)
	size := int64(len(body))
	if berr != nil {
		size = int64(len(rest)) // a broken chunked body: count what is there
	}
	if declared >= 0 {
		size = declared
	}
	e := &p.hit.Exchange
	e.Status = schema.Int32(int32(status))
	e.ResponseBytes = schema.Int64(size)
	switch {
	case m.short && m.ts < gorMinEpoch && m.ts < p.ts:
		e.LatencyNS = schema.Int64(m.ts) // "2 ID LATENCY_NS" (GoReplay 0.x)
	case m.ts >= p.ts:
		e.LatencyNS = schema.Int64(m.ts - p.ts)
	} // a response before its request (clocks of two hosts) has no latency
	if status == 101 {
		e.Protocol = schema.ProtoWebSocket
	}
	p.done = true
	return nil
}

// gorLine returns the first line of b without its line ending, and the rest.
// ok is false when b has no line ending.
func gorLine(b []byte) (line, rest []byte, ok bool) {
	line, rest, ok = bytes.Cut(b, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), rest, ok
}

// gorHeaders parses header lines up to the blank line, appending them to dst
// in wire order, and returns what follows the blank line.
func gorHeaders(b []byte, dst []schema.Header) ([]schema.Header, []byte, *RecordError) {
	for {
		line, rest, ok := gorLine(b)
		if !ok {
			return dst, nil, badRecord("headers", "no blank line ends the headers (message cut short?)")
		}
		b = rest
		switch {
		case len(line) == 0:
			return dst, b, nil
		case line[0] == ' ' || line[0] == '\t':
			// An obsolete folded line continues the previous value.
			if len(dst) == 0 {
				return dst, nil, badRecord("headers[0]", "starts with a continuation line")
			}
			last := &dst[len(dst)-1]
			last.Value += " " + string(bytes.TrimSpace(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return dst, nil, badRecord(fmt.Sprintf("headers[%d]", len(dst)), "%q has no colon", line)
		}
		dst = append(dst, schema.Header{Name: string(name), Value: string(bytes.Trim(value, " \t"))})
	}
}

// gorBody returns the message body after the headers, the declared
// Content-Length (-1 when none) and the bytes after the body. Without
// Content-Length or chunked coding a request has no body and a response runs
// to the end (untilEnd). A body cut short is what was recorded.
func gorBody(hs []schema.Header, rest []byte, untilEnd bool) (body []byte, declared int64, after []byte, err error) {
	chunked, declared := false, int64(-1)
	for _, h := range hs {
		switch {
		case strings.EqualFold(h.Name, "Transfer-Encoding"):
			codings := strings.Split(h.Value, ",")
			chunked = strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked")
		case strings.EqualFold(h.Name, "Content-Length"):
			n, err := strconv.ParseInt(strings.TrimSpace(h.Value), 10, 64)
			if err != nil || n < 0 || (declared >= 0 && n != declared) {
				return nil, -1, nil, fmt.Errorf("bad Content-Length %q", h.Value)
			}
			declared = n
		}
	}
	switch {
	case chunked:
		// The chunked coding wins over Content-Length (RFC 9112 6.3).
		src := bytes.NewReader(rest)
		br := bufio.NewReader(src)
		b, err := io.ReadAll(httputil.NewChunkedReader(br))
		if err != nil {
			return b, -1, nil, fmt.Errorf("bad chunked coding: %v", err)
		}
		// The chunked reader stops after the last chunk's CRLF; a trailer
		// section's blank line is skipped with it.
		used := len(rest) - src.Len() - br.Buffered()
		after = rest[used:]
		if bytes.HasPrefix(after, []byte("\r\n")) {
			after = after[2:]
		}
		return b, -1, after, nil
	case declared >= 0:
		n := min(int64(len(rest)), declared)
		return rest[:n], declared, rest[n:], nil
	case untilEnd:
		return rest, -1, nil, nil
	}
	return nil, -1, rest, nil
}

// gorSize estimates the bytes a pending request holds.
func gorSize(e *schema.Exchange) int {
	n := 256 + len(e.Path) + len(e.Query) + len(e.Body)
	for _, h := range e.Headers {
		n += 32 + len(h.Name) + len(h.Value)
	}
	return n
}

// gorReader splits a .gor file into payloads in bounded memory.
type gorReader struct {
	r    *bufio.Reader
	name string
	line int64 // lines consumed
	off  int64 // bytes consumed
	buf  []byte
}

// newGorReader reads the payloads of r, skipping a UTF-8 byte-order mark
// (see textStart).
func newGorReader(r io.Reader, name string) *gorReader {
	return &gorReader{r: bufio.NewReaderSize(r, 64<<10), name: name}
}

// next returns the next payload without the line ending before the
// separator, and where it starts. The payload is valid until the next call.
// A payload over gorMaxPayload is read past without being kept and returned
// as a *RecordError. A last payload without a separator is returned as is.
func (g *gorReader) next() ([]byte, Position, error) {
	if g.line == 0 && g.off == 0 {
		n, err := textStart(g.r, g.name)
		if err != nil {
			return nil, Position{File: g.name}, err
		}
		g.off = int64(n)
	}
	pos := Position{File: g.name, Line: g.line + 1, Offset: g.off}
	g.buf = g.buf[:0]
	tooBig, atLineStart, seen := false, true, false
	for {
		chunk, err := g.r.ReadSlice('\n')
		g.off += int64(len(chunk))
		seen = seen || len(chunk) > 0
		if atLineStart && isGorSeparator(chunk) {
			g.line++
			return g.payload(pos, tooBig)
		}
		if !tooBig && len(g.buf)+len(chunk) > gorMaxPayload {
			tooBig, g.buf = true, g.buf[:0]
		}
		if !tooBig {
			g.buf = append(g.buf, chunk...)
		}
		atLineStart = len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
		if atLineStart {
			g.line++
		}
		switch {
		case err == nil || errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != io.EOF:
			return nil, pos, fmt.Errorf("%s: %w", Position{File: g.name, Line: g.line + 1, Offset: g.off}, err)
		case !seen:
			return nil, pos, io.EOF
		}
		return g.payload(pos, tooBig)
	}
}

// payload ends the payload being read.
func (g *gorReader) payload(pos Position, tooBig bool) ([]byte, Position, error) {
	if tooBig {
		return nil, pos, &RecordError{Pos: pos, Field: "payload", Reason: fmt.Sprintf("larger than %d MiB, skipped", gorMaxPayload>>20)}
	}
	return bytes.TrimSuffix(g.buf, []byte("\n")), pos, nil
}

// isGorSeparator reports whether a whole line is the payload separator.
func isGorSeparator(line []byte) bool {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return string(line) == gorSeparator
}
