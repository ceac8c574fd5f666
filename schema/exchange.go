package schema

import (
	"time"
)

// Protocols an Exchange can be recorded with.
const (
	ProtoHTTP10    = "HTTP/1.0"
	ProtoHTTP11    = "HTTP/1.1"
	ProtoHTTP2     = "HTTP/2"
	ProtoWebSocket = "WebSocket" // an HTTP/1.1 upgrade that opened a WebSocket
)

// MaxBody is the default limit on a recorded body; longer bodies are cut and
// flagged as truncated.
const MaxBody = 64 << 10

// Header is one header line. Headers keep their recorded order and may repeat.
type Header struct {
	Name  string `parquet:"name" json:"name"`
	Value string `parquet:"value" json:"value"`
}

// Exchange is one HTTP request and, when known, the facts of its response.
//
// Time is when the request started (not when a log line was written). Session
// and User are opaque keys: User is always a keyed hash, never a raw id.
// Secret header and query values are placeholders (see package capture).
//
// Status, ResponseBytes, LatencyNS and ConnectionNS are nil when the source
// did not record them; they are NULL in Parquet.
type Exchange struct {
	Time          time.Time `parquet:"time,timestamp(nanosecond:utc),delta" json:"time"`
	Session       string    `parquet:"session" json:"session"`
	User          string    `parquet:"user" json:"user,omitempty"`
	Seq           int32     `parquet:"seq,delta" json:"seq"`
	Method        string    `parquet:"method,dict" json:"method"`
	Scheme        string    `parquet:"scheme,dict" json:"scheme"`
	Host          string    `parquet:"host,dict" json:"host"`
	Path          string    `parquet:"path" json:"path"`
	Query         string    `parquet:"query" json:"query,omitempty"`
	Headers       []Header  `parquet:"headers,list" json:"headers,omitempty"`
	Body          []byte    `parquet:"body" json:"body,omitempty"`
	BodySize      int64     `parquet:"body_size" json:"body_size,omitempty"`
	BodyTruncated bool      `parquet:"body_truncated" json:"body_truncated,omitempty"`
	Status        *int32    `parquet:"status,optional" json:"status,omitempty"`
	ResponseBytes *int64    `parquet:"response_bytes,optional" json:"response_bytes,omitempty"`
	LatencyNS     *int64    `parquet:"latency_ns,optional" json:"latency_ns,omitempty"`
	Region        string    `parquet:"region,dict" json:"region,omitempty"`
	Device        string    `parquet:"device,dict" json:"device,omitempty"`
	Protocol      string    `parquet:"protocol,dict" json:"protocol"`
	Source        string    `parquet:"source,dict" json:"source"`
	// ConnectionNS is how long a long-lived connection lasted, in
	// nanoseconds: what an access log records as the request time of a 101
	// upgrade (WebSocket) or a tunnel, from the upgrade to the close. It is
	// not a latency (LatencyNS is nil then) and nothing waits for it; nil
	// for ordinary requests and when unknown. Added in schema 1.1.
	ConnectionNS *int64 `parquet:"connection_ns,optional" json:"connection_ns,omitempty"`
}

// EventTime returns when the request started.
func (e *Exchange) EventTime() time.Time { return e.Time }

// LongLived reports whether e is a long-lived connection with a known
// lifetime (ConnectionNS): its start may lie hours before the requests
// around it, so a capture's time range and a replay's default window are
// those of the other events.
func (e *Exchange) LongLived() bool { return e.ConnectionNS != nil }

// Header returns the first value of the named header (case-insensitive) and
// whether it was present.
func (e *Exchange) Header(name string) (string, bool) {
	for _, h := range e.Headers {
		if equalFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// SetBody records b as the body, cutting it to limit bytes (limit <= 0 means
// MaxBody) and setting BodySize and BodyTruncated.
func (e *Exchange) SetBody(b []byte, limit int) {
	if limit <= 0 {
		limit = MaxBody
	}
	e.BodySize = int64(len(b))
	e.BodyTruncated = len(b) > limit
	if e.BodyTruncated {
		b = b[:limit]
	}
	e.Body = append(e.Body[:0], b...)
}

// Response facts, as accessors over the optional fields.

// StatusCode returns the response status, or 0 when unknown.
func (e *Exchange) StatusCode() int {
	if e.Status == nil {
		return 0
	}
	return int(*e.Status)
}

// Latency returns the recorded response latency and whether it is known.
func (e *Exchange) Latency() (time.Duration, bool) {
	if e.LatencyNS == nil {
		return 0, false
	}
	return time.Duration(*e.LatencyNS), true
}

// Int32 returns a pointer to v, for the optional fields.
func Int32(v int32) *int32 { return &v }

// Int64 returns a pointer to v, for the optional fields.
func Int64(v int64) *int64 { return &v }

// RequestLine is the projection of an Exchange that a replay needs to send a
// request and label its result: no response facts. Reading into it decodes
// only its columns.
type RequestLine struct {
	Time    time.Time `parquet:"time,timestamp(nanosecond:utc),delta"`
	Session string    `parquet:"session"`
	User    string    `parquet:"user"`
	Seq     int32     `parquet:"seq,delta"`
	Method  string    `parquet:"method,dict"`
	Scheme  string    `parquet:"scheme,dict"`
	Host    string    `parquet:"host,dict"`
	Path    string    `parquet:"path"`
	Query   string    `parquet:"query"`
	Headers []Header  `parquet:"headers,list"`
	Body    []byte    `parquet:"body"`
	Region  string    `parquet:"region,dict"`
	Device  string    `parquet:"device,dict"`
	// Protocol is the recorded protocol (ProtoHTTP11, …): class rules
	// match on it (shaper "protocol=HTTP/2").
	Protocol string `parquet:"protocol,dict"`
	// Status is the recorded response status, 0 when the source recorded
	// none: the replay copies it into Result.RecordedStatus.
	Status int32 `parquet:"status,optional"`
	// A body kept in part must not be sent as if whole; the recorded
	// latency gives closed-loop replay its think time.
	BodySize      int64  `parquet:"body_size"`
	BodyTruncated bool   `parquet:"body_truncated"`
	LatencyNS     *int64 `parquet:"latency_ns,optional"`
}

// EventTime returns when the request started.
func (r *RequestLine) EventTime() time.Time { return r.Time }

// Exchange returns the exchange r projects, without its response facts
// (but its recorded status and latency) and its source.
func (r *RequestLine) Exchange() Exchange {
	e := Exchange{Time: r.Time, Session: r.Session, User: r.User, Seq: r.Seq, Method: r.Method,
		Scheme: r.Scheme, Host: r.Host, Path: r.Path, Query: r.Query, Headers: r.Headers, Body: r.Body,
		Region: r.Region, Device: r.Device, Protocol: r.Protocol, BodySize: r.BodySize, BodyTruncated: r.BodyTruncated, LatencyNS: r.LatencyNS}
	if r.Status != 0 {
		e.Status = Int32(r.Status)
	}
	return e
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
