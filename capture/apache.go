package capture

import (
	"fmt"
	"io"
	"strings"
)

// ApacheFormats are the LogFormat nicknames of a stock Apache httpd
// configuration (httpd.conf, and Debian's apache2.conf for
// vhost_combined), accepted by NewApacheDecoder in place of a format.
var ApacheFormats = map[string]string{
	"common":         `%h %l %u %t "%r" %>s %b`,
	"combined":       `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`,
	"combinedio":     `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %I %O`,
	"vhost_combined": `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`,
}

// NewApacheDecoder returns a Decoder of an access log written by Apache
// httpd's mod_log_config with the LogFormat format (Apache HTTP Server 2.4
// documentation, mod_log_config, "Custom Log Formats":
// httpd.apache.org/docs/2.4/mod/mod_log_config.html#formats); name names
// the input in positions and errors. format is the string as written in
// httpd.conf, with its \" and \t escapes (a whole LogFormat directive, its
// quotes and nickname are accepted too), or a nickname of ApacheFormats.
// A *FormatError says what in format cannot be compiled and where. The
// format must hold a time (%t or %{format}t) and a request (%r, or %U),
// and text between any two directives.
//
// Understood directives fill the Hit: %a, else %h (Client), %u (UserID),
// %t and %{format}t (the time), %r, or %m %U %q %H (the request), %V,
// else %v (Host, unless a Host header is logged), %>s, else %s (Status),
// %b or %B, else %O (ResponseBytes; %O counts headers), %D, %{us}T,
// %{ms}T, else %T or %{s}T (LatencyNS), %{NAME}i (request header NAME;
// Host, User-Agent, X-Forwarded-For and Cookie as with nginx's $http_NAME),
// %{NAME}C (a Cookie header unless %{Cookie}i is logged). Other directives
// (%l, %A, %p, %{NAME}o, %{NAME}e, %{NAME}n, %P, %k, %X, ...) are split off
// and ignored, and so are status conditions ("%400,501{Referer}i" logs
// "-" for other statuses). A value of "-" is absent.
//
// Unlike nginx's, Apache's times are taken when the request was received:
// %t and %{format}t (and its default begin: form) are the request start,
// Exchange.Time, and LogTime is that plus the latency; an %{end:format}t
// time is the log time, and the start is that minus the latency.
// %{format}t takes strftime conversions (%d %b %Y %H %M %S %z ... as
// listed in the FormatError for an unknown one), or one of sec, msec,
// usec (since the epoch), msec_frac and usec_frac (the fraction to add to
// a time in whole seconds); several %{format}t directives make up one
// time, as in "%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t". A strftime time
// without %z is UTC.
//
// Everything else is as NewNginxDecoder says: request line forms, escapes,
// defaults, Device, WebSocket, errors; Source is "apache".
func NewApacheDecoder(r io.Reader, name, format string) (Decoder, error) {
	f, err := compileApacheFormat(format)
	if err != nil {
		return nil, err
	}
	return newAccessDecoder(r, name, f, SourceApache).decode, nil
}

// apacheDirective is one %-directive of a LogFormat.
type apacheDirective struct {
	name string // as written, for errors: "%>s", "%{User-Agent}i"
	arg  string // the {argument}
	verb byte   // the directive letter
	at   int    // offset in the format
}

// compileApacheFormat compiles an Apache LogFormat string.
func compileApacheFormat(format string) (*logFormat, error) {
	text := apacheFormatText(format)
	if strings.TrimSpace(text) == "" {
		return nil, &FormatError{Format: format, Offset: 0, Reason: "empty format"}
	}
	lits, dirs, ferr := scanApacheFormat(text)
	if ferr != nil {
		ferr.Format = format
		return nil, ferr
	}
	lits, dirs = mergePathQuery(lits, dirs)
	present := map[string]bool{}
	for _, d := range dirs {
		present[d.key()] = true
	}
	f := &logFormat{prefix: lits[0], clock: &apacheClock{}}
	for i, d := range dirs {
		fd, err := apacheField(d, present, f.clock)
		if err != "" {
			return nil, &FormatError{Format: format, Offset: d.at, Reason: err}
		}
		fd.lit = lits[i+1]
		if i+1 < len(dirs) && fd.lit == "" {
			return nil, &FormatError{Format: format, Offset: dirs[i+1].at, Reason: fmt.Sprintf("%s follows %s with no text between them: the value boundary is unknown", dirs[i+1].name, d.name)}
		}
		f.fields = append(f.fields, fd)
	}
	f.index()
	n := 0 // time parts are in field order
	for i := range f.fields {
		if fd := &f.fields[i]; fd.kind == kTimeParts {
			if strings.HasPrefix(fd.lit, " ") {
				fd.spaces = f.clock.parts[n].spaces
			}
			switch p := f.clock.parts[n]; p.kind {
			case partCLF:
				fd.maxSpaces = p.spaces
			case partStrftime: // %e pads with a space: any number
			default:
				fd.maxSpaces, fd.shape = 0, shapeDecimal // sec, msec, usec, and their fractions
			}
			fd.setFree()
			f.clock.parts[n].name = fd.name
			n++
		}
	}
	switch {
	case len(f.clock.parts) == 0:
		return nil, &FormatError{Format: format, Offset: -1, Reason: "no time directive (%t or %{format}t)"}
	case !f.has(kRequest) && !f.has(kURI) && !f.has(kRequestURI):
		return nil, &FormatError{Format: format, Offset: -1, Reason: "no request directive (%r or %U)"}
	}
	if reason := f.clock.check(); reason != "" {
		return nil, &FormatError{Format: format, Offset: -1, Reason: reason}
	}
	return f, nil
}

// verbPathQuery is the verb of a merged "%U%q".
const verbPathQuery byte = 1

// mergePathQuery makes "%U%q", the usual way to log the request target,
// one directive: %q is "?query" or nothing, so the two values have no
// boundary but together are the target.
func mergePathQuery(lits []string, dirs []apacheDirective) ([]string, []apacheDirective) {
	for i := 0; i+1 < len(dirs); i++ {
		if dirs[i].verb == 'U' && dirs[i+1].verb == 'q' && lits[i+1] == "" {
			dirs[i].name, dirs[i].verb = dirs[i].name+dirs[i+1].name, verbPathQuery
			dirs = append(dirs[:i+1], dirs[i+2:]...)
			lits = append(lits[:i+1], lits[i+2:]...)
		}
	}
	return lits, dirs
}

// apacheFormatText returns the format of a nickname, or the format string
// with a LogFormat directive's keyword, quotes and nickname removed and its
// backslash escapes undone (\" \\ \t \n; a trailing \n is dropped).
func apacheFormatText(format string) string {
	s := strings.TrimSpace(format)
	if f, ok := ApacheFormats[s]; ok {
		return f
	}
	if rest, ok := strings.CutPrefix(s, "LogFormat "); ok {
		s = strings.TrimSpace(rest)
	}
	if len(s) >= 2 && s[0] == '"' {
		if end := quotedEnd(s, 1); end > 0 && (end == len(s)-1 || s[end+1] == ' ') {
			s = s[1:end] // "..." nickname
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		default: // \" and \\, and any other escaped byte as itself
			b.WriteByte(s[i])
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// scanApacheFormat splits a format into the literals around its
// directives: lits has one more element than dirs. %% is a literal %.
func scanApacheFormat(s string) (lits []string, dirs []apacheDirective, ferr *FormatError) {
	var lit strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i += 2
			continue
		}
		d, next, reason := scanApacheDirective(s, i)
		if reason != "" {
			return nil, nil, &FormatError{Offset: i, Reason: reason}
		}
		lits = append(lits, lit.String())
		lit.Reset()
		dirs = append(dirs, d)
		i = next
	}
	if len(dirs) == 0 {
		return nil, nil, &FormatError{Offset: -1, Reason: "no directives"}
	}
	return append(lits, lit.String()), dirs, nil
}

// scanApacheDirective reads the directive at s[i] (a '%'):
// %[<>][!][status,...][{arg}]letter.
func scanApacheDirective(s string, i int) (d apacheDirective, next int, reason string) {
	j := i + 1
	for j < len(s) && strings.IndexByte("<>!,0123456789", s[j]) >= 0 {
		j++ // original/final and status conditions: the value is "-" when unmet
	}
	if j < len(s) && s[j] == '{' {
		end := strings.IndexByte(s[j:], '}')
		if end < 0 {
			return d, 0, "%{ without a closing }"
		}
		d.arg = s[j+1 : j+end]
		j += end + 1
	}
	if j == len(s) {
		return d, 0, "% at the end of the format"
	}
	c := s[j]
	if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '^') {
		return d, 0, fmt.Sprintf("%q is not a directive letter", c)
	}
	if c == '^' { // %{NAME}^ti, %{NAME}^to: trailers
		if j+2 >= len(s) {
			return d, 0, "%^ without ti or to"
		}
		j += 2
	}
	d.verb, d.at, d.name = s[j], i, s[i:j+1]
	return d, j + 1, ""
}

// key names what a directive logs, for choosing between alternatives:
// "s>" for %>s, "s" for %s and %<s, "a", "h", "Tms", ...
func (d apacheDirective) key() string {
	k := string(d.verb) + d.arg
	if d.verb == 's' && strings.Contains(d.name, ">") {
		k += ">"
	}
	return k
}

// apacheField returns the field for one directive, or a reason it cannot
// be compiled. present holds the keys of every directive of the format.
func apacheField(d apacheDirective, present map[string]bool, clock *apacheClock) (field, string) {
	fd := field{name: d.name}
	switch d.verb {
	case 'a':
		if d.arg == "" {
			fd.kind = kRemoteAddr
		}
	case 'h':
		if !present["a"] {
			fd.kind = kRemoteAddr
		}
	case 'u':
		fd.kind = kRemoteUser
	case 't':
		reason := clock.add(d.arg)
		fd.kind = kTimeParts
		return fd, reason
	case 'r':
		fd.kind = kRequest
	case 'm':
		fd.kind = kMethod
	case 'U':
		fd.kind = kURI
	case verbPathQuery:
		fd.kind = kRequestURI
	case 'q':
		fd.kind = kQueryMark
	case 'H':
		fd.kind = kServerProtocol
	case 'V':
		fd.kind = kHost
	case 'v':
		fd.kind = kServerName
	case 's':
		if strings.Contains(d.name, ">") || !present["s>"] {
			fd.kind = kStatus
		}
	case 'b', 'B':
		fd.kind = kBodyBytesSent
	case 'O':
		fd.kind = kBytesSent
	case 'I':
		fd.kind = kRequestLength
	case 'D':
		fd.kind = kMicros
	case 'T':
		fd.kind = apacheDuration(d.arg, present)
	case 'i':
		if d.arg == "" {
			return fd, "%i needs a header name: %{NAME}i"
		}
		fd = newField("http_" + strings.ToLower(strings.ReplaceAll(d.arg, "-", "_")))
		fd.name = d.name
	case 'C':
		if d.arg == "" {
			return fd, "%C needs a cookie name: %{NAME}C"
		}
		fd.kind, fd.cookie = kCookie, d.arg
	}
	return fd, ""
}

// apacheDuration is the kind of a %T directive: microseconds and
// milliseconds win over whole seconds.
func apacheDuration(unit string, present map[string]bool) varKind {
	switch unit {
	case "us":
		return kMicros
	case "ms":
		if present["D"] || present["Tus"] {
			return kIgnore
		}
		return kMillis
	case "", "s":
		if present["D"] || present["Tus"] || present["Tms"] {
			return kIgnore
		}
		return kRequestTime
	}
	return kIgnore
}
