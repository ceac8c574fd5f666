package capture

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// envoyRecord is one Envoy access log entry, from either form, as the
// command operators' values (strings as logged; "" when absent).
type envoyRecord struct {
	StartTime        jsonScalar `json:"start_time"`
	Method           jsonScalar `json:"method"`
	Path             jsonScalar `json:"path"`
	Protocol         jsonScalar `json:"protocol"`
	ResponseCode     jsonScalar `json:"response_code"`
	BytesSent        jsonScalar `json:"bytes_sent"`
	Duration         jsonScalar `json:"duration"`
	ForwardedFor     jsonScalar `json:"x_forwarded_for"`
	UserAgent        jsonScalar `json:"user_agent"`
	Authority        jsonScalar `json:"authority"`
	DownstreamRemote jsonScalar `json:"downstream_remote_address"`
	request          string     // the text form's "METHOD PATH PROTOCOL"
}

// The fields of Envoy's default text format, in order (Envoy docs,
// "Access logging", section "Default format string":
// www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage):
//
//	[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
//	%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
//	%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
//	"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
//
// Istio's default (istio.io, "Envoy Access Logs") inserts
// %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
// "%UPSTREAM_TRANSPORT_FAILURE_REASON%" after %RESPONSE_FLAGS% and appends
// %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%
// %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%.
const (
	envoyStart = iota
	envoyRequest
	envoyCode
	envoyFlags
	envoyReceived // Envoy; Istio: %RESPONSE_CODE_DETAILS%
	envoySent
	envoyDuration
	envoyUpstreamTime
	envoyForwardedFor
	envoyUserAgent
	envoyRequestID
	envoyAuthority
	envoyUpstreamHost
	envoyFields   // fields of Envoy's default
	istioInserted = 3
	istioRemote   = 19 // %DOWNSTREAM_REMOTE_ADDRESS% in Istio's default
)

// NewEnvoyDecoder returns a Decoder of Envoy (and Istio sidecar and
// gateway) access logs: each line in Envoy's default text format, in
// Istio's default text format, or a JSON object (json_format) with Istio's
// keys (start_time, method, path, protocol, response_code, bytes_sent,
// duration, x_forwarded_for, user_agent, authority,
// downstream_remote_address; others are ignored, values may be strings,
// numbers or null). name names the input in positions and errors. Text
// after the last known field of a text line is ignored.
//
// START_TIME is the request start: Exchange.Time. DURATION (milliseconds
// from the start to the last byte out) is LatencyNS and gives LogTime; for
// an upgraded connection (status 101) it is the connection's lifetime and
// LatencyNS is unknown. RESPONSE_CODE is Status (0, no response sent, is
// unknown); BYTES_SENT (body bytes) is ResponseBytes. The request's method,
// path (X-ENVOY-ORIGINAL-PATH, else :PATH, with the query) and protocol
// give Method, Path, Query and Protocol (HTTP/3 is recorded as HTTP/2);
// :AUTHORITY is Host; Scheme is http (the formats do not log it).
// USER-AGENT is the User-Agent header and Device; the first address of
// X-FORWARDED-FOR, else DOWNSTREAM_REMOTE_ADDRESS, is Client. "-" (text) and
// null are absent.
//
// A TCP proxy entry (request "- - -") and a line that does not parse are
// *RecordErrors naming the line and the field. The Decoder is not safe for
// concurrent use.
func NewEnvoyDecoder(r io.Reader, name string) Decoder {
	d := &envoyDecoder{src: newLogSource(r, name)}
	return d.decode
}

type envoyDecoder struct {
	src    *logSource
	fields []string
}

func (d *envoyDecoder) decode(h *Hit) error {
	line, err := d.src.next(h)
	if err != nil {
		return err
	}
	var rec envoyRecord
	var rerr *RecordError
	if s := strings.TrimLeft(line, " \t"); strings.HasPrefix(s, "{") {
		rerr = decodeJSONRecord(s, &rec)
	} else {
		rerr = d.text(line, &rec)
	}
	if rerr == nil {
		rerr = d.fill(&rec, h)
	}
	if rerr != nil {
		return d.src.fail(h, rerr)
	}
	return nil
}

// text reads a line of the default text format (Envoy's or Istio's).
func (d *envoyDecoder) text(line string, rec *envoyRecord) *RecordError {
	fs, ok := splitFields(line, d.fields)
	d.fields = fs
	if !ok {
		return badRecord("", "a quoted or bracketed field is not closed")
	}
	if len(fs) < envoyFields {
		return badRecord("", "%d fields; Envoy's default format has %d", len(fs), envoyFields)
	}
	shift := 0
	if _, isCount := digits(fs[envoyReceived]); !isCount {
		// Istio's %RESPONSE_CODE_DETAILS% ("via_upstream", "-") where
		// Envoy has %BYTES_RECEIVED%, always a count.
		shift = istioInserted
		if len(fs) < envoyFields+shift {
			return badRecord("", "%d fields; Istio's default format has %d", len(fs), istioRemote+3)
		}
		if len(fs) > istioRemote {
			rec.DownstreamRemote = jsonScalar(fs[istioRemote])
		}
	}
	at := func(k int) jsonScalar { return jsonScalar(fs[k+shift]) }
	rec.StartTime, rec.request, rec.ResponseCode = jsonScalar(fs[envoyStart]), fs[envoyRequest], jsonScalar(fs[envoyCode])
	rec.BytesSent, rec.Duration = at(envoySent), at(envoyDuration)
	rec.ForwardedFor, rec.UserAgent, rec.Authority = at(envoyForwardedFor), at(envoyUserAgent), at(envoyAuthority)
	return nil
}

// fill sets h from rec.
func (d *envoyDecoder) fill(rec *envoyRecord, h *Hit) *RecordError {
	e := &h.Exchange
	e.Source = SourceEnvoy
	if rerr := envoyRequestLine(rec, e); rerr != nil {
		return rerr
	}
	e.Host = rec.Authority.String()
	f := d.src.responseFacts()
	if rerr := setStatus(e, f, "response_code", rec.ResponseCode.String()); rerr != nil {
		return rerr
	}
	if rerr := setBytes(e, f, "bytes_sent", rec.BytesSent.String()); rerr != nil {
		return rerr
	}
	if s := rec.Duration.String(); s != "" {
		ns, ok := millisValue(s)
		if !ok {
			return badRecord("duration", "not a duration in milliseconds: %s", quoteValue(s))
		}
		setLatency(e, f, ns)
	}
	start, ok := iso8601Time(rec.StartTime.String())
	if !ok {
		return badRecord("start_time", "not an ISO 8601 time: %s", quoteValue(rec.StartTime.String()))
	}
	e.Time, h.LogTime = start, start
	if l, ok := e.Latency(); ok {
		h.LogTime = start.Add(l)
	}
	if ua := rec.UserAgent.String(); ua != "" {
		addHeader(e, "User-Agent", ua)
		e.Device = d.src.device(ua)
	}
	h.Client = firstNonEmpty(forwardedClient(rec.ForwardedFor.String()), hostOnly(rec.DownstreamRemote.String()))
	if e.StatusCode() == 101 {
		e.Protocol = schema.ProtoWebSocket
	}
	dropTunnelLatency(e)
	return nil
}

// envoyRequestLine sets Method, Path, Query and Protocol.
func envoyRequestLine(rec *envoyRecord, e *schema.Exchange) *RecordError {
	method, target, proto := rec.Method.String(), rec.Path.String(), rec.Protocol.String()
	field := "request"
	if rec.request != "" {
		parts := strings.SplitN(rec.request, " ", 3)
		if len(parts) != 3 {
			return badRecord(field, "not METHOD PATH PROTOCOL")
		}
		for i, p := range parts {
			if p == "-" {
				parts[i] = ""
			}
		}
		method, target, proto = parts[0], parts[1], parts[2]
	} else {
		field = "method"
	}
	if method == "" && target == "" {
		return badRecord(field, "no method and path: a TCP connection, not an HTTP request")
	}
	if !isMethodToken(method) {
		return badRecord(field, "not a method: %s", quoteValue(method))
	}
	e.Method, e.Scheme, e.Protocol = logMethod(method), "http", schema.ProtoHTTP11
	if proto != "" {
		p, ok := logProto(proto)
		if !ok {
			return badRecord("protocol", "not an HTTP version: %s", quoteValue(proto))
		}
		e.Protocol = p
	}
	if e.Method == "CONNECT" {
		return badRecord("method", "%s", connectReason(target))
	}
	if _, _, ok := splitLoggedTarget(target, e); !ok {
		return badRecord("path", "neither a path starting with / nor an absolute URL")
	}
	return nil
}

var stringType = reflect.TypeFor[string]()

// jsonScalar is a JSON string, number or null as its text: a string's
// value, a number as written, "" for null. "-" is "".
type jsonScalar string

// UnmarshalJSON implements json.Unmarshaler.
func (s *jsonScalar) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = jsonScalar(v)
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		*s = jsonScalar(b)
	default:
		return &json.UnmarshalTypeError{Value: "object, array or boolean", Type: stringType}
	}
	return nil
}

// String returns the value, "" for null and "-".
func (s jsonScalar) String() string {
	if s == "-" {
		return ""
	}
	return string(s)
}

// decodeJSONRecord decodes one JSON object into v, or returns the
// *RecordError that names what is wrong.
func decodeJSONRecord(line string, v any) *RecordError {
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(v); err != nil {
		return jsonRecordError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRecord("", "data after the JSON object")
	}
	return nil
}
