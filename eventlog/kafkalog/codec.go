package kafkalog

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/schema"
)

// Message headers every record surge produces carries (docs/KAFKA.md).
const (
	HeaderVersion     = "surge-schema" // schema.Version at write time, "1.1"
	HeaderContentType = "content-type" // ContentBinary or ContentJSON
	HeaderKind        = "surge-kind"   // schema.Kind of the value, "exchange"
	HeaderSource      = "surge-source" // the importer or tap that produced the event
)

// Content types of a record's value.
const (
	// ContentBinary is surge's compact binary encoding of one schema.Exchange
	// (docs/KAFKA.md, "Binary layout").
	ContentBinary = "application/vnd.surge.exchange+binary"
	// ContentJSON is one schema.Exchange as a JSON object (the field names of
	// its json tags), for third-party consumers such as kcat and jq.
	ContentJSON = "application/json"
)

// Format chooses the encoding a Writer produces.
type Format int

// The encodings.
const (
	Binary Format = iota // ContentBinary (the default)
	JSON                 // ContentJSON
)

func (f Format) contentType() string {
	if f == JSON {
		return ContentJSON
	}
	return ContentBinary
}

// String returns "binary" or "json".
func (f Format) String() string {
	if f == JSON {
		return "json"
	}
	return "binary"
}

// Errors of the decoder. A DecodeError wraps them with where they happened.
var (
	ErrTruncated   = errors.New("value ends inside a field")
	ErrTrailing    = errors.New("bytes after the last field")
	ErrContentType = errors.New("unknown content type")
	ErrNoVersion   = errors.New("no " + HeaderVersion + " header: not a surge record")
)

// flags of the binary layout's flag byte.
const (
	flagTruncated = 1 << iota
	flagStatus
	flagResponseBytes
	flagLatency
	flagConnection // schema 1.1: connection_ns
	flagsKnown     = flagTruncated | flagStatus | flagResponseBytes | flagLatency | flagConnection
)

// AppendBinary appends the binary encoding of e to dst and returns it.
//
// Layout (all integers varint or uvarint as in encoding/binary; a string or
// byte field is a uvarint length then its bytes): time (varint Unix ns),
// session, user, seq (varint), method, scheme, host, path, query, header count
// (uvarint) then name, value per header, body, body_size (varint), flags (one
// byte: 1 truncated, 2 status, 4 response_bytes, 8 latency_ns, 16
// connection_ns), then the present ones of status, response_bytes,
// latency_ns, connection_ns (varint each), region, device, protocol, source.
func AppendBinary(dst []byte, e *schema.Exchange) []byte {
	dst = binary.AppendVarint(dst, e.Time.UnixNano())
	dst = appendString(dst, e.Session)
	dst = appendString(dst, e.User)
	dst = binary.AppendVarint(dst, int64(e.Seq))
	for _, s := range [...]string{e.Method, e.Scheme, e.Host, e.Path, e.Query} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Headers)))
	for _, h := range e.Headers {
		dst = appendString(dst, h.Name)
		dst = appendString(dst, h.Value)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Body)))
	dst = append(dst, e.Body...)
	dst = binary.AppendVarint(dst, e.BodySize)
	var flags byte
	if e.BodyTruncated {
		flags |= flagTruncated
	}
	if e.Status != nil {
		flags |= flagStatus
	}
	if e.ResponseBytes != nil {
		flags |= flagResponseBytes
	}
	if e.LatencyNS != nil {
		flags |= flagLatency
	}
	if e.ConnectionNS != nil {
		flags |= flagConnection
	}
	dst = append(dst, flags)
	if e.Status != nil {
		dst = binary.AppendVarint(dst, int64(*e.Status))
	}
	if e.ResponseBytes != nil {
		dst = binary.AppendVarint(dst, *e.ResponseBytes)
	}
	if e.LatencyNS != nil {
		dst = binary.AppendVarint(dst, *e.LatencyNS)
	}
	if e.ConnectionNS != nil {
		dst = binary.AppendVarint(dst, *e.ConnectionNS)
	}
	for _, s := range [...]string{e.Region, e.Device, e.Protocol, e.Source} {
		dst = appendString(dst, s)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads the binary layout. Strings are substrings of one string
// holding the whole value: one allocation for every string field.
type decoder struct {
	s   string
	pos int
	err error
	fld string // the field being read, for errors
	ar  *arena // where header slices and optional numbers come from; nil allocates each
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := uvarintString(d.s[d.pos:])
	if n <= 0 {
		d.fail(field, ErrTruncated)
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) varint(field string) int64 {
	u := d.uvarint(field)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) str(field string) string {
	n := d.uvarint(field)
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.pos) {
		d.fail(field, ErrTruncated)
		return ""
	}
	s := d.s[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

func (d *decoder) fail(field string, err error) {
	if d.err == nil {
		d.err, d.fld = err, field
	}
}

// uvarintString is binary.Uvarint over a string (no copy).
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -1
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// DecodeBinary decodes one binary-encoded exchange from value into e,
// replacing all of e. The strings and the body of e share one copy of value,
// so value may be reused after the call. An error is a *DecodeError naming
// the field and byte offset.
func DecodeBinary(value []byte, e *schema.Exchange) error {
	return decodeBinary(string(value), e, nil)
}

// decodeBinary is DecodeBinary over the value as a string (its strings are
// cut from it), taking the header slice and the optional numbers from ar
// (nil: allocate each).
func decodeBinary(value string, e *schema.Exchange, ar *arena) error {
	d := decoder{s: value, ar: ar}
	*e = schema.Exchange{}
	if ns := d.varint("time"); d.err == nil {
		e.Time = time.Unix(0, ns).UTC()
	}
	e.Session = d.str("session")
	e.User = d.str("user")
	if seq := d.varint("seq"); seq < math.MinInt32 || seq > math.MaxInt32 {
		d.fail("seq", fmt.Errorf("seq %d out of int32 range", seq))
	} else {
		e.Seq = int32(seq)
	}
	e.Method, e.Scheme, e.Host = d.str("method"), d.str("scheme"), d.str("host")
	e.Path, e.Query = d.str("path"), d.str("query")
	// Each header takes at least two bytes, which bounds the allocation.
	if n := d.uvarint("headers"); n > uint64(len(d.s)-d.pos)/2 {
		d.fail("headers", ErrTruncated)
	} else if n > 0 {
		e.Headers = d.ar.headers(int(n))
		for i := range e.Headers {
			e.Headers[i] = schema.Header{Name: d.str("header name"), Value: d.str("header value")}
		}
	}
	if body := d.str("body"); len(body) > 0 {
		e.Body = []byte(body)
	}
	e.BodySize = d.varint("body_size")
	d.flags(e)
	e.Region, e.Device, e.Protocol, e.Source = d.str("region"), d.str("device"), d.str("protocol"), d.str("source")
	if d.err == nil && d.pos != len(d.s) {
		d.fail("end", ErrTrailing)
	}
	if d.err != nil {
		return &DecodeError{Field: d.fld, Offset: d.pos, Err: d.err}
	}
	return nil
}

// flags reads the flag byte and the optional response facts.
func (d *decoder) flags(e *schema.Exchange) {
	if d.err != nil {
		return
	}
	if d.pos >= len(d.s) {
		d.fail("flags", ErrTruncated)
		return
	}
	f := d.s[d.pos]
	d.pos++
	if f&^flagsKnown != 0 {
		d.fail("flags", fmt.Errorf("unknown flag bits %#02x", f&^flagsKnown))
		return
	}
	e.BodyTruncated = f&flagTruncated != 0
	if f&flagStatus != 0 {
		v := d.varint("status")
		if v < math.MinInt32 || v > math.MaxInt32 {
			d.fail("status", fmt.Errorf("status %d out of int32 range", v))
		}
		e.Status = d.ar.int32(int32(v))
	}
	if f&flagResponseBytes != 0 {
		e.ResponseBytes = d.ar.int64(d.varint("response_bytes"))
	}
	if f&flagLatency != 0 {
		e.LatencyNS = d.ar.int64(d.varint("latency_ns"))
	}
	if f&flagConnection != 0 {
		e.ConnectionNS = d.ar.int64(d.varint("connection_ns"))
	}
}

// DecodeError is a value that does not decode: which field, at which byte
// offset of the value, and why. Reader errors add the topic, partition and
// offset of the record.
type DecodeError struct {
	Field  string
	Offset int
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("field %s at byte %d: %v", e.Field, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// header returns the value of the named header of a record.
func header(hs []kafka.Header, name string) ([]byte, bool) {
	for _, h := range hs {
		if h.Key == name {
			return h.Value, true
		}
	}
	return nil, false
}

// Decode decodes a record's value by its headers into e: it checks the
// schema version (same major as schema.Version, else a *schema.VersionError)
// and the kind, and dispatches on the content type.
func Decode(hs []kafka.Header, value []byte, e *schema.Exchange) error {
	return decode(hs, value, e, nil, false)
}

// decode is Decode taking a binary value's header slice and optional
// numbers from ar (nil: allocate each). With own, the caller hands value
// over: nothing else holds or ever changes it (kafka-go allocates every
// message's value afresh), so the event's strings are cut from value's own
// bytes instead of a copy.
func decode(hs []kafka.Header, value []byte, e *schema.Exchange, ar *arena, own bool) error {
	v, ok := header(hs, HeaderVersion)
	if !ok {
		return ErrNoVersion
	}
	if string(v) != schema.Version { // the common case needs no parse
		if err := schema.CheckVersion(string(v)); err != nil {
			return err
		}
	}
	if k, ok := header(hs, HeaderKind); ok && string(k) != string(schema.KindExchange) {
		return fmt.Errorf("record holds %q events, not %q", k, schema.KindExchange)
	}
	ct, _ := header(hs, HeaderContentType)
	switch string(ct) {
	case ContentBinary:
		if own && len(value) > 0 {
			// The value is never written again (own), which is what a
			// string's bytes need; the body is still copied below, since
			// a caller may change e.Body.
			return decodeBinary(unsafe.String(&value[0], len(value)), e, ar)
		}
		return decodeBinary(string(value), e, ar)
	case ContentJSON:
		*e = schema.Exchange{}
		if err := json.Unmarshal(value, e); err != nil {
			return fmt.Errorf("json value: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("%w %q (want %s or %s)", ErrContentType, ct, ContentBinary, ContentJSON)
	}
}

// Headers returns the headers of a record holding an exchange in format f
// from source.
//
// A binary record carries two: surge-schema and content-type. Its content
// type names the kind (an exchange) and its value holds the source, so
// surge-kind and surge-source would repeat what the record says, at four
// allocations per record in every consumer (kafka-go copies each header key
// and value). A JSON record, read by third-party consumers that see only
// headers and JSON, carries all four (surge-source when source is not
// empty). Readers accept either form (docs/KAFKA.md, "Records").
func Headers(f Format, source string) []kafka.Header {
	hs := []kafka.Header{
		{Key: HeaderVersion, Value: []byte(schema.Version)},
		{Key: HeaderContentType, Value: []byte(f.contentType())},
	}
	if f == Binary {
		return hs
	}
	hs = append(hs, kafka.Header{Key: HeaderKind, Value: []byte(schema.KindExchange)})
	if source != "" {
		hs = append(hs, kafka.Header{Key: HeaderSource, Value: []byte(source)})
	}
	return hs
}

// Encode appends the value of e in format f to dst.
func Encode(dst []byte, f Format, e *schema.Exchange) ([]byte, error) {
	if f == JSON {
		b, err := json.Marshal(e)
		return append(dst, b...), err
	}
	return AppendBinary(dst, e), nil
}
