package capture

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// harMaxEntry bounds what encoding/json may hold in memory for one HAR value
// (an entry, or a single string anywhere). encoding/json buffers a whole
// value before decoding it, so an entry larger than this (say a response
// body of hundreds of MB kept as text) stops decoding with an error rather
// than exhausting memory.
const harMaxEntry = 64 << 20

// errHAREntryTooLarge is what harInput returns past its limit.
var errHAREntryTooLarge = errors.New("a JSON value is too large to decode in memory")

// NewHARDecoder returns a Decoder for a HAR 1.2 file (a browser's or a
// proxy's "HTTP Archive"). It streams: it walks the JSON to log.entries
// (pages, creator and any other member may come before or after) and decodes
// one entry at a time, so memory is bounded by the largest entry.
//
// Each entry is one Hit:
//
//   - startedDateTime (RFC 3339 with offset) is Exchange.Time;
//   - request.method, request.url (scheme, host, path, raw query; the
//     fragment is dropped) and request.headers in their recorded order,
//     without HTTP/2 pseudo-headers (":authority" and ":scheme" stand in for
//     a url without host or scheme);
//   - request.httpVersion: "HTTP/1.0" is HTTP/1.0; "HTTP/2", "HTTP/2.0",
//     "h2" (any case) are HTTP/2; anything else, including "h3" and
//     "HTTP/3", is HTTP/1.1, which is how a replay of it is sent (the
//     schema has no HTTP/3). A WebSocket upgrade is schema.ProtoWebSocket;
//   - request.postData.text is the body (base64 when its encoding is
//     "base64"; form params are encoded when a urlencoded post has no text);
//   - response.status is Status; 0 means the request got no response (it
//     was blocked or aborted) and leaves Status, ResponseBytes and LatencyNS
//     nil;
//   - response.content.size, or else response.bodySize, when not negative,
//     is ResponseBytes; time (milliseconds) is LatencyNS;
//   - _webSocketMessages (Chrome's, on a WebSocket upgrade) are Hit.Frames:
//     type "send" is a client frame, "receive" a server frame, time (epoch
//     seconds, a float) its time, opcode its opcode, data its payload (text,
//     or base64 for opcode 2), cut at FrameLimit bytes. The import writes
//     them with the upgrade's session, Conn "<session>#<seq>" of the
//     upgrade and Seq in message order.
//
// HAR records no client address: Hit.Client is "har:" followed by name
// (and "#page=" and the entry's pageref when it has one) with
// Hit.ClientOnly, so one file (or page) is one client for sessionization,
// whatever the entries' User-Agent headers. A startedDateTime without a
// zone offset is a *RecordError (refused, not guessed). Source is "har". Positions carry
// byte offsets (no lines).
//
// An entry that does not decode or validate (a wrong type, a bad time or
// URL) is a *RecordError and decoding goes on with the next entry. Broken
// JSON structure, a file without log.entries, and an entry over 64 MiB are
// fatal errors carrying the offset.
func NewHARDecoder(r io.Reader, name string) Decoder {
	return newHARDecoder(r, name, harMaxEntry)
}

// newHARDecoder is NewHARDecoder with the limit on one value's size.
func newHARDecoder(r io.Reader, name string, limit int64) Decoder {
	text := newTextInput(r, name) // a UTF-8 BOM is skipped
	in := &harInput{r: text, limit: limit}
	d := &harDecoder{name: name, dec: json.NewDecoder(in), text: text}
	in.dec = d.dec
	return d.decode
}

// harInput is the reader under the json.Decoder: it stops the decoder from
// buffering more than limit bytes past its position.
type harInput struct {
	r     io.Reader
	n     int64 // bytes read from r
	limit int64
	dec   *json.Decoder
}

// Read reads from the file unless the decoder holds too much already.
func (in *harInput) Read(p []byte) (int, error) {
	// Everything read but not yet consumed is the value being buffered.
	if in.n-in.dec.InputOffset() > in.limit {
		return 0, fmt.Errorf("%w (limit %d MiB)", errHAREntryTooLarge, in.limit>>20)
	}
	n, err := in.r.Read(p)
	in.n += int64(n)
	return n, err
}

// harDecoder walks a HAR file. Its state says where in the document it is.
type harDecoder struct {
	name  string
	dec   *json.Decoder
	text  *textInput // its skipped bytes (a byte-order mark) shift offsets
	state int        // harBefore, harIn or harAfter
	err   error      // what to return once harAfter: io.EOF or a fatal error
}

const (
	harBefore = iota // log.entries not yet reached
	harIn            // inside the entries array
	harAfter         // done
)

// decode is the Decoder: it reads the next entry.
func (d *harDecoder) decode(h *Hit) error {
	if d.state == harBefore {
		if err := d.open(); err != nil {
			return d.stop(err)
		}
		d.state = harIn
	}
	if d.state == harAfter {
		return d.err
	}
	if !d.dec.More() {
		return d.stop(d.close())
	}
	pos := Position{File: d.name, Offset: d.entryStart()}
	var e harEntry
	if err := d.dec.Decode(&e); err != nil {
		// A type error leaves the decoder past the entry; anything else
		// means the JSON itself is broken.
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return d.stop(d.fatal(err))
		}
		rerr := jsonRecordError(err)
		if rerr.Field == "" {
			rerr.Reason = fmt.Sprintf("entry is JSON %s, not an object", te.Value)
		}
		rerr.Pos = pos
		return rerr
	}
	h.Reset()
	h.Pos = pos
	if rerr := e.fill(h, d.name); rerr != nil {
		rerr.Pos = pos
		return rerr
	}
	return nil
}

// stop ends decoding with err (io.EOF or fatal) and returns it.
func (d *harDecoder) stop(err error) error {
	d.state, d.err = harAfter, err
	return err
}

// open walks from the start of the file to just inside log.entries.
func (d *harDecoder) open() error {
	if err := d.expect('{', "a HAR file is a JSON object"); err != nil {
		return err
	}
	for d.dec.More() {
		key, err := d.key()
		if err != nil {
			return err
		}
		if key != "log" {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		if err := d.expect('{', "log is an object"); err != nil {
			return err
		}
		for d.dec.More() {
			key, err := d.key()
			if err != nil {
				return err
			}
			if key == "entries" {
				return d.expect('[', "log.entries is an array")
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
		if err := d.expect('}', "end of log"); err != nil {
			return err
		}
	}
	if err := d.expect('}', "end of the HAR object"); err != nil {
		return err
	}
	return d.fatal(errors.New("not a HAR file: no log.entries"))
}

// close walks from the end of log.entries to the end of the file and returns
// io.EOF when the rest is well formed.
func (d *harDecoder) close() error {
	if err := d.expect(']', "end of log.entries"); err != nil {
		return err
	}
	for _, what := range []string{"end of log", "end of the HAR object"} {
		for d.dec.More() {
			if _, err := d.key(); err != nil {
				return err
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
		if err := d.expect('}', what); err != nil {
			return err
		}
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return d.fatal(errors.New("data after the HAR object"))
	}
	return io.EOF
}

// expect reads the delimiter c; what says what was expected.
func (d *harDecoder) expect(c json.Delim, what string) error {
	t, err := d.dec.Token()
	if err != nil {
		return d.fatal(err)
	}
	if t != c {
		return d.fatal(fmt.Errorf("want %s (%q), found %v", what, c, t))
	}
	return nil
}

// key reads an object member's name.
func (d *harDecoder) key() (string, error) {
	t, err := d.dec.Token()
	if err != nil {
		return "", d.fatal(err)
	}
	s, _ := t.(string) // json.Decoder only returns strings as keys
	return s, nil
}

// skip reads one value of any kind, token by token.
func (d *harDecoder) skip() error {
	depth := 0
	for {
		t, err := d.dec.Token()
		if err != nil {
			return d.fatal(err)
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// entryStart returns the offset of the next entry: the decoder's offset plus
// the separators still buffered ahead of it.
func (d *harDecoder) entryStart() int64 {
	off := int64(d.text.skipped) + d.dec.InputOffset()
	buf := d.dec.Buffered()
	var b [1]byte
	for {
		if n, _ := buf.Read(b[:]); n == 0 {
			return off
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
}

// fatal wraps an error that ends decoding with the file and offset. A clean
// io.EOF inside the document means the file was cut short.
func (d *harDecoder) fatal(err error) error {
	off := int64(d.text.skipped) + d.dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = int64(d.text.skipped) + se.Offset
	}
	var ee *EncodingError
	if errors.As(err, &ee) {
		return err // it names the file; an offset would say nothing
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%s: HAR: %w", Position{File: d.name, Offset: off}, err)
}

// harEntry is the part of a HAR entry surge reads. Fields that may be absent
// and mean something when zero are pointers.
type harEntry struct {
	StartedDateTime string     `json:"startedDateTime"`
	PageRef         string     `json:"pageref"`
	Time            *float64   `json:"time"`
	Request         harRequest `json:"request"`
	// WebSocketMessages are Chrome's recording of a WebSocket's messages.
	WebSocketMessages []harWSMessage `json:"_webSocketMessages"`
	Response          *struct {
		Status   int    `json:"status"`
		BodySize *int64 `json:"bodySize"`
		Content  struct {
			Size *int64 `json:"size"`
		} `json:"content"`
	} `json:"response"`
}

type harRequest struct {
	Method      string   `json:"method"`
	URL         string   `json:"url"`
	HTTPVersion string   `json:"httpVersion"`
	Headers     []harNV  `json:"headers"`
	PostData    *harPost `json:"postData"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPost struct {
	MimeType string  `json:"mimeType"`
	Text     string  `json:"text"`
	Encoding string  `json:"encoding"`
	Params   []harNV `json:"params"`
}

// fill sets h from the entry.
func (e *harEntry) fill(h *Hit, name string) *RecordError {
	x := &h.Exchange
	if e.StartedDateTime == "" {
		return badRecord("startedDateTime", "missing")
	}
	t, err := time.Parse(time.RFC3339, e.StartedDateTime)
	if err != nil {
		if _, lerr := time.Parse("2006-01-02T15:04:05.999999999", e.StartedDateTime); lerr == nil {
			// HAR 1.2 requires the offset; guessing a zone would shift
			// every time by hours without a word.
			return badRecord("startedDateTime", "%q has no time zone offset (HAR 1.2 requires one, e.g. Z or +01:00): refused rather than guessed", e.StartedDateTime)
		}
		return badRecord("startedDateTime", "%q is not an RFC 3339 time with offset", e.StartedDateTime)
	}
	x.Time = t.UTC()
	if rerr := e.Request.fill(x); rerr != nil {
		return rerr
	}
	if rerr := e.fillResponse(x); rerr != nil {
		return rerr
	}
	x.Protocol = websocketOr(x, harProto(e.Request.HTTPVersion))
	x.Device = deviceOf(x)
	x.Source = "har"
	// A HAR file is one browser's recording: one client, a session per
	// page when entries name their page.
	h.Client, h.ClientOnly = "har:"+name, true
	if e.PageRef != "" {
		h.Client += "#page=" + e.PageRef
	}
	if rerr := exchangeProblem(x); rerr != nil {
		return rerr
	}
	return harFrames(h, e.WebSocketMessages)
}

// fill sets the request line, headers and body of x.
func (r *harRequest) fill(x *schema.Exchange) *RecordError {
	if r.Method == "" {
		return badRecord("request.method", "missing")
	}
	x.Method = r.Method
	var authority, scheme string
	for _, nv := range r.Headers {
		switch {
		case nv.Name == ":authority":
			authority = nv.Value
		case nv.Name == ":scheme":
			scheme = nv.Value
		case strings.HasPrefix(nv.Name, ":"):
		default:
			x.Headers = append(x.Headers, schema.Header(nv))
		}
	}
	if r.URL == "" {
		return badRecord("request.url", "missing")
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return badRecord("request.url", "%v", err)
	}
	x.Scheme = strings.ToLower(cmp.Or(u.Scheme, scheme, "http"))
	x.Host = cmp.Or(u.Host, authority)
	switch {
	case u.Opaque != "":
		return badRecord("request.url", "%q is not a hierarchical URL", r.URL)
	case x.Scheme != "http" && x.Scheme != "https" && x.Scheme != "ws" && x.Scheme != "wss":
		return badRecord("request.url", "scheme %q is not http, https, ws or wss", x.Scheme)
	case x.Host == "":
		return badRecord("request.url", "%q has no host", r.URL)
	}
	x.Path, x.Query = u.EscapedPath(), u.RawQuery
	if x.Path == "" {
		x.Path = "/"
	}
	body, rerr := r.PostData.body()
	if rerr != nil {
		return rerr
	}
	x.SetBody(body, 0)
	return nil
}

// body returns the posted bytes.
func (p *harPost) body() ([]byte, *RecordError) {
	switch {
	case p == nil:
		return nil, nil
	case p.Text != "" && strings.EqualFold(p.Encoding, "base64"):
		b, err := base64.StdEncoding.DecodeString(p.Text)
		if err != nil {
			return nil, badRecord("request.postData.text", "not base64: %v", err)
		}
		return b, nil
	case p.Text != "":
		return []byte(p.Text), nil
	case len(p.Params) > 0 && strings.HasPrefix(strings.ToLower(p.MimeType), "application/x-www-form-urlencoded"):
		// HAR allows params instead of text; only a urlencoded form can be
		// rebuilt from them exactly (multipart boundaries are lost).
		var b strings.Builder
		for i, nv := range p.Params {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(nv.Name) + "=" + url.QueryEscape(nv.Value))
		}
		return []byte(b.String()), nil
	}
	return nil, nil
}

// fillResponse sets the response facts of x.
func (e *harEntry) fillResponse(x *schema.Exchange) *RecordError {
	resp := e.Response
	if resp == nil || resp.Status == 0 {
		return nil
	}
	if resp.Status < 100 || resp.Status > 599 {
		return badRecord("response.status", "%d is not in 100-599", resp.Status)
	}
	x.Status = schema.Int32(int32(resp.Status))
	switch {
	case resp.Content.Size != nil && *resp.Content.Size >= 0:
		x.ResponseBytes = schema.Int64(*resp.Content.Size)
	case resp.BodySize != nil && *resp.BodySize >= 0:
		x.ResponseBytes = schema.Int64(*resp.BodySize)
	}
	if e.Time != nil && *e.Time >= 0 {
		ns := math.Round(*e.Time * 1e6)
		if ns >= math.MaxInt64 {
			return badRecord("time", "%g ms is out of range", *e.Time)
		}
		x.LatencyNS = schema.Int64(int64(ns))
	}
	return nil
}

// harProto maps a HAR httpVersion to a schema protocol. Unknown versions,
// HTTP/3 among them, are HTTP/1.1: the schema has no HTTP/3 and a replay
// sends them as HTTP/1.1.
func harProto(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "http/1.0":
		return schema.ProtoHTTP10
	case "http/2", "http/2.0", "h2", "h2c":
		return schema.ProtoHTTP2
	}
	return schema.ProtoHTTP11
}
