package capture

import (
	"cmp"
	"io"
	"strings"
	"time"
	"unsafe"

	"github.com/surge-replay/surge/schema"
)

// CombinedFormat is the combined log format of nginx and Apache httpd,
// written as an nginx log_format string.
const CombinedFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

// Sources the access-log decoders write into Exchange.Source.
const (
	SourceNginx    = "nginx"    // NewNginxDecoder
	SourceCombined = "combined" // NewCombinedDecoder
)

// NewNginxDecoder returns a Decoder of an access log written with the nginx
// log_format format; name names the input in positions and errors. A
// *FormatError says what in format cannot be compiled and where. The format
// must hold a time ($time_local, $time_iso8601 or $msec) and a request
// ($request, or $request_uri or $uri), and a literal between any two
// variables (each value runs up to the next literal).
//
// Understood variables fill the Hit: $remote_addr and the first address of
// $http_x_forwarded_for (Client), $remote_user (UserID), the time variables
// (LogTime, the end of the response), $request or $request_method,
// $request_uri, $uri, $args, $query_string and $server_protocol, $scheme,
// $http_host, $host, $server_name (Host), $status, $body_bytes_sent or
// $bytes_sent (ResponseBytes), $request_time or else the sum of
// $upstream_response_time (LatencyNS), $http_NAME (header Name), $cookie_NAME
// (one Cookie header unless $http_cookie is logged), $geoip_country_code,
// $geoip2_data_country_code and $http_cf_ipcountry (Region), $request_body.
// Other variables are split off and ignored. A value of "-" is absent.
//
// Exchange.Time is LogTime minus the latency. For a 101 upgrade or a
// CONNECT the logged request time is the connection's lifetime: it goes to
// ConnectionNS, LatencyNS stays nil, and Time is still LogTime minus it.
// A request line without a protocol is HTTP/1.0; CONNECT and lines that are
// not HTTP (TLS or RDP bytes, empty, scanner probes) are a *RecordError
// saying which. A UTF-8 byte-order mark and NUL bytes before a line are
// skipped; a UTF-16 input is an *EncodingError. Method defaults to GET (for a
// format without $request or $request_method), Scheme to http and Protocol
// to HTTP/1.1 (HTTP/3 is recorded as HTTP/2); a request with
// Upgrade: websocket or status 101 is WebSocket. Device is DeviceClass of the
// User-Agent when the line has one. Session and User are left empty.
//
// format is the log_format's string, or the whole directive as pasted from
// nginx.conf (log_format main '…' '…';).
//
// A line that does not match the format is a *RecordError naming the line
// and the variable; empty lines are skipped. The Decoder is not safe for
// concurrent use; the strings it puts in a Hit are never modified later.
func NewNginxDecoder(r io.Reader, name, format string) (Decoder, error) {
	format, err := nginxFormatString(format)
	if err != nil {
		return nil, err
	}
	f, err := compileFormat(format)
	if err != nil {
		return nil, err
	}
	return newAccessDecoder(r, name, f, SourceNginx).decode, nil
}

// NewCombinedDecoder returns a Decoder of an access log in CombinedFormat,
// as NewNginxDecoder does, except that text after the user agent (fields a
// "combined plus" format appends) is ignored.
func NewCombinedDecoder(r io.Reader, name string) Decoder {
	f, err := compileFormat(CombinedFormat)
	if err != nil {
		panic("capture: CombinedFormat does not compile: " + err.Error()) // a test proves it does
	}
	f.trailing = true
	return newAccessDecoder(r, name, f, SourceCombined).decode
}

// maxDevices bounds the decoder's cache of user agent classes.
const maxDevices = 4096

// accessDecoder decodes the lines of one access log.
type accessDecoder struct {
	lines   *lineReader
	format  *logFormat
	source  string
	vals    values
	facts   []responseFacts    // slab the optional response fields point into
	devices map[string]uaClass // user agent -> DeviceClass
	body    []byte             // scratch for unescaping $request_body
	arena   lineArena          // the lines' strings

	lastTime  string // last $time_local parsed, and its value
	lastValue time.Time
}

// responseFacts holds one line's optional response fields; Exchange points
// into it. They are allocated in slabs, one allocation per many lines.
type responseFacts struct {
	status       int32
	bytes, nanos int64
	conn         int64 // ConnectionNS, when a source logs it apart
}

// longLived reports whether e is a long-lived connection: a 101 upgrade
// (WebSocket) or a tunnel (CONNECT), whose logged request time is the
// connection's lifetime, from its start to its close, not a latency.
func longLived(e *schema.Exchange) bool {
	return e.StatusCode() == 101 || e.Method == "CONNECT"
}

func newAccessDecoder(r io.Reader, name string, f *logFormat, source string) *accessDecoder {
	return &accessDecoder{
		lines:   newLineReader(r, name),
		format:  f,
		source:  source,
		devices: make(map[string]uaClass),
	}
}

// decode is the Decoder.
func (d *accessDecoder) decode(h *Hit) error {
	for {
		line, pos, err := d.lines.next()
		if err != nil {
			return err
		}
		if blankLine(line) {
			continue
		}
		h.Reset()
		h.Pos = pos
		// One string holds the line: the fields of the Hit are substrings
		// of it.
		if rerr := d.parse(d.arena.string(line), h); rerr != nil {
			rerr.Pos = pos
			return rerr
		}
		return nil
	}
}

// parse fills h from line, or returns a *RecordError without Pos.
func (d *accessDecoder) parse(line string, h *Hit) *RecordError {
	d.vals.v = [numKinds]string{}
	d.vals.cookies = d.vals.cookies[:0]
	d.vals.times = d.vals.times[:0]
	if rerr := d.format.split(line, &d.vals, h); rerr != nil {
		return rerr
	}
	if rerr := d.request(&h.Exchange); rerr != nil {
		return rerr
	}
	if rerr := d.response(&h.Exchange); rerr != nil {
		return rerr
	}
	if rerr := d.times(h); rerr != nil {
		return rerr
	}
	d.peer(h)
	return nil
}

// request sets the request line fields: Method, Scheme, Host, Path, Query
// and Protocol.
func (d *accessDecoder) request(e *schema.Exchange) *RecordError {
	v := &d.vals.v
	e.Method, e.Protocol = "GET", schema.ProtoHTTP11
	var target string
	from := kRequest
	switch {
	case v[kRequest] != "":
		method, tgt, proto, reason := splitLoggedRequest(v[kRequest])
		if reason != "" {
			return d.fail(kRequest, reason)
		}
		e.Method, target, e.Protocol = method, tgt, proto
	case d.format.has(kRequest):
		return d.fail(kRequest, notHTTPReason(""))
	default:
		if m := v[kMethod]; m != "" {
			if !isMethodToken(m) {
				return d.fail(kMethod, "not a method: "+quoteForError(m))
			}
			e.Method = logMethod(m)
		}
		if p := v[kServerProtocol]; p != "" {
			proto, ok := logProto(p)
			if !ok {
				return d.fail(kServerProtocol, "not an HTTP version: "+quoteForError(p))
			}
			e.Protocol = proto
		}
		from = kRequestURI
		if v[from] == "" && (v[kURI] != "" || !d.format.has(from)) {
			from = kURI
		}
		if target = v[from]; target == "" {
			return d.fail(from, "no request target")
		}
	}
	scheme, host, ok := splitLoggedTarget(target, e)
	if !ok {
		return d.fail(from, "request target is not a path: "+quoteForError(target))
	}
	if from == kURI && v[kArgs] != "" {
		e.Query = v[kArgs]
	}
	if q, ok := strings.CutPrefix(v[kQueryMark], "?"); ok && from == kURI {
		e.Query = q // Apache %q
	}
	e.Scheme = firstNonEmpty(scheme, "http")
	if s := v[kScheme]; s != "" {
		if e.Scheme = logScheme(s); e.Scheme == "" {
			return d.fail(kScheme, "not http or https: "+quoteForError(s))
		}
	}
	e.Host = firstNonEmpty(v[kHTTPHost], v[kHost], v[kServerName], host)
	return nil
}

// response sets Status, ResponseBytes and LatencyNS.
func (d *accessDecoder) response(e *schema.Exchange) *RecordError {
	v := &d.vals.v
	if len(d.facts) == 0 {
		d.facts = make([]responseFacts, 256)
	}
	f := &d.facts[0]
	d.facts = d.facts[1:]
	if s := v[kStatus]; s != "" {
		code, ok := statusValue(s)
		if !ok {
			return d.fail(kStatus, "not an HTTP status: "+quoteForError(s))
		}
		f.status, e.Status = code, &f.status
	}
	for _, k := range [...]varKind{kBodyBytesSent, kBytesSent, kRequestLength} {
		if s := v[k]; s != "" {
			n, ok := countValue(s)
			if !ok {
				return d.fail(k, "not a byte count: "+quoteForError(s))
			}
			if k != kRequestLength && e.ResponseBytes == nil {
				f.bytes, e.ResponseBytes = n, &f.bytes
			}
		}
	}
	if s := v[kRequestTime]; s != "" {
		ns, ok := secondsValue(s)
		if !ok {
			return d.fail(kRequestTime, "not a duration in seconds: "+quoteForError(s))
		}
		f.nanos, e.LatencyNS = ns, &f.nanos
	}
	for _, u := range [...]struct {
		k    varKind
		unit int64
	}{{kMicros, 1e3}, {kMillis, 1e6}} { // Apache %D, %{us}T, %{ms}T
		if s := v[u.k]; s != "" && e.LatencyNS == nil {
			n, ok := countValue(s)
			if !ok || n > 1<<62/u.unit {
				return d.fail(u.k, "not a whole duration: "+quoteForError(s))
			}
			f.nanos, e.LatencyNS = n*u.unit, &f.nanos
		}
	}
	if s := v[kUpstreamTime]; s != "" {
		ns, n, ok := secondsSum(s)
		if !ok {
			return d.fail(kUpstreamTime, "not a list of durations in seconds: "+quoteForError(s))
		}
		if e.LatencyNS == nil && n > 0 {
			f.nanos, e.LatencyNS = ns, &f.nanos
		}
	}
	if e.LatencyNS != nil && longLived(e) {
		e.ConnectionNS, e.LatencyNS = e.LatencyNS, nil
	}
	return nil
}

// times sets LogTime and the request start Exchange.Time, the log time less
// the request time (the latency, or a long-lived connection's lifetime);
// response must have set them.
func (d *accessDecoder) times(h *Hit) *RecordError {
	if c := d.format.clock; c != nil {
		return c.times(d, h) // Apache %t and %{format}t
	}
	v := &d.vals.v
	var (
		t  time.Time
		ok bool
		k  varKind
	)
	switch {
	case v[kMsec] != "":
		k = kMsec
		t, ok = msecTime(v[k])
	case v[kTimeISO] != "":
		k = kTimeISO
		t, ok = iso8601Time(v[k])
	case v[kTimeLocal] != "":
		k = kTimeLocal
		if v[k] == d.lastTime {
			t, ok = d.lastValue, true
		} else if t, ok = timeLocal(v[k]); ok {
			d.lastTime, d.lastValue = v[k], t
		}
	default:
		for _, k = range [...]varKind{kTimeLocal, kTimeISO, kMsec} {
			if d.format.has(k) {
				break
			}
		}
		return d.fail(k, "no time")
	}
	if !ok {
		return d.fail(k, "not a time: "+quoteForError(v[k]))
	}
	h.LogTime, h.Exchange.Time = t, t
	if ns := cmp.Or(h.Exchange.LatencyNS, h.Exchange.ConnectionNS); ns != nil {
		h.Exchange.Time = t.Add(-time.Duration(*ns))
	}
	return nil
}

// peer sets the facts about the client: Client, UserID, Region, Device, the
// Cookie header from $cookie_NAME, the body, and the WebSocket protocol.
func (d *accessDecoder) peer(h *Hit) {
	v := &d.vals.v
	e := &h.Exchange
	h.Client = v[kRemoteAddr]
	if a := forwardedClient(v[kForwardedFor]); a != "" {
		h.Client = a
	}
	h.UserID = v[kRemoteUser]
	e.Region = v[kRegion]
	if len(d.vals.cookies) > 0 && v[kHTTPCookie] == "" {
		e.Headers = append(e.Headers, schema.Header{Name: "Cookie", Value: cookieHeader(d.vals.cookies)})
	}
	if ua := v[kUserAgent]; ua != "" {
		var canon string
		canon, e.Device = internUA(d.devices, ua)
		for i := range e.Headers {
			if hv := &e.Headers[i].Value; len(*hv) == len(ua) && unsafe.StringData(*hv) == unsafe.StringData(ua) {
				*hv = canon // the same text, shared by every line that has it
			}
		}
	}
	if b := v[kRequestBody]; b != "" {
		d.body = appendUnescapedLogged(d.body[:0], b, true)
		e.SetBody(d.body, 0)
	}
	if asciiEqualFold(v[kUpgrade], "websocket") || e.StatusCode() == 101 {
		e.Protocol = schema.ProtoWebSocket
	}
	e.Source = d.source
}

// fail returns the RecordError for the variable that supplies k.
func (d *accessDecoder) fail(k varKind, reason string) *RecordError {
	return &RecordError{Field: d.format.names[k], Reason: reason}
}
