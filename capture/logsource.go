package capture

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// What the decoders of load balancer, CDN and proxy logs (alb.go,
// cloudfront.go, envoy.go, caddy.go) share: reading lines into Hits, the
// slab of optional response fields, the cache of device classes, and the
// setters of the Exchange fields every one of them fills.

// Sources the decoders of load balancer, CDN and proxy logs write into
// Exchange.Source.
const (
	SourceApache     = "apache"     // NewApacheDecoder
	SourceALB        = "alb"        // NewALBDecoder
	SourceCloudFront = "cloudfront" // NewCloudFrontDecoder
	SourceEnvoy      = "envoy"      // NewEnvoyDecoder
	SourceCaddy      = "caddy"      // NewCaddyDecoder
)

// logSource reads the lines of one log for a decoder.
type logSource struct {
	lines   *lineReader
	facts   []responseFacts
	devices map[string]uaClass // user agent -> DeviceClass
}

func newLogSource(r io.Reader, name string) *logSource {
	return &logSource{lines: newLineReader(r, name), devices: make(map[string]uaClass)}
}

// next returns the next line that is not blank, with h reset and positioned
// at it. The string is a copy: the Hit may keep substrings of it. Errors are
// those of lineReader.next, a read error wrapped with the position.
func (s *logSource) next(h *Hit) (string, error) {
	for {
		line, pos, err := s.lines.next()
		var rerr *RecordError
		switch {
		case err == io.EOF || errors.As(err, &rerr):
			return "", err
		case err != nil:
			return "", fmt.Errorf("%s: %w", pos, err)
		}
		if blankLine(line) {
			continue
		}
		h.Reset()
		h.Pos = pos
		return string(line), nil
	}
}

// fail positions rerr at h's record and returns it.
func (s *logSource) fail(h *Hit, rerr *RecordError) error {
	rerr.Pos = h.Pos
	return rerr
}

// responseFacts returns a fresh slot for one record's optional response
// fields, from a slab allocated 256 records at a time.
func (s *logSource) responseFacts() *responseFacts {
	if len(s.facts) == 0 {
		s.facts = make([]responseFacts, 256)
	}
	f := &s.facts[0]
	s.facts = s.facts[1:]
	return f
}

// device returns the DeviceClass of ua through the cache.
func (s *logSource) device(ua string) string { return cachedDevice(s.devices, ua) }

// cachedDevice returns the DeviceClass of ua through cache, which it
// empties when it holds maxDevices user agents.
func cachedDevice(cache map[string]uaClass, ua string) string {
	_, c := internUA(cache, ua)
	return c
}

// uaClass is a user agent as the device cache holds it (its own copy, not
// part of a line) and its DeviceClass.
type uaClass struct{ ua, device string }

// internUA returns the cache's copy of ua and its DeviceClass. Replacing a
// line's user agent by the copy lets the scrubber and the sessionizer,
// which see the same few user agents over and over, recognize it by its
// address instead of hashing it again (see Scrubber.header).
func internUA(cache map[string]uaClass, ua string) (canon, device string) {
	if c, ok := cache[ua]; ok {
		return c.ua, c.device
	}
	c := uaClass{ua: strings.Clone(ua), device: DeviceClass(ua)} // not a substring: it would keep its line alive
	if len(cache) >= maxDevices {
		clear(cache)
	}
	cache[c.ua] = c
	return c.ua, c.device
}

// setStatus sets e.Status from a logged status; "", "-" and the codes
// below 100 that proxies write for "no response sent" ("0", "000") leave
// it unknown.
func setStatus(e *schema.Exchange, f *responseFacts, field, s string) *RecordError {
	if absent(s) || strings.Trim(s, "0") == "" {
		return nil
	}
	code, ok := statusValue(s)
	if !ok {
		return badRecord(field, "not an HTTP status: %s", quoteForError(s))
	}
	f.status, e.Status = code, &f.status
	return nil
}

// setBytes sets e.ResponseBytes from a logged byte count; "" and "-" leave
// it unknown.
func setBytes(e *schema.Exchange, f *responseFacts, field, s string) *RecordError {
	if absent(s) {
		return nil
	}
	n, ok := countValue(s)
	if !ok {
		return badRecord(field, "not a byte count: %s", quoteForError(s))
	}
	f.bytes, e.ResponseBytes = n, &f.bytes
	return nil
}

// setLatency sets e.LatencyNS to ns.
func setLatency(e *schema.Exchange, f *responseFacts, ns int64) {
	f.nanos, e.LatencyNS = ns, &f.nanos
}

// millisValue parses a whole or fractional number of milliseconds ("12",
// "0.5") into nanoseconds.
func millisValue(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	ms, ok := digits(whole)
	if !ok || len(whole) > 12 {
		return 0, false
	}
	ns, ok := fraction(frac) // of a second: scale down to a millisecond
	return int64(ms)*1e6 + ns/1e3, ok
}

// addHeader appends a request header when the value is present.
func addHeader(e *schema.Exchange, name, value string) {
	if !absent(value) {
		e.Headers = append(e.Headers, schema.Header{Name: name, Value: value})
	}
}

// absent reports whether a logged value means "none": empty or "-".
func absent(s string) bool { return s == "" || s == "-" }

// hostOnly returns a client address without its port: "192.0.2.1:5000" ->
// "192.0.2.1", "[2001:db8::1]:443" -> "2001:db8::1"; "-" is "".
func hostOnly(addr string) string {
	if absent(addr) {
		return ""
	}
	return forwardedClient(addr)
}

// splitFields splits a space-separated line into dst, keeping a field in
// double quotes ("GET / HTTP/1.1") or square brackets ([2026-11-21T20:00:01Z])
// whole, without its quotes or brackets. A quoted field ends at a quote
// followed by a space or the end of the line, so a quote inside a value
// (which these logs do not escape) does not end it; \" is a quote. ok is
// false for a quote or bracket that is not closed.
func splitFields(line string, dst []string) ([]string, bool) {
	dst = dst[:0]
	for i := 0; i < len(line); {
		if line[i] == ' ' {
			i++
			continue
		}
		switch line[i] {
		case '"':
			end := quotedEnd(line, i+1)
			if end < 0 {
				return dst, false
			}
			dst = append(dst, line[i+1:end])
			i = end + 1
		case '[':
			end := strings.IndexByte(line[i:], ']')
			if end < 0 {
				return dst, false
			}
			dst = append(dst, line[i+1:i+end])
			i += end + 1
		default:
			end := strings.IndexByte(line[i:], ' ')
			if end < 0 {
				end = len(line) - i
			}
			dst = append(dst, line[i:i+end])
			i += end
		}
	}
	return dst, true
}

// quotedEnd returns the index of the quote that closes a quoted field
// starting at line[from], or -1.
func quotedEnd(line string, from int) int {
	for i := from; i < len(line); i++ {
		if line[i] != '"' || backslashEscaped(line, i) {
			continue
		}
		if i+1 == len(line) || line[i+1] == ' ' {
			return i
		}
	}
	return -1
}

// dropTunnelLatency moves the logged duration of a long-lived connection
// (a WebSocket exchange, a 101 upgrade, a CONNECT tunnel) from LatencyNS to
// ConnectionNS after its start has been computed: it is the connection's
// lifetime, not the time to a response, and is kept in its own field as
// the access-log importers keep it.
func dropTunnelLatency(e *schema.Exchange) {
	if e.LatencyNS != nil && (e.Protocol == schema.ProtoWebSocket || longLived(e)) {
		e.ConnectionNS, e.LatencyNS = e.LatencyNS, nil
	}
}

// quoteValue quotes a value that failed to parse for an error reason when
// it is short (a number, a time, a method); a longer one, which could be
// anything a shifted field holds (a token, a whole URL), is named by its
// length only. Reasons stay short and never carry a record's secrets.
func quoteValue(s string) string {
	if len(s) <= 32 && !strings.ContainsAny(s, "=&?;") {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("a value of %d bytes", len(s))
}
