package capture

import (
	"fmt"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// How a line is cut into a format's values.
//
// Most values cannot hold the literal that follows them (a quoted value
// holds no unescaped quote, a status no space), and end at its first
// occurrence. Some can: an unquoted $request_body, an upstream list
// ("127.0.0.1:80, 127.0.0.1:81", "0.010 : 0.020"), an unquoted header or
// request line. Such a value is not cut at its first space: split anchors
// it on the literal text on both sides, trying each occurrence of the
// literal after it until the rest of the line matches the rest of the
// format, and the values after it have the shape their kind requires (a
// status is digits, a time has its one space). The first cut that fits
// wins, so of two neighbouring values that may both hold spaces the first
// gets the fewest.

// shape is what a value looks like, so that a cut which would make a
// status "0.020" or a byte count "200 512" is not taken.
type shape uint8

const (
	shapeAny     shape = iota
	shapeDigits        // 0-9
	shapeDecimal       // 0-9 and .
	shapeTimes         // upstream times: 0-9 . , : space -
)

// maxSplitSteps bounds the cuts split tries on one line (a line of many
// values that may all hold spaces has many); past it the line does not
// match and the first-occurrence cut names the problem.
const maxSplitSteps = 4096

// anchor sets fd's shape, maxSpaces and free from its kind and literal.
func (fd *field) anchor() {
	fd.shape, fd.maxSpaces = shapeAny, -1
	switch fd.kind {
	case kStatus, kBodyBytesSent, kBytesSent, kRequestLength, kMicros, kMillis:
		fd.shape, fd.maxSpaces = shapeDigits, 0
	case kRequestTime, kMsec:
		fd.shape, fd.maxSpaces = shapeDecimal, 0
	case kUpstreamTime:
		fd.shape = shapeTimes
	case kRemoteAddr, kTimeISO, kMethod, kServerProtocol, kScheme, kHost, kHTTPHost, kServerName, kRegion:
		fd.maxSpaces = 0
	case kTimeLocal:
		fd.maxSpaces = 1 // "21/Nov/2026:20:00:01 +0000"
	}
	fd.setFree()
}

// setFree decides whether later occurrences of fd.lit are tried: when the
// value is a list, or may hold spaces and is not ended by a quote (a
// quoted value's own quotes are escaped).
func (fd *field) setFree() {
	fd.free = fd.lit != "" && (fd.list || fd.maxSpaces != 0 && fd.lit[0] != '"')
	// The first occurrence of a literal starting with a space leaves no
	// space in the value before it: firstFits need not count them.
	fd.firstSpaced = fd.lit == "" || fd.lit[0] != ' ' || fd.spaces > 0 || fd.list
	fd.firstCheck = fd.shape != shapeAny || fd.firstSpaced && fd.maxSpaces >= 0
}

// fits reports whether v (as logged, escapes not undone) has fd's shape.
func (fd *field) fits(v string) bool {
	return fd.fitsSpaced(v, true)
}

// fitsSpaced is fits, counting v's spaces only when spaced: a value cut at
// the first occurrence of a literal that starts with a space has none.
func (fd *field) fitsSpaced(v string, spaced bool) bool {
	if v == "-" || v == "" {
		return true
	}
	switch {
	case !spaced:
	case fd.maxSpaces == -1:
	case fd.maxSpaces == 0:
		if strings.IndexByte(v, ' ') >= 0 {
			return false
		}
	default:
		if strings.Count(v, " ") > fd.maxSpaces {
			return false
		}
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch fd.shape {
		case shapeDigits:
			if c < '0' || c > '9' {
				return false
			}
		case shapeDecimal:
			if (c < '0' || c > '9') && c != '.' {
				return false
			}
		case shapeTimes:
			if (c < '0' || c > '9') && strings.IndexByte(".,: -", c) < 0 {
				return false
			}
		default:
			return true
		}
	}
	return true
}

// split cuts line into the format's variable values, storing them in vals
// and appending header variables to h's headers. On a mismatch it returns a
// *RecordError without Pos.
func (f *logFormat) split(line string, vals *values, h *Hit) *RecordError {
	if !strings.HasPrefix(line, f.prefix) {
		return &RecordError{Field: f.fields[0].name, Reason: fmt.Sprintf("line does not start with %q", f.prefix)}
	}
	rest := line[len(f.prefix):]
	if cap(vals.spans) < 2*len(f.fields) {
		vals.spans = make([]int, 2*len(f.fields))
	}
	spans := vals.spans[:2*len(f.fields)]
	if !f.firstFits(rest, spans) {
		c := cutter{f: f, rest: rest, spans: spans}
		if !c.cut(0, 0) {
			// No cut gives every value its shape: cut at first
			// occurrences, as far as that goes, so that the error (here
			// or when a value is read) names the value that is wrong.
			if rerr := c.first(len(line) - len(rest)); rerr != nil {
				return rerr
			}
		}
	}
	if h.Exchange.Headers == nil {
		// One allocation for the line's headers (the pipeline hands the
		// last slice to the writer), not one per append.
		if vals.headers == 0 {
			vals.headers = 1 // a Cookie header made of $cookie_NAME values
			for i := range f.fields {
				if f.fields[i].header != "" {
					vals.headers++
				}
			}
		}
		h.Exchange.Headers = make([]schema.Header, 0, vals.headers)
	}
	// One scan of the line instead of one per value: most lines have no
	// escape at all.
	escaped := strings.IndexByte(rest, '\\') >= 0
	for i := range f.fields {
		fd := &f.fields[i]
		v := rest[spans[2*i]:spans[2*i+1]]
		if v == "-" || v == "" {
			continue
		}
		switch fd.kind {
		case kIgnore:
			continue
		case kRequestBody:
			vals.v[kRequestBody] = v // unescaped later, control characters included
			continue
		}
		if escaped {
			v = unescapeLogged(v)
		}
		if fd.header != "" {
			h.Exchange.Headers = append(h.Exchange.Headers, schema.Header{Name: fd.header, Value: v})
		}
		if fd.kind == kCookie {
			vals.cookies = append(vals.cookies, schema.Header{Name: fd.cookie, Value: v})
		} else if fd.kind == kTimeParts {
			vals.times = append(vals.times, v)
		} else {
			vals.v[fd.kind] = v
		}
	}
	return nil
}

// cutter finds the values of one line: spans[2i:2i+2] is where value i
// starts and ends in rest.
type cutter struct {
	f      *logFormat
	rest   string
	spans  []int
	failed map[int]bool // field*(len(rest)+1)+offset known not to match; nil until a cut fails
	steps  int
}

// firstFits is cut's first try, without recursion (most lines): every
// value of rest cut at the first occurrence of its literal, and fitting its
// shape. It records the values' spans as cut does.
func (f *logFormat) firstFits(rest string, spans []int) bool {
	fields := f.fields
	pos := 0
	for i := range fields {
		fd := &fields[i]
		v := rest[pos:]
		end := len(v)
		if fd.lit != "" {
			from := 0
			if fd.spaces > 0 {
				from = fd.skip(v)
			}
			if len(fd.lit) == 1 && !fd.list && fd.lit[0] != '"' {
				// The common case of next, inline: a one-byte literal
				// that nothing escapes.
				if end = strings.IndexByte(v[min(from, len(v)):], fd.lit[0]); end >= 0 && from <= len(v) {
					end += from
				} else {
					return false
				}
			} else if end = fd.next(v, from); end < 0 {
				return false
			}
		}
		if fd.firstCheck && !fd.fitsSpaced(v[:end], fd.firstSpaced) {
			return false
		}
		spans[2*i], spans[2*i+1] = pos, pos+end
		pos += end + len(fd.lit)
	}
	return pos >= len(rest) || f.trailing
}

// cut reports whether fields i... match rest[pos:], recording their spans.
func (c *cutter) cut(i, pos int) bool {
	fields := c.f.fields
	if i == len(fields) {
		return pos == len(c.rest) || c.f.trailing
	}
	fd := &fields[i]
	if fd.lit == "" { // the last value takes the rest of the line
		c.spans[2*i], c.spans[2*i+1] = pos, len(c.rest)
		return fd.fits(c.rest[pos:])
	}
	key := i*(len(c.rest)+1) + pos
	if c.failed != nil && c.failed[key] {
		return false
	}
	v := c.rest[pos:]
	for from := fd.skip(v); c.steps < maxSplitSteps; {
		end := fd.next(v, from)
		if end < 0 {
			break
		}
		c.steps++
		if fd.fits(v[:end]) && c.cut(i+1, pos+end+len(fd.lit)) {
			c.spans[2*i], c.spans[2*i+1] = pos, pos+end
			return true
		}
		if !fd.free {
			break
		}
		from = end + 1
	}
	if c.failed == nil {
		c.failed = make(map[int]bool)
	}
	c.failed[key] = true
	return false
}

// first cuts every value at the first occurrence of its literal, shapes
// unchecked, or returns a *RecordError naming where that fails; col is the
// column of rest in the line, less one.
func (c *cutter) first(col int) *RecordError {
	fields := c.f.fields
	pos := 0
	for i := range fields {
		fd := &fields[i]
		if fd.lit == "" {
			c.spans[2*i], c.spans[2*i+1] = pos, len(c.rest)
			pos = len(c.rest)
			continue
		}
		v := c.rest[pos:]
		end := fd.next(v, fd.skip(v))
		if end < 0 {
			return &RecordError{Field: fd.name, Reason: fmt.Sprintf("no %q after the value starting at column %d", fd.lit, col+pos+1)}
		}
		c.spans[2*i], c.spans[2*i+1] = pos, pos+end
		pos += end + len(fd.lit)
	}
	if pos < len(c.rest) && !c.f.trailing {
		last := &fields[len(fields)-1]
		return &RecordError{Field: last.name, Reason: fmt.Sprintf("unexpected text after the last field at column %d: %s", col+pos+1, quoteForError(c.rest[pos:]))}
	}
	return nil
}

// skip returns where in v (the text from fd's value on) fd.lit may first
// occur: after the spaces the value is known to hold, or len(v)+1 when v
// has fewer.
func (fd *field) skip(v string) int {
	from := 0
	for n := 0; n < fd.spaces; n++ {
		sp := strings.IndexByte(v[from:], ' ')
		if sp < 0 {
			return len(v) + 1
		}
		from += sp + 1
	}
	return from
}

// next returns the first occurrence of fd.lit in v at or after from that
// may end fd's value, or -1: a quote escaped as \" does not, and neither
// does the space of a list separator (", " and " : ").
func (fd *field) next(v string, from int) int {
	for from <= len(v) {
		var i int
		if len(fd.lit) == 1 {
			i = strings.IndexByte(v[from:], fd.lit[0])
		} else {
			i = strings.Index(v[from:], fd.lit)
		}
		if i < 0 {
			return -1
		}
		i += from
		switch {
		case fd.lit[0] == '"' && backslashEscaped(v, i):
			// Apache writes a quote inside a quoted value as \".
		case fd.list && (i > 0 && (v[i-1] == ',' || v[i-1] == ':') ||
			strings.HasPrefix(v[i+len(fd.lit):], ":")):
			// "0.010, 0.020" and "0.010 : 0.020" are one upstream value.
		default:
			return i
		}
		from = i + 1
	}
	return -1
}
