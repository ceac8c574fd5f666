package capture

import (
	"cmp"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// caddyRecord is one line of a Caddy access log (Caddy docs, "log"
// Caddyfile directive, and modules/caddyhttp/server.go, which writes
// "handled request" with these fields: caddyserver.com/docs/caddyfile/
// directives/log). Unknown fields are ignored.
type caddyRecord struct {
	Logger   string          `json:"logger"`
	TS       json.RawMessage `json:"ts"`
	Request  *caddyRequest   `json:"request"`
	Duration json.RawMessage `json:"duration"`
	Size     *int64          `json:"size"`
	Status   *int            `json:"status"`
	UserID   string          `json:"user_id"`
}

type caddyRequest struct {
	RemoteIP string              `json:"remote_ip"`
	ClientIP string              `json:"client_ip"`
	Proto    string              `json:"proto"`
	Method   string              `json:"method"`
	Host     string              `json:"host"`
	URI      string              `json:"uri"`
	Headers  map[string][]string `json:"headers"`
	TLS      json.RawMessage     `json:"tls"`
}

// NewCaddyDecoder returns a Decoder of Caddy's JSON access logs (the json
// log encoder; one object per line); name names the input in positions
// and errors. Lines of other Caddy loggers (a "logger" not starting with
// http.log.access) are skipped.
//
// Caddy writes the entry when the response is done, so ts (seconds since
// the epoch as a number, Caddy's default, or an RFC 3339 string) is
// Hit.LogTime, and Exchange.Time, the request start, is ts minus duration
// (seconds as a number, the default, or a Go duration string such as
// "12.5ms" for duration_format string), which is also LatencyNS; for an
// upgraded connection (status 101) it is the connection's lifetime and
// LatencyNS is unknown. request.method, uri, proto and host are Method,
// Path and Query, Protocol (HTTP/3.0 is recorded as HTTP/2) and Host;
// Scheme is https when the request has a tls object. request.headers (an
// object of arrays of values; Caddy writes REDACTED for Cookie and
// Authorization unless log_credentials is set) are the request headers,
// sorted by name; User-Agent gives Device. request.client_ip (Caddy 2.7
// and later; else remote_ip) is Client, user_id (when not empty) UserID,
// status Status (0, no response written, is unknown) and size
// ResponseBytes.
//
// A line that is not a JSON object of this shape, or whose values do not
// parse, is a *RecordError naming the line and the field. The Decoder is
// not safe for concurrent use.
func NewCaddyDecoder(r io.Reader, name string) Decoder {
	d := &caddyDecoder{src: newLogSource(r, name)}
	return d.decode
}

type caddyDecoder struct {
	src *logSource
}

func (d *caddyDecoder) decode(h *Hit) error {
	for {
		line, err := d.src.next(h)
		if err != nil {
			return err
		}
		var rec caddyRecord
		rerr := decodeJSONRecord(line, &rec)
		if rerr == nil && rec.Logger != "" && !strings.HasPrefix(rec.Logger, "http.log.access") {
			continue // another logger's line in the same file
		}
		if rerr == nil {
			rerr = d.fill(&rec, h)
		}
		if rerr != nil {
			return d.src.fail(h, rerr)
		}
		return nil
	}
}

func (d *caddyDecoder) fill(rec *caddyRecord, h *Hit) *RecordError {
	rq := rec.Request
	if rq == nil {
		return badRecord("request", "missing: not an access log entry")
	}
	e := &h.Exchange
	e.Source = SourceCaddy
	if !isMethodToken(rq.Method) {
		return badRecord("request.method", "not a method: %s", quoteValue(rq.Method))
	}
	e.Method, e.Host = logMethod(rq.Method), rq.Host
	e.Scheme = "http"
	if len(rq.TLS) > 0 && string(rq.TLS) != "null" {
		e.Scheme = "https"
	}
	e.Protocol = schema.ProtoHTTP11
	if rq.Proto != "" {
		p, ok := logProto(rq.Proto)
		if !ok {
			return badRecord("request.proto", "not an HTTP version: %s", quoteValue(rq.Proto))
		}
		e.Protocol = p
	}
	if e.Method == "CONNECT" {
		return badRecord("request.method", "%s", connectReason(cmp.Or(rq.URI, rq.Host)))
	}
	if _, _, ok := splitLoggedTarget(rq.URI, e); !ok {
		return badRecord("request.uri", "neither a path starting with / nor an absolute URL")
	}
	if rerr := d.headers(rq, e); rerr != nil {
		return rerr
	}
	f := d.src.responseFacts()
	if rec.Status != nil && *rec.Status != 0 {
		if *rec.Status < 100 || *rec.Status > 599 {
			return badRecord("status", "%d is not an HTTP status", *rec.Status)
		}
		f.status, e.Status = int32(*rec.Status), &f.status
	}
	if rec.Size != nil {
		if *rec.Size < 0 {
			return badRecord("size", "negative (%d)", *rec.Size)
		}
		f.bytes, e.ResponseBytes = *rec.Size, &f.bytes
	}
	if rerr := caddyTimes(rec, h, f); rerr != nil {
		return rerr
	}
	h.Client = firstNonEmpty(rq.ClientIP, rq.RemoteIP)
	h.UserID = rec.UserID
	if e.StatusCode() == 101 {
		e.Protocol = schema.ProtoWebSocket
	}
	dropTunnelLatency(e)
	return nil
}

// headers appends the request headers, sorted by name.
func (d *caddyDecoder) headers(rq *caddyRequest, e *schema.Exchange) *RecordError {
	names := make([]string, 0, len(rq.Headers))
	for name := range rq.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !isMethodToken(name) {
			return badRecord("request.headers", "%s is not a header name", quoteValue(name))
		}
		for _, v := range rq.Headers[name] {
			if strings.ContainsAny(v, "\r\n") {
				return badRecord("request.headers", "a value of %s has a line break", name)
			}
			e.Headers = append(e.Headers, schema.Header{Name: name, Value: v})
		}
	}
	if ua, ok := e.Header("User-Agent"); ok {
		e.Device = d.src.device(ua)
	}
	return nil
}

// caddyTimes sets LatencyNS, LogTime (ts) and Exchange.Time (ts minus
// duration).
func caddyTimes(rec *caddyRecord, h *Hit, f *responseFacts) *RecordError {
	end, ok := caddyTS(rec.TS)
	if !ok {
		return badRecord("ts", "not a time: %s", quoteValue(string(rec.TS)))
	}
	h.LogTime, h.Exchange.Time = end, end
	if len(rec.Duration) == 0 || string(rec.Duration) == "null" {
		return nil
	}
	ns, ok := caddyDuration(rec.Duration)
	if !ok {
		return badRecord("duration", "not a duration: %s", quoteValue(string(rec.Duration)))
	}
	setLatency(&h.Exchange, f, ns)
	h.Exchange.Time = end.Add(-time.Duration(ns))
	return nil
}

// caddyTS parses ts: seconds since the epoch as a JSON number, or a time
// string in RFC 3339 (Caddy's time_format iso8601 and rfc3339).
func caddyTS(raw json.RawMessage) (time.Time, bool) {
	if s, ok := jsonString(raw); ok {
		if t, ok := iso8601Time(s); ok {
			return t, true
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC(), err == nil
	}
	if t, ok := msecTime(string(raw)); ok {
		return t, true
	}
	sec, ok := jsonFloat(raw)
	if !ok || sec < 0 || sec > 1e11 {
		return time.Time{}, false
	}
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(frac*1e9)).UTC(), true
}

// caddyDuration parses duration into nanoseconds: seconds as a JSON number,
// or a Go duration string.
func caddyDuration(raw json.RawMessage) (int64, bool) {
	if s, ok := jsonString(raw); ok {
		d, err := time.ParseDuration(s)
		return int64(d), err == nil && d >= 0
	}
	if ns, ok := secondsValue(string(raw)); ok {
		return ns, true
	}
	sec, ok := jsonFloat(raw)
	if !ok || sec < 0 || sec > 1e9 {
		return 0, false
	}
	return int64(sec * 1e9), true
}

// jsonString returns the value of a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// jsonFloat returns the value of a JSON number in any notation.
func jsonFloat(raw json.RawMessage) (float64, bool) {
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}
