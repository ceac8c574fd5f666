package capture

import (
	"fmt"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"github.com/surge-replay/surge/schema"
)

// FormatError is an nginx log_format string that cannot be compiled.
type FormatError struct {
	Format string // the format as given
	Offset int    // byte offset in Format of the problem; -1 when it is the whole format
	Reason string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return "log format: " + e.Reason
	}
	return fmt.Sprintf("log format: at offset %d: %s", e.Offset, e.Reason)
}

// varKind is what the decoder does with a variable's value.
type varKind uint8

// The variables the decoder understands. kIgnore values are split off and
// dropped; kHeader and kCookie values go to the request headers.
const (
	kIgnore varKind = iota
	kRemoteAddr
	kForwardedFor
	kRemoteUser
	kTimeLocal
	kTimeISO
	kMsec
	kRequest
	kMethod
	kRequestURI
	kURI
	kArgs
	kServerProtocol
	kScheme
	kHost
	kHTTPHost
	kServerName
	kStatus
	kBodyBytesSent
	kBytesSent
	kRequestLength
	kRequestTime
	kUpstreamTime
	kUserAgent
	kUpgrade
	kHTTPCookie
	kRegion
	kRequestBody
	kHeader
	kCookie
	kMicros    // Apache %D, %{us}T: request time in microseconds
	kMillis    // Apache %{ms}T: request time in milliseconds
	kQueryMark // Apache %q: "?query", or empty
	kTimeParts // Apache %t and %{format}t: read by the format's clock
	numKinds
)

// namedVars maps a variable name (lower case, no $) to its kind. Names not
// here and not starting with http_ or cookie_ are parsed and ignored.
var namedVars = map[string]varKind{
	"remote_addr":              kRemoteAddr,
	"remote_user":              kRemoteUser,
	"time_local":               kTimeLocal,
	"time_iso8601":             kTimeISO,
	"msec":                     kMsec,
	"request":                  kRequest,
	"request_method":           kMethod,
	"request_uri":              kRequestURI,
	"uri":                      kURI,
	"document_uri":             kURI,
	"args":                     kArgs,
	"query_string":             kArgs,
	"server_protocol":          kServerProtocol,
	"scheme":                   kScheme,
	"host":                     kHost,
	"server_name":              kServerName,
	"status":                   kStatus,
	"body_bytes_sent":          kBodyBytesSent,
	"bytes_sent":               kBytesSent,
	"request_length":           kRequestLength,
	"request_time":             kRequestTime,
	"upstream_response_time":   kUpstreamTime,
	"geoip_country_code":       kRegion,
	"geoip2_data_country_code": kRegion,
	"request_body":             kRequestBody,
}

// httpVars are the $http_NAME variables with a meaning beyond "a header".
var httpVars = map[string]varKind{
	"x_forwarded_for": kForwardedFor,
	"host":            kHTTPHost,
	"user_agent":      kUserAgent,
	"upgrade":         kUpgrade,
	"cookie":          kHTTPCookie,
	"cf_ipcountry":    kRegion,
}

// field is one variable of a compiled format and the literal after it.
type field struct {
	name   string  // variable name as written, with the $ (for errors)
	kind   varKind // what to do with the value
	header string  // canonical header name to record the value under, or ""
	cookie string  // cookie name of a $cookie_NAME
	lit    string  // literal after the value; "" only after the last variable
	spaces int     // spaces the value itself contains before lit may match
	list   bool    // value may be a list with ", " and " : " separators

	// How split anchors the value (logsplit.go), set by index.
	shape     shape // what the value looks like when it is not "-"
	maxSpaces int   // spaces the value may hold; -1 for any number
	free      bool  // the value may hold lit: later occurrences are tried too
	// What firstFits checks of a value cut at the first occurrence of lit.
	firstCheck, firstSpaced bool
}

// logFormat is a compiled nginx log_format: a literal prefix, then
// variables each followed by a literal.
type logFormat struct {
	prefix   string
	fields   []field
	names    [numKinds]string // the variable that supplies each kind
	trailing bool             // ignore text after the last literal
	clock    *apacheClock     // reads the kTimeParts values; nil for nginx formats
}

// has reports whether the format has a variable of kind k.
func (f *logFormat) has(k varKind) bool { return f.names[k] != "" }

// compileFormat compiles an nginx log_format string.
func compileFormat(format string) (*logFormat, error) {
	if strings.TrimSpace(format) == "" {
		return nil, &FormatError{Format: format, Offset: 0, Reason: "empty format"}
	}
	f := &logFormat{}
	fail := func(off int, reason string) (*logFormat, error) {
		return nil, &FormatError{Format: format, Offset: off, Reason: reason}
	}
	var lit strings.Builder
	for i := 0; i < len(format); {
		c := format[i]
		if c != '$' {
			lit.WriteByte(c)
			i++
			continue
		}
		name, next, reason := scanVar(format, i)
		if reason != "" {
			return fail(i, reason)
		}
		if len(f.fields) > 0 && lit.Len() == 0 {
			return fail(i, fmt.Sprintf("$%s follows %s with no text between them: the value boundary is unknown", name, f.fields[len(f.fields)-1].name))
		}
		if len(f.fields) == 0 {
			f.prefix = lit.String()
		} else {
			f.fields[len(f.fields)-1].lit = lit.String()
		}
		lit.Reset()
		f.fields = append(f.fields, newField(name))
		i = next
	}
	if len(f.fields) == 0 {
		return fail(-1, "no variables")
	}
	f.fields[len(f.fields)-1].lit = lit.String()
	f.index()
	if !f.has(kTimeLocal) && !f.has(kTimeISO) && !f.has(kMsec) {
		return fail(-1, "no time variable ($time_local, $time_iso8601 or $msec)")
	}
	if !f.has(kRequest) && !f.has(kRequestURI) && !f.has(kURI) {
		return fail(-1, "no request variable ($request, $request_uri or $uri)")
	}
	return f, nil
}

// index records which variable supplies each kind, how each value is
// anchored (logsplit.go), and the space inside a $time_local when a space
// follows it.
func (f *logFormat) index() {
	for i := range f.fields {
		fd := &f.fields[i]
		f.names[fd.kind] = fd.name
		if fd.kind == kTimeLocal && strings.HasPrefix(fd.lit, " ") {
			fd.spaces = 1 // "21/Nov/2026:20:00:01 +0000"
		}
		fd.anchor()
	}
}

// scanVar reads the variable at format[i] (a '$'): "$name" or "${name}". It
// returns the lower-case name and the offset after it, or a reason.
func scanVar(format string, i int) (name string, next int, reason string) {
	j := i + 1
	if j < len(format) && format[j] == '{' {
		end := strings.IndexByte(format[j:], '}')
		if end < 0 {
			return "", 0, "${ without a closing }"
		}
		name = format[j+1 : j+end]
		if name == "" || nameLen(name) != len(name) {
			return "", 0, fmt.Sprintf("%q is not a variable name", name)
		}
		return strings.ToLower(name), j + end + 1, ""
	}
	n := nameLen(format[j:])
	if n == 0 {
		return "", 0, "$ not followed by a variable name"
	}
	return strings.ToLower(format[j : j+n]), j + n, ""
}

// nameLen is the length of the variable name [a-zA-Z0-9_]* at the start of s.
func nameLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return i
		}
	}
	return len(s)
}

// newField returns the field for variable name (lower case, no $).
func newField(name string) field {
	fd := field{name: "$" + name, list: strings.HasPrefix(name, "upstream_")}
	if k, ok := namedVars[name]; ok {
		fd.kind = k
		return fd
	}
	switch {
	case strings.HasPrefix(name, "http_") && len(name) > len("http_"):
		h := name[len("http_"):]
		fd.kind = kHeader
		if k, ok := httpVars[h]; ok {
			fd.kind = k
		}
		if fd.kind != kHTTPHost {
			fd.header = textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(h, "_", "-"))
		}
	case strings.HasPrefix(name, "cookie_") && len(name) > len("cookie_"):
		fd.kind, fd.cookie = kCookie, name[len("cookie_"):]
	}
	return fd
}

// values are the raw values of one line by kind, "" when absent ("-" or
// empty), escapes already undone.
type values struct {
	v       [numKinds]string
	cookies []schema.Header // $cookie_NAME values, in format order
	times   []string        // kTimeParts values, in format order
	spans   []int           // scratch of split: where each value starts and ends
	headers int             // the most headers a line has, 0 until split counts them
}

// backslashEscaped reports whether s[i] is preceded by an odd number of backslashes.
func backslashEscaped(s string, i int) bool {
	n := 0
	for i > 0 && s[i-1] == '\\' {
		n++
		i--
	}
	return n%2 == 1
}

// unescapeLogged undoes the escaping of a logged value: nginx writes ", \ and
// bytes outside printable ASCII as \xNN, Apache writes \" and \\. Escapes
// of control characters (which a header value cannot hold) are kept as
// written, and so is the whole value when undoing the escapes would not
// give UTF-8 (a string column must hold UTF-8). It returns s itself when
// there is nothing to undo.
func unescapeLogged(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := appendUnescapedLogged(make([]byte, 0, len(s)), s, false)
	if !utf8.Valid(b) {
		return s
	}
	return string(b)
}

// appendUnescapedLogged appends s with its escapes undone to dst. With ctl false,
// escapes of control characters (< 0x20 and 0x7F) are kept as written.
func appendUnescapedLogged(dst []byte, s string, ctl bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			dst = append(dst, c)
			continue
		}
		switch s[i+1] {
		case '"', '\\':
			dst = append(dst, s[i+1])
			i++
			continue
		case 'x':
			if i+3 < len(s) {
				hi, ok1 := hexDigit(s[i+2])
				lo, ok2 := hexDigit(s[i+3])
				b := hi<<4 | lo
				if ok1 && ok2 && (ctl || b >= 0x20 && b != 0x7f) {
					dst = append(dst, b)
					i += 3
					continue
				}
			}
		}
		dst = append(dst, c)
	}
	return dst
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// quoteForError quotes s for an error message, cut to 64 bytes.
func quoteForError(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q...", s[:64])
	}
	return fmt.Sprintf("%q", s)
}
