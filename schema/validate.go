package schema

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one field of an event.
type FieldError struct {
	Field  string // column name, e.g. "status" or "headers[2].name"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// Validate returns every problem with e, or nil when it is well formed.
func (e *Exchange) Validate() []error {
	var p problems
	if e.Time.IsZero() {
		p.add("time", "missing")
	}
	if e.Session == "" {
		p.add("session", "missing")
	}
	if e.Seq < 0 {
		p.add("seq", "negative (%d)", e.Seq)
	}
	if !isToken(e.Method) {
		p.add("method", "%q is not an HTTP method token", e.Method)
	}
	switch e.Scheme {
	case "http", "https", "ws", "wss":
	default:
		p.add("scheme", "%q is not http, https, ws or wss", e.Scheme)
	}
	if e.Host == "" {
		p.add("host", "missing")
	}
	if !strings.HasPrefix(e.Path, "/") && e.Path != "*" {
		p.add("path", "%q does not start with /", e.Path)
	}
	for i, h := range e.Headers {
		if !isToken(h.Name) {
			p.add(fmt.Sprintf("headers[%d].name", i), "%q is not a header name token", h.Name)
		}
		if strings.IndexByte(h.Value, '\n') >= 0 || strings.IndexByte(h.Value, '\r') >= 0 { // SIMD, unlike ContainsAny
			p.add(fmt.Sprintf("headers[%d].value", i), "contains a line break")
		}
	}
	if e.BodySize < int64(len(e.Body)) {
		p.add("body_size", "%d is less than the %d body bytes recorded", e.BodySize, len(e.Body))
	}
	if e.BodyTruncated != (e.BodySize > int64(len(e.Body))) {
		p.add("body_truncated", "%v but body_size %d and %d bytes recorded", e.BodyTruncated, e.BodySize, len(e.Body))
	}
	if e.Status != nil && (*e.Status < 100 || *e.Status > 599) {
		p.add("status", "%d is not in 100-599", *e.Status)
	}
	if e.ResponseBytes != nil && *e.ResponseBytes < 0 {
		p.add("response_bytes", "negative (%d)", *e.ResponseBytes)
	}
	if e.LatencyNS != nil && *e.LatencyNS < 0 {
		p.add("latency_ns", "negative (%d)", *e.LatencyNS)
	}
	if e.ConnectionNS != nil && *e.ConnectionNS < 0 {
		p.add("connection_ns", "negative (%d)", *e.ConnectionNS)
	}
	switch e.Protocol {
	case ProtoHTTP10, ProtoHTTP11, ProtoHTTP2, ProtoWebSocket:
	default:
		p.add("protocol", "%q is not %s, %s, %s or %s", e.Protocol, ProtoHTTP10, ProtoHTTP11, ProtoHTTP2, ProtoWebSocket)
	}
	if e.Source == "" {
		p.add("source", "missing")
	}
	return p
}

// Validate returns every problem with f, or nil when it is well formed.
func (f *Frame) Validate() []error {
	var p problems
	if f.Time.IsZero() {
		p.add("time", "missing")
	}
	if f.Session == "" {
		p.add("session", "missing")
	}
	if f.Conn == "" {
		p.add("conn", "missing")
	}
	if f.Seq < 0 {
		p.add("seq", "negative (%d)", f.Seq)
	}
	if f.Direction != FromClient && f.Direction != FromServer {
		p.add("direction", "%q is not %q or %q", f.Direction, FromClient, FromServer)
	}
	switch f.Opcode {
	case 0, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		p.add("opcode", "%d is not a WebSocket opcode", f.Opcode)
	}
	if f.PayloadSize < int64(len(f.Payload)) {
		p.add("payload_size", "%d is less than the %d payload bytes recorded", f.PayloadSize, len(f.Payload))
	}
	if f.PayloadTruncated != (f.PayloadSize > int64(len(f.Payload))) {
		p.add("payload_truncated", "%v but payload_size %d and %d bytes recorded", f.PayloadTruncated, f.PayloadSize, len(f.Payload))
	}
	if f.Source == "" {
		p.add("source", "missing")
	}
	return p
}

// Validate returns every problem with v, or nil when it is well formed.
func (v *ViewingEvent) Validate() []error {
	var p problems
	if v.Time.IsZero() {
		p.add("time", "missing")
	}
	if v.User == "" {
		p.add("user", "missing")
	}
	if v.Content == "" {
		p.add("content", "missing")
	}
	switch v.Type {
	case ViewStart, ViewHeartbeat, ViewStop:
	default:
		p.add("type", "%q is not %s, %s or %s", v.Type, ViewStart, ViewHeartbeat, ViewStop)
	}
	if v.PositionMS < 0 {
		p.add("position_ms", "negative (%d)", v.PositionMS)
	}
	if v.WatchedMS < 0 {
		p.add("watched_ms", "negative (%d)", v.WatchedMS)
	}
	if v.Source == "" {
		p.add("source", "missing")
	}
	return p
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
