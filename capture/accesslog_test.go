package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// describeHit renders the parts of a Hit a test row checks, leaving out what
// is empty.
func describeHit(h *Hit) string {
	e := &h.Exchange
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s://%s%s", e.Method, e.Scheme, e.Host, e.Path)
	if e.Query != "" {
		b.WriteString("?" + e.Query)
	}
	fmt.Fprintf(&b, " %s %s", e.Protocol, e.Time.Format(time.RFC3339Nano))
	if !h.LogTime.Equal(e.Time) {
		fmt.Fprintf(&b, " logged=%s", h.LogTime.Format(time.RFC3339Nano))
	}
	if e.Status != nil {
		fmt.Fprintf(&b, " status=%d", *e.Status)
	}
	if e.ResponseBytes != nil {
		fmt.Fprintf(&b, " bytes=%d", *e.ResponseBytes)
	}
	if l, ok := e.Latency(); ok {
		fmt.Fprintf(&b, " latency=%s", l)
	}
	for _, kv := range [][2]string{{"client", h.Client}, {"user", h.UserID}, {"region", e.Region}, {"device", e.Device}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, " %s=%s", kv[0], kv[1])
		}
	}
	for _, hd := range e.Headers {
		fmt.Fprintf(&b, " [%s: %q]", hd.Name, hd.Value)
	}
	if e.BodySize > 0 {
		fmt.Fprintf(&b, " body=%q size=%d truncated=%v", cutForTest(string(e.Body), 40), e.BodySize, e.BodyTruncated)
	}
	return b.String()
}

func cutForTest(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// decodeNginxLine decodes the first record of line under format.
func decodeNginxLine(format, line string) (*Hit, error) {
	dec, err := NewNginxDecoder(strings.NewReader(line), "t.log", format)
	if err != nil {
		return nil, err
	}
	var h Hit
	return &h, dec(&h)
}

func TestCompileFormat(t *testing.T) {
	tests := []struct {
		format string
		want   string // the compiled segments, or the error
	}{
		// The combined format: a literal after every variable.
		{CombinedFormat, `"" $remote_addr " - " $remote_user " [" $time_local "] \"" $request "\" " $status " " $body_bytes_sent " \"" $http_referer "\" \"" $http_user_agent "\""`},
		// ${var} ends a name where a name character follows.
		{`${time_iso8601}Z${request}`, `"" $time_iso8601 "Z" $request ""`},
		// A name ends at the first character not in [a-zA-Z0-9_].
		{`$msec|$request_uri.$status-x`, `"" $msec "|" $request_uri "." $status "-x"`},
		// Names are case-insensitive, as in nginx.
		{`$MSEC $Request`, `"" $msec " " $request ""`},
		// A leading literal is kept.
		{`>> $msec $request`, `">> " $msec " " $request ""`},
		// Empty.
		{``, `log format: at offset 0: empty format`},
		// Blank.
		{"  \t", `log format: at offset 0: empty format`},
		// Two variables with nothing between them.
		{`$msec $request$status`, `log format: at offset 14: $status follows $request with no text between them: the value boundary is unknown`},
		// Adjacent through ${}.
		{`$msec ${request}${status}`, `log format: at offset 16: $status follows $request with no text between them: the value boundary is unknown`},
		// $ without a name.
		{`$msec $ $request`, `log format: at offset 6: $ not followed by a variable name`},
		// Unclosed ${.
		{`$msec ${request`, `log format: at offset 6: ${ without a closing }`},
		// Empty ${}.
		{`$msec ${} $request`, `log format: at offset 6: "" is not a variable name`},
		// Bad character in ${}.
		{`$msec ${re-quest}`, `log format: at offset 6: "re-quest" is not a variable name`},
		// Only literals.
		{`just text`, `log format: no variables`},
		// No time.
		{`$remote_addr "$request"`, `log format: no time variable ($time_local, $time_iso8601 or $msec)`},
		// No request.
		{`$remote_addr [$time_local]`, `log format: no request variable ($request, $request_uri or $uri)`},
	}
	for _, tt := range tests {
		f, err := compileFormat(tt.format)
		var got string
		if err != nil {
			got = err.Error()
			if fe := (*FormatError)(nil); !errors.As(err, &fe) || fe.Format != tt.format {
				t.Errorf("compileFormat(%q) error %T %v; want a *FormatError with the format", tt.format, err, err)
			}
		} else {
			got = compiledFormatString(f)
		}
		if got != tt.want {
			t.Errorf("compileFormat(%q) = %s; want %s", tt.format, got, tt.want)
		}
	}
}

// compiledFormatString renders a compiled format as its literals and variables.
func compiledFormatString(f *logFormat) string {
	s := fmt.Sprintf("%q", f.prefix)
	for _, fd := range f.fields {
		s += fmt.Sprintf(" %s %q", fd.name, fd.lit)
	}
	return s
}

// Every row's format starts with a time and a request, and its line with
// these values.
const (
	baseFormat = `[$time_iso8601] "$request" `
	baseLine   = `[2026-11-21T20:00:01+00:00] "GET /p?q=1 HTTP/1.1" `
	baseWant   = `GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:01Z`
)

// nginxVariableTests are the rows of TestNginxVariables: one format and line each.
var nginxVariableTests = []struct {
	format, line string
	want         string
}{
	// $remote_addr is the client.
	{baseFormat + `$remote_addr`, baseLine + `192.0.2.1`, baseWant + ` client=192.0.2.1`},
	// The first X-Forwarded-For address is the client; the header stays.
	{baseFormat + `$remote_addr "$http_x_forwarded_for"`, baseLine + `10.0.0.1 "198.51.100.9, 10.0.0.1"`, baseWant + ` client=198.51.100.9 [X-Forwarded-For: "198.51.100.9, 10.0.0.1"]`},
	// A forwarded address loses its port.
	{baseFormat + `"$http_x_forwarded_for"`, baseLine + `"[2001:db8::1]:443"`, baseWant + ` client=2001:db8::1 [X-Forwarded-For: "[2001:db8::1]:443"]`},
	// "unknown" is no address.
	{baseFormat + `$remote_addr "$http_x_forwarded_for"`, baseLine + `10.0.0.1 "unknown"`, baseWant + ` client=10.0.0.1 [X-Forwarded-For: "unknown"]`},
	// $remote_user is the raw user id; "-" is absent.
	{baseFormat + `$remote_user $status`, baseLine + `alice 200`, baseWant + ` status=200 user=alice`},
	// "-" is absent.
	{baseFormat + `$remote_user $status`, baseLine + `- 200`, baseWant + ` status=200`},
	// $time_local with its zone; the result is UTC.
	{`[$time_local] "$request"`, `[21/Nov/2026:20:00:01 +0130] "GET / HTTP/1.1"`, `GET http:/// HTTP/1.1 2026-11-21T18:30:01Z`},
	// $time_local unbracketed: its space is not the literal.
	{`$time_local $request_uri`, `21/Nov/2026:20:00:01 -0100 /x`, `GET http:///x HTTP/1.1 2026-11-21T21:00:01Z`},
	// $time_iso8601 with a fraction and Z.
	{`$time_iso8601 $request_uri`, `2026-11-21T20:00:01.5Z /x`, `GET http:///x HTTP/1.1 2026-11-21T20:00:01.5Z`},
	// $msec.
	{`$msec $request_uri`, `1795291201.123 /x`, `GET http:///x HTTP/1.1 2026-11-21T20:00:01.123Z`},
	// $msec wins over $time_local: it is more precise.
	{`$msec [$time_local] $request_uri`, `1795291201.123 [21/Nov/2026:20:00:01 +0000] /x`, `GET http:///x HTTP/1.1 2026-11-21T20:00:01.123Z`},
	// $request with an HTTP/1.0 version.
	{`$msec "$request"`, `1795291201 "POST /a/b?x=1&y=2 HTTP/1.0"`, `POST http:///a/b?x=1&y=2 HTTP/1.0 2026-11-21T20:00:01Z`},
	// HTTP/2.0.
	{`$msec "$request"`, `1795291201 "GET / HTTP/2.0"`, `GET http:/// HTTP/2 2026-11-21T20:00:01Z`},
	// HTTP/3 is recorded as HTTP/2.
	{`$msec "$request"`, `1795291201 "GET / HTTP/3.0"`, `GET http:/// HTTP/2 2026-11-21T20:00:01Z`},
	// An unusual method token is kept.
	{`$msec "$request"`, `1795291201 "PROPFIND /dav HTTP/1.1"`, `PROPFIND http:///dav HTTP/1.1 2026-11-21T20:00:01Z`},
	// OPTIONS *.
	{`$msec "$request"`, `1795291201 "OPTIONS * HTTP/1.1"`, `OPTIONS http://* HTTP/1.1 2026-11-21T20:00:01Z`},
	// An absolute-form target gives scheme and host.
	{`$msec "$request"`, `1795291201 "GET https://example.tv?a=1 HTTP/1.1"`, `GET https://example.tv/?a=1 HTTP/1.1 2026-11-21T20:00:01Z`},
	// $request unquoted: its two spaces are not the literal.
	{`$msec $request $status`, `1795291201 GET /x HTTP/1.1 200`, `GET http:///x HTTP/1.1 2026-11-21T20:00:01Z status=200`},
	// $request_method, $request_uri and $server_protocol without $request.
	{`$msec $request_method $request_uri $server_protocol`, `1795291201 PUT /r?k=v HTTP/1.0`, `PUT http:///r?k=v HTTP/1.0 2026-11-21T20:00:01Z`},
	// $uri and $args.
	{`$msec $uri $args`, `1795291201 /u a=1`, `GET http:///u?a=1 HTTP/1.1 2026-11-21T20:00:01Z`},
	// $query_string is $args.
	{`$msec $uri ?$query_string`, `1795291201 /u ?b=2`, `GET http:///u?b=2 HTTP/1.1 2026-11-21T20:00:01Z`},
	// $request_uri wins over $uri.
	{`$msec $uri $request_uri`, `1795291201 /decoded /raw%20x?z`, `GET http:///raw%20x?z HTTP/1.1 2026-11-21T20:00:01Z`},
	// $scheme and $host.
	{baseFormat + `$scheme $host`, baseLine + `https example.tv`, `GET https://example.tv/p?q=1 HTTP/1.1 2026-11-21T20:00:01Z`},
	// $http_host wins over $host and $server_name, and is not a header.
	{baseFormat + `$server_name $host $http_host`, baseLine + `_ example.tv example.tv:8443`, `GET http://example.tv:8443/p?q=1 HTTP/1.1 2026-11-21T20:00:01Z`},
	// $server_name when nothing else.
	{baseFormat + `$server_name $http_host`, baseLine + `www.example.tv -`, `GET http://www.example.tv/p?q=1 HTTP/1.1 2026-11-21T20:00:01Z`},
	// $status and $body_bytes_sent.
	{baseFormat + `$status $body_bytes_sent`, baseLine + `404 153`, baseWant + ` status=404 bytes=153`},
	// Apache's "-" for no body is absent.
	{baseFormat + `$status $body_bytes_sent`, baseLine + `304 -`, baseWant + ` status=304`},
	// $bytes_sent when there is no $body_bytes_sent.
	{baseFormat + `$bytes_sent $request_length`, baseLine + `1200 512`, baseWant + ` bytes=1200`},
	// $body_bytes_sent wins over $bytes_sent.
	{baseFormat + `$bytes_sent $body_bytes_sent`, baseLine + `1200 1000`, baseWant + ` bytes=1000`},
	// $request_time moves the request start back from the log time.
	{baseFormat + `$request_time`, baseLine + `0.250`, `GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.75Z logged=2026-11-21T20:00:01Z latency=250ms`},
	// $upstream_response_time lists are summed when there is no $request_time.
	{baseFormat + `$upstream_response_time`, baseLine + `0.100, 0.200 : 0.050`, `GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.65Z logged=2026-11-21T20:00:01Z latency=350ms`},
	// $upstream_response_time of "-" entries only is no latency.
	{baseFormat + `"$upstream_response_time"`, baseLine + `"-, -"`, baseWant},
	// $request_time wins over $upstream_response_time.
	{baseFormat + `$upstream_response_time $request_time`, baseLine + `0.100 0.120`, `GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.88Z logged=2026-11-21T20:00:01Z latency=120ms`},
	// $http_NAME is a header with its canonical name.
	{baseFormat + `"$http_referer" "$http_x_request_id"`, baseLine + `"https://example.tv/" "abc-1"`, baseWant + ` [Referer: "https://example.tv/"] [X-Request-Id: "abc-1"]`},
	// $http_user_agent gives the header and the device.
	{baseFormat + `"$http_user_agent"`, baseLine + `"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X)"`, baseWant + ` device=tablet [User-Agent: "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X)"]`},
	// No user agent, no device.
	{baseFormat + `"$http_user_agent"`, baseLine + `"-"`, baseWant},
	// nginx's \x22 and Apache's \" are quotes; a control byte stays escaped.
	{baseFormat + `"$http_user_agent" "$http_x_a"`, baseLine + `"a \x22b\x22 \"c\" \\ d" "e\x0Af\x5C"`, baseWant + ` device=other [User-Agent: "a \"b\" \"c\" \\ d"] [X-A: "e\\x0Af\\"]`},
	// Escapes that would not give UTF-8 are kept.
	{baseFormat + `"$http_user_agent"`, baseLine + `"caf\xC3\xA9 \xFF"`, baseWant + ` device=other [User-Agent: "caf\\xC3\\xA9 \\xFF"]`},
	// $cookie_NAME values make one Cookie header.
	{baseFormat + `$cookie_sid $cookie_lang $cookie_none`, baseLine + `abc en -`, baseWant + ` [Cookie: "sid=abc; lang=en"]`},
	// $http_cookie, when logged, is the Cookie header.
	{baseFormat + `"$http_cookie" $cookie_sid`, baseLine + `"sid=abc; x=y" abc`, baseWant + ` [Cookie: "sid=abc; x=y"]`},
	// GeoIP country codes are the region.
	{baseFormat + `$geoip_country_code`, baseLine + `DE`, baseWant + ` region=DE`},
	// GeoIP2.
	{baseFormat + `$geoip2_data_country_code`, baseLine + `FR`, baseWant + ` region=FR`},
	// Cloudflare's country header is the region and a header.
	{baseFormat + `$http_cf_ipcountry`, baseLine + `JP`, baseWant + ` region=JP [Cf-Ipcountry: "JP"]`},
	// $request_body is unescaped, control bytes included.
	{baseFormat + `"$request_body"`, baseLine + `"{\x22a\x22:1}\x0A"`, baseWant + ` body="{\"a\":1}\n" size=8 truncated=false`},
	// A body longer than schema.MaxBody is cutForTest.
	{baseFormat + `"$request_body"`, baseLine + `"` + strings.Repeat("x", schema.MaxBody+10) + `"`, baseWant + ` body="xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." size=65546 truncated=true`},
	// Upgrade: websocket makes a WebSocket exchange.
	{baseFormat + `"$http_upgrade"`, baseLine + `"WebSocket"`, `GET http:///p?q=1 WebSocket 2026-11-21T20:00:01Z [Upgrade: "WebSocket"]`},
	// So does a 101 response.
	{baseFormat + `$status`, baseLine + `101`, `GET http:///p?q=1 WebSocket 2026-11-21T20:00:01Z status=101`},
	// Unknown variables are split off and ignored.
	{baseFormat + `$connection $pipe $ssl_protocol/$ssl_cipher`, baseLine + `17 p TLSv1.3/TLS_AES_128_GCM_SHA256`, baseWant},
	// $upstream_addr lists are one value.
	{baseFormat + `$upstream_addr $status`, baseLine + `10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80 200`, baseWant + ` status=200`},
	// A value may contain the literal's first byte.
	{baseFormat + `$remote_user|| $status`, baseLine + `a|b|| 200`, baseWant + ` status=200 user=a|b`},
}

func TestNginxVariables(t *testing.T) {
	for _, tt := range nginxVariableTests {
		h, err := decodeNginxLine(tt.format, tt.line)
		if err != nil {
			t.Errorf("decode(%q, %q): %v", tt.format, cutForTest(tt.line, 200), err)
			continue
		}
		if got := describeHit(h); got != tt.want {
			t.Errorf("decode(%q, %q) =\n%s; want\n%s", tt.format, cutForTest(tt.line, 200), got, tt.want)
		}
		if h.Exchange.Source != SourceNginx {
			t.Errorf("decode(%q).Source = %q; want %q", tt.format, h.Exchange.Source, SourceNginx)
		}
	}
}

// nginxRecordErrorTests are the rows of TestNginxRecordErrors.
var nginxRecordErrorTests = []struct {
	format, line string
	field        string // want Field
	reason       string // want Reason
}{
	// The leading literal is missing.
	{`[$msec] "$request"`, `1795291201] "GET / HTTP/1.1"`, "$msec", `line does not start with "["`},
	// A literal is missing.
	{`[$msec] "$request" $status`, `[1795291201] "GET / HTTP/1.1"`, "$request", `no "\" " after the value starting at column 15`},
	// Text after the last literal.
	{`[$msec] "$request"`, `[1795291201] "GET / HTTP/1.1" 0.1`, "$request", `unexpected text after the last field at column 30: " 0.1"`},
	// TLS bytes where the request line should be.
	{`[$msec] "$request"`, `[1795291201] "\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03"`, "$request", `not an HTTP request: TLS handshake bytes (a TLS client on a plain-HTTP port)`},
	// No request at all.
	{`[$msec] "$request"`, `[1795291201] "-"`, "$request", `empty request line (the client connected and sent nothing, or closed before a request)`},
	// Not an HTTP version.
	{`[$msec] "$request"`, `[1795291201] "GET / HTTP/1.2"`, "$request", `not an HTTP version: "HTTP/1.2"`},
	// One word.
	{`[$msec] "$request"`, `[1795291201] "MGLNDD_198.51.100.7_443"`, "$request", `not an HTTP request line (no method and target): "MGLNDD_198.51.100.7_443"`},
	// A target that is not a path.
	{`[$msec] "$request"`, `[1795291201] "CONNECT example.tv:443 HTTP/1.1"`, "$request", `CONNECT (a proxy tunnel to "example.tv:443") is not a request to replay`},
	// A method that is not a token.
	{`[$msec] $request_method $request_uri`, `[1795291201] G(T /`, "$request_method", `not a method: "G(T"`},
	// No target.
	{`[$msec] $request_method $uri`, `[1795291201] GET -`, "$uri", `no request target`},
	// A bad $server_protocol.
	{`[$msec] $request_uri $server_protocol`, `[1795291201] / SPDY/3`, "$server_protocol", `not an HTTP version: "SPDY/3"`},
	// A $scheme that is not http or https.
	{`[$msec] $request_uri $scheme`, `[1795291201] / ftp`, "$scheme", `not http or https: "ftp"`},
	// A bad hour.
	{`[$time_local] $request_uri`, `[21/Nov/2026:25:00:01 +0000] /`, "$time_local", `not a time: "21/Nov/2026:25:00:01 +0000"`},
	// A bad month.
	{`[$time_local] $request_uri`, `[21/Noe/2026:20:00:01 +0000] /`, "$time_local", `not a time: "21/Noe/2026:20:00:01 +0000"`},
	// February 30th.
	{`[$time_iso8601] $request_uri`, `[2026-02-30T20:00:01+00:00] /`, "$time_iso8601", `not a time: "2026-02-30T20:00:01+00:00"`},
	// A bad $msec.
	{`[$msec] $request_uri`, `[17952912O1.5] /`, "$msec", `not a time: "17952912O1.5"`},
	// No time.
	{`[$time_local] $request_uri`, `[-] /`, "$time_local", `no time`},
	// A status that is not three digits.
	{`[$msec] $request_uri $status`, `[1795291201] / 2OO`, "$status", `not an HTTP status: "2OO"`},
	// A status out of range.
	{`[$msec] $request_uri $status`, `[1795291201] / 999`, "$status", `not an HTTP status: "999"`},
	// A bad byte count.
	{`[$msec] $request_uri $body_bytes_sent`, `[1795291201] / 12k`, "$body_bytes_sent", `not a byte count: "12k"`},
	// A bad $request_length.
	{`[$msec] $request_uri $request_length`, `[1795291201] / -1`, "$request_length", `not a byte count: "-1"`},
	// A bad $request_time.
	{`[$msec] $request_uri $request_time`, `[1795291201] / 1e3`, "$request_time", `not a duration in seconds: "1e3"`},
	// A bad upstream time.
	{`[$msec] $request_uri "$upstream_response_time"`, `[1795291201] / "0.1, x"`, "$upstream_response_time", `not a list of durations in seconds: "0.1, x"`},
}

func TestNginxRecordErrors(t *testing.T) {
	for _, tt := range nginxRecordErrorTests {
		_, err := decodeNginxLine(tt.format, tt.line)
		var rerr *RecordError
		if !errors.As(err, &rerr) {
			t.Errorf("decode(%q, %q) error = %v; want a *RecordError", tt.format, tt.line, err)
			continue
		}
		if rerr.Field != tt.field || rerr.Reason != tt.reason {
			t.Errorf("decode(%q, %q) error = %s: %s; want %s: %s", tt.format, tt.line, rerr.Field, rerr.Reason, tt.field, tt.reason)
		}
		if want := (Position{File: "t.log", Line: 1}); rerr.Pos != want {
			t.Errorf("decode(%q, %q) error Pos = %v; want %v", tt.format, tt.line, rerr.Pos, want)
		}
	}
}

// TestDecoderContinues checks that bad, empty and over-long lines are
// reported or skipped and decoding goes on, with the right positions.
func TestDecoderContinues(t *testing.T) {
	good := `192.0.2.1 - - [21/Nov/2026:20:00:01 +0000] "GET /a HTTP/1.1" 200 1 "-" "curl/8.5.0"` + "\n"
	huge := `192.0.2.1 - - [21/Nov/2026:20:00:01 +0000] "GET /` + strings.Repeat("x", 1<<20) + ` HTTP/1.1" 200 1 "-" "-"` + "\n"
	input := good + "\n  \r\n" + huge + "garbage\r\n" + good
	dec := NewCombinedDecoder(strings.NewReader(input), "access.log")
	type event struct {
		line  int64
		error string
	}
	var got []event
	for i := 0; i < 10; i++ {
		var h Hit
		err := dec(&h)
		if err == io.EOF {
			break
		}
		var rerr *RecordError
		switch {
		case errors.As(err, &rerr):
			got = append(got, event{rerr.Pos.Line, rerr.Error()})
		case err != nil:
			t.Fatalf("decode: %v", err)
		default:
			got = append(got, event{h.Pos.Line, ""})
		}
	}
	hugeOff, garbageOff := len(good)+5, len(good)+5+len(huge)
	want := []event{
		{1, ""},
		{4, fmt.Sprintf("access.log:4 (offset %d): line too long: 1048650 bytes, over the limit of 256 KiB; skipped", hugeOff)},
		{5, fmt.Sprintf(`access.log:5 (offset %d): $remote_addr: no " - " after the value starting at column 1`, garbageOff)},
		{6, ""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("decoded events = %v; want %v", got, want)
	}
}

func TestCombinedDecoder(t *testing.T) {
	// Fields after the user agent ("combined plus") are ignored.
	line := `192.0.2.1 - bob [21/Nov/2026:20:00:01 +0000] "GET /a HTTP/1.1" 200 1 "-" "curl/8.5.0" 0.004 "x"`
	var h Hit
	if err := NewCombinedDecoder(strings.NewReader(line), "c.log")(&h); err != nil {
		t.Fatalf("decode(%q): %v", line, err)
	}
	want := `GET http:///a HTTP/1.1 2026-11-21T20:00:01Z status=200 bytes=1 client=192.0.2.1 user=bob device=bot [User-Agent: "curl/8.5.0"]`
	if got := describeHit(&h); got != want {
		t.Errorf("decode(%q) = %s; want %s", line, got, want)
	}
	if h.Exchange.Source != SourceCombined {
		t.Errorf("decode(%q).Source = %q; want %q", line, h.Exchange.Source, SourceCombined)
	}
}

// TestHitReuse checks that decoding into a used Hit leaves nothing of the
// previous record.
func TestHitReuse(t *testing.T) {
	format := baseFormat + `$status "$http_user_agent" "$request_body" $request_time`
	input := baseLine + `200 "curl/8" "body" 0.100` + "\n" + baseLine + `- "-" "-" -` + "\n"
	dec, err := NewNginxDecoder(strings.NewReader(input), "t.log", format)
	if err != nil {
		t.Fatal(err)
	}
	var h Hit
	for i := 0; i < 2; i++ {
		if err := dec(&h); err != nil {
			t.Fatalf("decode %d: %v", i, err)
		}
	}
	if got := describeHit(&h); got != baseWant {
		t.Errorf("second decode = %s; want %s", got, baseWant)
	}
}

// accessGoldenRecord is one line of a golden file: a decoded Hit or an error.
type accessGoldenRecord struct {
	Pos      string           `json:"pos"`
	Error    string           `json:"error,omitempty"`
	LogTime  *time.Time       `json:"log_time,omitempty"`
	Client   string           `json:"client,omitempty"`
	UserID   string           `json:"user_id,omitempty"`
	Exchange *schema.Exchange `json:"exchange,omitempty"`
}

func TestAccessLogGolden(t *testing.T) {
	format, err := os.ReadFile("testdata/accesslog/main.format")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		log    string // file under testdata/accesslog
		format string // "" for NewCombinedDecoder
	}{
		// The combined format, with bad lines of the kinds seen in the wild.
		{"combined.log", ""},
		// A custom nginx format with most understood variables.
		{"main.log", string(format)},
	}
	for _, tt := range tests {
		t.Run(tt.log, func(t *testing.T) {
			path := filepath.Join("testdata", "accesslog", tt.log)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			dec := NewCombinedDecoder(f, tt.log)
			if tt.format != "" {
				if dec, err = NewNginxDecoder(f, tt.log, tt.format); err != nil {
					t.Fatal(err)
				}
			}
			got := accessGoldenLines(t, dec, tt.format != "")
			checkGolden(t, strings.TrimSuffix(path, ".log")+".golden.jsonl", got)
		})
	}
}

// accessGoldenLines decodes everything dec yields into JSON lines, checking that
// every Hit is valid but for what the pipeline fills later.
func accessGoldenLines(t *testing.T, dec Decoder, hasHost bool) []byte {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	for {
		var h Hit
		err := dec(&h)
		if err == io.EOF {
			break
		}
		var rec accessGoldenRecord
		var rerr *RecordError
		switch {
		case errors.As(err, &rerr):
			rec = accessGoldenRecord{Pos: rerr.Pos.String(), Error: rerr.Error()}
		case err != nil:
			t.Fatalf("decode: %v", err)
		default:
			rec = accessGoldenRecord{Pos: h.Pos.String(), LogTime: &h.LogTime, Client: h.Client, UserID: h.UserID, Exchange: &h.Exchange}
			for _, p := range h.Exchange.Validate() {
				var fe *schema.FieldError
				if errors.As(p, &fe) && (fe.Field == "session" || fe.Field == "host" && !hasHost) {
					continue
				}
				t.Errorf("%s: invalid exchange: %v", h.Pos, p)
			}
		}
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}
