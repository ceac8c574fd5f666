package capture

import (
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/surge-replay/surge/schema"
)

// The CloudFront standard log fields the decoder reads (AWS, Amazon
// CloudFront Developer Guide, "Standard logging reference", section "Log
// file fields": docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
// standard-logs-reference.html). A log names its fields in a #Fields header
// (W3C extended log file format, www.w3.org/TR/WD-logfile.html); they may
// come in any order and any may be missing but the time, cs-method and
// cs-uri-stem.
const (
	cfDate = iota
	cfTime
	cfTimestamp   // standard logging v2: seconds since the epoch
	cfTimestampMS // standard logging v2: milliseconds since the epoch
	cfEdge
	cfBytes
	cfClientIP
	cfMethod
	cfHost
	cfStem
	cfStatus
	cfReferer
	cfUserAgent
	cfQuery
	cfCookie
	cfHostHeader
	cfProtocol
	cfTimeTaken
	cfForwardedFor
	cfProtocolVersion
	cfCountry
	cfNumFields
)

var cfFieldNames = [cfNumFields]string{
	"date", "time", "timestamp", "timestamp(ms)", "x-edge-location", "sc-bytes", "c-ip",
	"cs-method", "cs(Host)", "cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)",
	"cs-uri-query", "cs(Cookie)", "x-host-header", "cs-protocol", "time-taken",
	"x-forwarded-for", "cs-protocol-version", "c-country",
}

// NewCloudFrontDecoder returns a Decoder of Amazon CloudFront standard logs
// (legacy and v2, in the W3C extended format): tab-separated records after
// a "#Version:" and a "#Fields:" header naming their fields; name names the
// input in positions and errors. A later #Fields header (concatenated
// files) applies to the records after it.
//
// date and time (UTC, to the second) or timestamp / timestamp(ms) are when
// the edge finished the response: Hit.LogTime. Exchange.Time, the request
// start, is that minus time-taken (seconds to the millisecond from when the
// edge received the request to when it wrote the last byte, also LatencyNS;
// for a WebSocket it is the connection's lifetime and LatencyNS is unknown).
// Since the log time has whole seconds, a start can be up to a second
// early. sc-status is Status ("000": the viewer left before a response,
// unknown); sc-bytes, which counts the headers, is ResponseBytes.
// cs-method, cs-uri-stem and cs-uri-query are Method, Path and Query;
// x-host-header (else cs(Host)) is Host; cs-protocol is Scheme (ws and wss
// are http and https with Protocol WebSocket); cs-protocol-version is
// Protocol (HTTP/0.9 is recorded as HTTP/1.0, HTTP/3.0 as HTTP/2).
// cs(User-Agent), cs(Referer) and cs(Cookie) become request headers; the
// first address of x-forwarded-for, else c-ip, is Client; c-country when
// logged, else x-edge-location (the edge that served the viewer, e.g.
// IAD89-C3), is Region. A value of "-" is absent.
//
// CloudFront URL-encodes spaces, control and non-ASCII bytes and
// <>"#%{}|\^~[]`' in values (RFC 1738 escapes); the decoder undoes that
// once, so a path or query comes back as the viewer sent it, except that
// a byte a request line cannot hold raw (space, control, non-ASCII) stays
// escaped there.
//
// A record without a #Fields header before it, with a field count other
// than its header's, or with a value that does not parse is a *RecordError
// naming the line and the field. The Decoder is not safe for concurrent use.
func NewCloudFrontDecoder(r io.Reader, name string) Decoder {
	d := &cloudFrontDecoder{src: newLogSource(r, name)}
	return d.decode
}

type cloudFrontDecoder struct {
	src     *logSource
	cols    [cfNumFields]int // index of each field in a record; -1 when not logged
	nfields int              // fields the #Fields header names; 0 before one
	fields  []string
}

func (d *cloudFrontDecoder) decode(h *Hit) error {
	for {
		line, err := d.src.next(h)
		if err != nil {
			return err
		}
		if strings.HasPrefix(line, "#") {
			if rerr := d.header(line); rerr != nil {
				return d.src.fail(h, rerr)
			}
			continue
		}
		if rerr := d.parse(line, h); rerr != nil {
			return d.src.fail(h, rerr)
		}
		return nil
	}
}

// header reads a directive line; only #Fields matters.
func (d *cloudFrontDecoder) header(line string) *RecordError {
	names, ok := strings.CutPrefix(line, "#Fields:")
	if !ok {
		return nil // #Version:, #Date:, remarks
	}
	d.nfields = 0
	for i := range d.cols {
		d.cols[i] = -1
	}
	fs := strings.Fields(names)
	for i, f := range fs {
		for k, name := range cfFieldNames {
			if strings.EqualFold(f, name) {
				d.cols[k] = i
			}
		}
	}
	hasTime := d.cols[cfDate] >= 0 && d.cols[cfTime] >= 0 || d.cols[cfTimestamp] >= 0 || d.cols[cfTimestampMS] >= 0
	for _, need := range [...]struct {
		ok   bool
		name string
	}{{hasTime, "date and time (or timestamp)"}, {d.cols[cfMethod] >= 0, "cs-method"}, {d.cols[cfStem] >= 0, "cs-uri-stem"}} {
		if !need.ok {
			return badRecord("#Fields", "no %s field", need.name)
		}
	}
	d.nfields = len(fs)
	return nil
}

// get returns field k of the record, or "" when it is not logged or "-".
func (d *cloudFrontDecoder) get(k int) string {
	if i := d.cols[k]; i >= 0 && d.fields[i] != "-" {
		return d.fields[i]
	}
	return ""
}

func (d *cloudFrontDecoder) parse(line string, h *Hit) *RecordError {
	if d.nfields == 0 {
		return badRecord("", "no usable #Fields header before this record")
	}
	d.fields = splitTabs(line, d.fields)
	if len(d.fields) != d.nfields {
		return badRecord("", "%d tab-separated fields; #Fields names %d", len(d.fields), d.nfields)
	}
	e := &h.Exchange
	e.Source = SourceCloudFront
	if rerr := d.request(e); rerr != nil {
		return rerr
	}
	f := d.src.responseFacts()
	if rerr := setStatus(e, f, "sc-status", d.get(cfStatus)); rerr != nil {
		return rerr
	}
	if rerr := setBytes(e, f, "sc-bytes", d.get(cfBytes)); rerr != nil {
		return rerr
	}
	if s := d.get(cfTimeTaken); s != "" {
		ns, ok := secondsValue(s)
		if !ok {
			return badRecord("time-taken", "not a duration in seconds: %s", quoteValue(s))
		}
		setLatency(e, f, ns)
	}
	if rerr := d.times(h); rerr != nil {
		return rerr
	}
	for _, hd := range [...]struct {
		k    int
		name string
	}{{cfUserAgent, "User-Agent"}, {cfReferer, "Referer"}, {cfCookie, "Cookie"}} {
		if v := d.get(hd.k); v != "" {
			addHeader(e, hd.name, cfUnescape(v, isControl))
		}
	}
	if ua, ok := e.Header("User-Agent"); ok {
		e.Device = d.src.device(ua)
	}
	h.Client = firstNonEmpty(forwardedClient(d.get(cfForwardedFor)), d.get(cfClientIP))
	e.Region = firstNonEmpty(d.get(cfCountry), d.get(cfEdge))
	dropTunnelLatency(e)
	return nil
}

// request sets Method, Scheme, Host, Path, Query and Protocol.
func (d *cloudFrontDecoder) request(e *schema.Exchange) *RecordError {
	m := d.get(cfMethod)
	if !isMethodToken(m) {
		return badRecord("cs-method", "not a method: %s", quoteValue(m))
	}
	e.Method = logMethod(m)
	e.Path = cfUnescape(d.get(cfStem), notInRequestLine)
	if !strings.HasPrefix(e.Path, "/") && e.Path != "*" {
		return badRecord("cs-uri-stem", "does not start with /")
	}
	e.Query = cfUnescape(d.get(cfQuery), notInRequestLine)
	e.Host = firstNonEmpty(d.get(cfHostHeader), d.get(cfHost))
	e.Scheme, e.Protocol = "http", schema.ProtoHTTP11
	switch p := d.get(cfProtocol); p {
	case "", "http":
	case "https":
		e.Scheme = "https"
	case "ws", "wss":
		e.Scheme = strings.Replace(p, "ws", "http", 1)
	default:
		return badRecord("cs-protocol", "not http, https, ws or wss: %s", quoteValue(p))
	}
	if v := d.get(cfProtocolVersion); v != "" {
		proto, ok := logProto(v)
		if v == "HTTP/0.9" {
			proto, ok = schema.ProtoHTTP10, true
		}
		if !ok {
			return badRecord("cs-protocol-version", "not an HTTP version: %s", quoteValue(v))
		}
		e.Protocol = proto
	}
	if p := d.get(cfProtocol); p == "ws" || p == "wss" {
		e.Protocol = schema.ProtoWebSocket
	}
	return nil
}

// times sets LogTime from the record's time fields and Exchange.Time from
// it and the latency.
func (d *cloudFrontDecoder) times(h *Hit) *RecordError {
	var (
		end   time.Time
		ok    bool
		field string
	)
	switch {
	case d.get(cfTimestampMS) != "":
		field = "timestamp(ms)"
		var ms int
		if ms, ok = digits(d.get(cfTimestampMS)); ok {
			end = time.UnixMilli(int64(ms)).UTC()
		}
	case d.get(cfTimestamp) != "":
		field = "timestamp"
		end, ok = msecTime(d.get(cfTimestamp))
	default:
		field = "date"
		end, ok = w3cTime(d.get(cfDate), d.get(cfTime))
	}
	if !ok {
		return badRecord(field, "not a time")
	}
	h.LogTime, h.Exchange.Time = end, end
	if l, ok := h.Exchange.Latency(); ok {
		h.Exchange.Time = end.Add(-l)
	}
	return nil
}

// w3cTime parses a W3C date ("2026-11-21") and time ("20:00:01", UTC).
func w3cTime(date, clock string) (time.Time, bool) {
	if len(date) != 10 || date[4] != '-' || date[7] != '-' || len(clock) < 8 || clock[2] != ':' || clock[5] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(date[:4])
	mon, ok2 := digits(date[5:7])
	day, ok3 := digits(date[8:])
	hh, ok4 := digits(clock[:2])
	mm, ok5 := digits(clock[3:5])
	ss, ok6 := digits(clock[6:8])
	var ns int64
	ok7 := len(clock) == 8
	if len(clock) > 9 && clock[8] == '.' {
		ns, ok7 = fraction(clock[9:])
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return time.Time{}, false
	}
	return civilTime(year, mon, day, hh, mm, ss, ns, 0)
}

// splitTabs splits a record at its tabs into dst.
func splitTabs(line string, dst []string) []string {
	dst = dst[:0]
	for {
		i := strings.IndexByte(line, '\t')
		if i < 0 {
			return append(dst, line)
		}
		dst = append(dst, line[:i])
		line = line[i+1:]
	}
}

// isControl reports whether c is an ASCII control character.
func isControl(c byte) bool { return c < 0x20 || c == 0x7f }

// notInRequestLine reports whether c cannot stand raw in a request target.
func notInRequestLine(c byte) bool { return c <= ' ' || c >= 0x7f }

// cfUnescape undoes the %XX escapes of s, except those of bytes keep
// reports (they stay as written), and returns s itself when there is
// nothing to undo or the result would not be UTF-8.
func cfUnescape(s string, keep func(byte) bool) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := hexDigit(s[i+1])
			lo, ok2 := hexDigit(s[i+2])
			if c := hi<<4 | lo; ok1 && ok2 && !keep(c) {
				b = append(b, c)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	if !utf8.Valid(b) {
		return s
	}
	return string(b)
}
