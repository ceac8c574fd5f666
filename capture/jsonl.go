package capture

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// jsonlRecord is one line of surge's JSON lines form: the json names of
// schema.Exchange plus the raw ids the pipeline hashes. Time and body are
// strings so that a bad value is reported with its field name.
type jsonlRecord struct {
	Time          string          `json:"time"`
	Session       string          `json:"session"`
	User          string          `json:"user"`
	Seq           int32           `json:"seq"`
	Method        string          `json:"method"`
	Scheme        string          `json:"scheme"`
	Host          string          `json:"host"`
	Path          string          `json:"path"`
	Query         string          `json:"query"`
	Headers       []schema.Header `json:"headers"`
	Body          string          `json:"body"`
	BodySize      int64           `json:"body_size"`
	BodyTruncated bool            `json:"body_truncated"`
	Status        *int32          `json:"status"`
	ResponseBytes *int64          `json:"response_bytes"`
	LatencyNS     *int64          `json:"latency_ns"`
	Region        string          `json:"region"`
	Device        string          `json:"device"`
	Protocol      string          `json:"protocol"`
	Source        string          `json:"source"`
	Client        string          `json:"client"`
	UserID        string          `json:"user_id"`
	SessionID     string          `json:"session_id"`
	Frames        []jsonlFrame    `json:"frames"`
}

// NewJSONLDecoder returns a Decoder for surge's own JSON lines form: one JSON
// object per line whose fields are the json names of schema.Exchange, plus
// the optional raw fields client, user_id and session_id. docs/FORMATS.md
// describes every field and its default.
//
// The session and user fields, like session_id and user_id, go to
// Hit.SessionID and Hit.UserID (the raw field wins when both are given):
// the pipeline decides what becomes the opaque key. Exchange.Session and
// Exchange.User stay empty.
//
// Blank lines are skipped. A line that is not one valid object (bad JSON, an
// unknown field, a value of the wrong type, a record that fails validation)
// is a *RecordError naming the field; decoding goes on with the next line.
// Memory is bounded by MaxLine.
func NewJSONLDecoder(r io.Reader, name string) Decoder {
	lr := newLineReader(r, name)
	var scratch []byte
	return func(h *Hit) error {
		for {
			line, pos, err := lr.next()
			var rerr *RecordError
			switch {
			case err == io.EOF || errors.As(err, &rerr):
				return err
			case err != nil:
				return fmt.Errorf("%s: %w", pos, err)
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			h.Reset()
			h.Pos = pos
			if rerr := decodeJSONLine(line, h, &scratch); rerr != nil {
				rerr.Pos = pos
				return rerr
			}
			return nil
		}
	}
}

// decodeJSONLine fills h from one line. scratch is reused for the decoded
// body.
func decodeJSONLine(line []byte, h *Hit, scratch *[]byte) *RecordError {
	var rec jsonlRecord
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return jsonRecordError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRecord("", "data after the JSON object")
	}
	e := &h.Exchange
	if rec.Time == "" {
		return badRecord("time", "missing")
	}
	t, err := time.Parse(time.RFC3339Nano, rec.Time)
	if err != nil {
		return badRecord("time", "%q is not an RFC 3339 time", rec.Time)
	}
	e.Time = t.UTC()
	e.Seq = rec.Seq
	e.Method = cmp.Or(rec.Method, "GET")
	e.Scheme = cmp.Or(rec.Scheme, "http")
	e.Headers = append(e.Headers[:0], rec.Headers...)
	e.Host = rec.Host
	if e.Host == "" {
		e.Host, _ = e.Header("Host")
	}
	e.Path, e.Query = cmp.Or(rec.Path, "/"), rec.Query
	if p, q, ok := strings.Cut(e.Path, "?"); ok && e.Query == "" {
		e.Path, e.Query = p, q
	}
	if rerr := jsonlBody(e, &rec, scratch); rerr != nil {
		return rerr
	}
	e.Status, e.ResponseBytes, e.LatencyNS = rec.Status, rec.ResponseBytes, rec.LatencyNS
	e.Region = rec.Region
	e.Device = cmp.Or(rec.Device, deviceOf(e))
	e.Protocol = rec.Protocol
	if e.Protocol == "" {
		e.Protocol = websocketOr(e, schema.ProtoHTTP11)
	}
	e.Source = cmp.Or(rec.Source, "jsonl")
	h.Client = rec.Client
	h.UserID = cmp.Or(rec.UserID, rec.User)
	h.SessionID = cmp.Or(rec.SessionID, rec.Session)
	if rerr := exchangeProblem(e); rerr != nil {
		return rerr
	}
	return jsonlFrames(h, rec.Frames)
}

// jsonlBody decodes the base64 body and applies body_size and
// body_truncated, which a record written from a truncated Exchange carries.
func jsonlBody(e *schema.Exchange, rec *jsonlRecord, scratch *[]byte) *RecordError {
	b, err := base64.StdEncoding.AppendDecode((*scratch)[:0], []byte(rec.Body))
	if err != nil {
		b, err = base64.RawStdEncoding.AppendDecode((*scratch)[:0], []byte(rec.Body))
	}
	if err != nil {
		return badRecord("body", "not base64: %v", err)
	}
	*scratch = b
	e.SetBody(b, 0)
	switch {
	case rec.BodySize < 0:
		return badRecord("body_size", "negative (%d)", rec.BodySize)
	case rec.BodySize != 0 && rec.BodySize < int64(len(b)):
		return badRecord("body_size", "%d is less than the %d body bytes given", rec.BodySize, len(b))
	case rec.BodySize > e.BodySize:
		e.BodySize, e.BodyTruncated = rec.BodySize, true
	}
	if rec.BodyTruncated && !e.BodyTruncated {
		return badRecord("body_truncated", "true but body_size (%d) is not more than the %d body bytes given", rec.BodySize, len(b))
	}
	return nil
}

// jsonRecordError turns an encoding/json error about one value into a
// RecordError naming the field.
func jsonRecordError(err error) *RecordError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return badRecord("", "JSON %s is not an object", te.Value)
		}
		return badRecord(te.Field, "JSON %s is not %s", te.Value, jsonKind(te.Type))
	case errors.As(err, &se):
		return badRecord("", "invalid JSON at byte %d of the record: %v", se.Offset, se)
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return badRecord("", "JSON object is cut short")
	}
	// encoding/json reports an unknown field only as text.
	if q, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name, uerr := strconv.Unquote(q); uerr == nil {
			return badRecord(name, "unknown field")
		}
	}
	return badRecord("", "%v", err)
}

// jsonKind names what a Go type wants in JSON words.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of the right type"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer (" + t.Kind().String() + ")"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// Helpers shared by the decoders of this package's file formats.

// badRecord returns a RecordError without a position; the decoder sets it.
func badRecord(field, format string, args ...any) *RecordError {
	return &RecordError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// exchangeProblem returns the first problem schema validation finds with a
// decoded exchange, ignoring the session, which the pipeline fills later.
func exchangeProblem(e *schema.Exchange) *RecordError {
	for _, err := range e.Validate() {
		var fe *schema.FieldError
		if !errors.As(err, &fe) {
			return badRecord("", "%v", err)
		}
		if fe.Field != "session" {
			return badRecord(fe.Field, "%s", fe.Reason)
		}
	}
	return nil
}

// deviceOf classifies the exchange's User-Agent header; "" when it has none.
func deviceOf(e *schema.Exchange) string {
	ua, ok := e.Header("User-Agent")
	if !ok {
		return ""
	}
	return DeviceClass(ua)
}

// websocketOr returns schema.ProtoWebSocket for a WebSocket upgrade (an
// "Upgrade: websocket" request header or a 101 response) and proto otherwise.
func websocketOr(e *schema.Exchange, proto string) string {
	if up, ok := e.Header("Upgrade"); ok && strings.EqualFold(strings.TrimSpace(up), "websocket") {
		return schema.ProtoWebSocket
	}
	if e.StatusCode() == 101 {
		return schema.ProtoWebSocket
	}
	return proto
}
