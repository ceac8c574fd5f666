package capture

import (
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// splitLoggedRequest splits a logged request line, "GET /path?q HTTP/1.1";
// reason is non-empty when it is not a request surge can replay. The forms
// servers accept are kept: no protocol ("GET /path", what HTTP/0.9 clients
// and health checkers send; nginx serves it) is HTTP/1.0, and spaces inside
// the target (a literal space a client did not escape) stay in it, since
// the method ends at the first space and the protocol starts after the
// last. A CONNECT (a proxy tunnel) and bytes that are not HTTP (a TLS
// handshake or an RDP connection on the plain port, scanner probes) are
// refused with a reason saying which.
func splitLoggedRequest(r string) (method, target, proto, reason string) {
	sp1 := strings.IndexByte(r, ' ')
	if sp1 <= 0 || !isMethodToken(r[:sp1]) {
		return "", "", "", notHTTPReason(r)
	}
	method, target, proto = logMethod(r[:sp1]), r[sp1+1:], schema.ProtoHTTP10
	if sp2 := strings.LastIndexByte(target, ' '); sp2 >= 0 {
		p := target[sp2+1:]
		if v, ok := logProto(p); ok {
			target, proto = target[:sp2], v
		} else if strings.HasPrefix(p, "HTTP/") {
			return "", "", "", "not an HTTP version: " + quoteForError(p)
		}
	}
	if method == "CONNECT" {
		return "", "", "", connectReason(target)
	}
	return method, target, proto, ""
}

// connectReason is why every importer skips a CONNECT: it opens a tunnel
// (to target, "host:port"), whose bytes no log holds, so there is no
// request to replay.
func connectReason(target string) string {
	return "CONNECT (a proxy tunnel to " + quoteForError(target) + ") is not a request to replay"
}

// notHTTPReason says why a logged request line is not HTTP. nginx logs the
// bytes a client sent when they do not parse, escaped as \xNN.
func notHTTPReason(r string) string {
	switch {
	case r == "":
		return "empty request line (the client connected and sent nothing, or closed before a request)"
	case strings.HasPrefix(r, `\x16\x03`):
		return "not an HTTP request: TLS handshake bytes (a TLS client on a plain-HTTP port)"
	case strings.HasPrefix(r, `\x03\x00`):
		return "not an HTTP request: RDP (TPKT) bytes, a remote-desktop scan"
	case strings.HasPrefix(r, `\x`):
		return "not an HTTP request: binary bytes " + quoteForError(r)
	}
	return "not an HTTP request line (no method and target): " + quoteForError(r)
}

// splitLoggedTarget sets e.Path and e.Query from a request target in origin form
// ("/p?q", or "*") or absolute form ("https://host/p?q"), whose scheme and
// host it returns.
func splitLoggedTarget(t string, e *schema.Exchange) (scheme, host string, ok bool) {
	for _, s := range [...]string{"http", "https"} {
		if len(t) > len(s)+3 && asciiEqualFold(t[:len(s)], s) && t[len(s):len(s)+3] == "://" {
			scheme, t = s, t[len(s)+3:]
			host, t = t, "/"
			if i := strings.IndexAny(host, "/?"); i >= 0 {
				host, t = host[:i], host[i:]
				if t[0] == '?' {
					t = "/" + t
				}
			}
			break
		}
	}
	if t != "*" && (t == "" || t[0] != '/') {
		return "", "", false
	}
	e.Path, e.Query = t, ""
	if i := strings.IndexByte(t, '?'); i >= 0 {
		e.Path, e.Query = t[:i], t[i+1:]
	}
	return scheme, host, true
}

// logProto maps an HTTP version as logged to a schema protocol.
func logProto(p string) (string, bool) {
	switch p {
	case "HTTP/1.1":
		return schema.ProtoHTTP11, true
	case "HTTP/1.0":
		return schema.ProtoHTTP10, true
	case "HTTP/2.0", "HTTP/2", "HTTP/3.0", "HTTP/3":
		return schema.ProtoHTTP2, true
	}
	return "", false
}

// logMethod returns the constant for a common method, so a Hit does not
// keep its line alive through it.
func logMethod(m string) string {
	for _, c := range [...]string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"} {
		if m == c {
			return c
		}
	}
	return m
}

// logScheme returns http or https for a logged $scheme, or "".
func logScheme(s string) string {
	switch {
	case asciiEqualFold(s, "https"):
		return "https"
	case asciiEqualFold(s, "http"):
		return "http"
	}
	return ""
}

// forwardedClient returns the first address of an X-Forwarded-For list, without
// a port, or "" when there is none.
func forwardedClient(xff string) string {
	if xff == "" {
		return ""
	}
	a := xff
	if i := strings.IndexByte(a, ','); i >= 0 {
		a = a[:i]
	}
	a = strings.TrimSpace(a)
	switch {
	case strings.HasPrefix(a, "["): // [2001:db8::1]:443
		if i := strings.IndexByte(a, ']'); i > 0 {
			a = a[1:i]
		}
	case strings.Count(a, ":") == 1: // 192.0.2.1:5000
		a = a[:strings.IndexByte(a, ':')]
	}
	if a == "unknown" || a == "-" {
		return ""
	}
	return a
}

// cookieHeader writes cookies as a Cookie header value.
func cookieHeader(cs []schema.Header) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Name)
		b.WriteByte('=')
		b.WriteString(c.Value)
	}
	return b.String()
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// blankLine reports whether a line holds only spaces and tabs.
func blankLine(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// isMethodToken reports whether s is a non-empty RFC 9110 token.
func isMethodToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !methodTokenChar[s[i]] {
			return false
		}
	}
	return true
}

var methodTokenChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()

// asciiEqualFold reports whether a and b are equal ignoring ASCII case.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y || (x < 'a' || x > 'z') && a[i] != b[i] {
			return false
		}
	}
	return true
}

// statusValue parses a logged status code: three digits in 100-599.
func statusValue(s string) (int32, bool) {
	n, ok := digits(s)
	if !ok || len(s) != 3 || n < 100 || n > 599 {
		return 0, false
	}
	return int32(n), true
}

// countValue parses a logged byte count.
func countValue(s string) (int64, bool) {
	n, ok := digits(s)
	return int64(n), ok && len(s) <= 18
}

// secondsValue parses logged seconds with a fraction, "0.123", into
// nanoseconds.
func secondsValue(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	sec, ok := digits(whole)
	if !ok || len(whole) > 9 {
		return 0, false
	}
	ns, ok := fraction(frac)
	return int64(sec)*1e9 + ns, ok
}

// secondsSum adds the seconds of an upstream list, "0.010, 0.020 : -",
// and says how many values it held ("-" is not a value).
func secondsSum(s string) (ns int64, n int, ok bool) {
	for s != "" {
		part := s
		if i := strings.IndexAny(s, ",:"); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		part = strings.TrimSpace(part)
		if part == "-" {
			continue
		}
		v, ok := secondsValue(part)
		if !ok {
			return 0, 0, false
		}
		ns += v
		n++
	}
	return ns, n, true
}

// msecTime parses $msec, seconds since the Unix epoch with a fraction:
// "1763755201.123".
func msecTime(s string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	sec, ok := digits(whole)
	if !ok || len(whole) > 12 {
		return time.Time{}, false
	}
	ns, ok := fraction(frac)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(sec), ns).UTC(), true
}

// timeLocal parses $time_local, "21/Nov/2026:20:00:01 +0000", without
// time.Parse.
func timeLocal(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := digits(s[0:2])
	year, ok2 := digits(s[7:11])
	hh, ok3 := digits(s[12:14])
	mm, ok4 := digits(s[15:17])
	ss, ok5 := digits(s[18:20])
	zone, ok6 := zoneOffset(s[21:])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	return civilTime(year, monthOf(s[3:6]), day, hh, mm, ss, 0, zone)
}

// iso8601Time parses $time_iso8601, "2026-11-21T20:00:01+00:00", also
// with a fraction of a second and Z.
func iso8601Time(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' && s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	mon, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hh, ok4 := digits(s[11:13])
	mm, ok5 := digits(s[14:16])
	ss, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	rest := s[19:]
	var ns int64
	if rest[0] == '.' {
		end := 1
		for end < len(rest) && '0' <= rest[end] && rest[end] <= '9' {
			end++
		}
		var ok bool
		if ns, ok = fraction(rest[1:end]); !ok || end == 1 {
			return time.Time{}, false
		}
		rest = rest[end:]
	}
	zone, ok := zoneOffset(rest)
	if !ok {
		return time.Time{}, false
	}
	return civilTime(year, mon, day, hh, mm, ss, ns, zone)
}

// zoneOffset parses a zone offset, "+0100", "-05:30" or "Z", into seconds
// east of UTC.
func zoneOffset(s string) (int, bool) {
	if s == "Z" {
		return 0, true
	}
	if len(s) == 6 && s[3] == ':' {
		s = s[:3] + s[4:] // not on the $time_local path
	}
	if len(s) != 5 || s[0] != '+' && s[0] != '-' {
		return 0, false
	}
	hh, ok1 := digits(s[1:3])
	mm, ok2 := digits(s[3:5])
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return 0, false
	}
	off := hh*3600 + mm*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// civilTime returns the UTC time of a date and time of day at zone seconds
// east of UTC, or false when a part is out of range.
func civilTime(year, mon, day, hh, mm, ss int, ns int64, zone int) (time.Time, bool) {
	if mon < 1 || mon > 12 || day < 1 || day > daysIn(mon, year) || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, false
	}
	// Days from 1970-01-01 (Howard Hinnant's days_from_civil).
	y := year
	if mon <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400 // floor division
	}
	yoe := y - era*400
	mp := (mon + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era)*146097 + int64(doe) - 719468
	sec := days*86400 + int64(hh*3600+mm*60+ss-zone)
	return time.Unix(sec, ns).UTC(), true
}

// daysIn returns the number of days in month mon of year.
func daysIn(mon, year int) int {
	switch mon {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// monthOf returns the number of an English month abbreviation, or 0.
func monthOf(s string) int {
	switch s {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

// digits parses a non-empty string of at most 18 decimal digits.
func digits(s string) (int, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int(c)
	}
	return n, true
}

// fraction parses the digits after a decimal point into nanoseconds; digits
// past the ninth are dropped. An empty fraction is zero.
func fraction(s string) (int64, bool) {
	var ns int64
	scale := int64(1e8)
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		ns += int64(c) * scale
		scale /= 10
	}
	return ns, true
}
