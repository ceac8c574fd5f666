package capture

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// anchorTests are the rows of TestSplitAnchorsBothSides: values that may
// hold the literal after them, in nginx (apache false) and Apache formats.
var anchorTests = []struct {
	apache       bool
	format, line string
	want         string // describeHit, or "error: " and the error
}{
	// An unquoted $request_body with spaces ends where the values after it fit.
	{false, baseFormat + `$status $request_body $request_time`, baseLine + `200 a=1 b=2 c 0.005`,
		`GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.995Z logged=2026-11-21T20:00:01Z status=200 latency=5ms body="a=1 b=2 c" size=9 truncated=false`},
	// A body holding what looks like the next values: anchored on the right.
	{false, baseFormat + `$request_body $status $request_time`, baseLine + `x 404 0.9 y 200 0.005`,
		`GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.995Z logged=2026-11-21T20:00:01Z status=200 latency=5ms body="x 404 0.9 y" size=11 truncated=false`},
	// A body holding the whole literal after it (" rt=").
	{false, baseFormat + `rb=$request_body rt=$request_time`, baseLine + `rb=x rt=1 y rt=0.005`,
		`GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.995Z logged=2026-11-21T20:00:01Z latency=5ms body="x rt=1 y" size=8 truncated=false`},
	// A body of "-" is absent.
	{false, baseFormat + `$status $request_body $request_time`, baseLine + `200 - 0.005`,
		`GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.995Z logged=2026-11-21T20:00:01Z status=200 latency=5ms`},
	// Upstream address and time lists with ", " (nginx tried two upstreams).
	{false, baseFormat + `$status $upstream_addr $upstream_response_time $upstream_status $body_bytes_sent`, baseLine + `200 192.0.2.1:80, 192.0.2.2:80 0.010, 0.020 502, 200 512`,
		`GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.97Z logged=2026-11-21T20:00:01Z status=200 bytes=512 latency=30ms`},
	// " : " separates the lists of two upstream groups (an internal redirect).
	{false, baseFormat + `$upstream_addr $upstream_response_time $status`, baseLine + `192.0.2.1:80 : unix:/run/app.sock 0.010 : 0.020 200`,
		`GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.97Z logged=2026-11-21T20:00:01Z status=200 latency=30ms`},
	// An upstream list before an unquoted body before a status.
	{false, baseFormat + `$upstream_response_time $request_body $status`, baseLine + `0.010, 0.020 k=v w 200`,
		`GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.97Z logged=2026-11-21T20:00:01Z status=200 latency=30ms body="k=v w" size=5 truncated=false`},
	// An unquoted request line without a protocol (health checkers) is HTTP/1.0.
	{false, `$msec $request $status $body_bytes_sent`, `1795291201 GET /health 200 5`,
		`GET http:///health HTTP/1.0 2026-11-21T20:00:01Z status=200 bytes=5`},
	// An unquoted request line with a protocol.
	{false, `$msec $request $status $body_bytes_sent`, `1795291201 GET /x HTTP/1.1 200 5`,
		`GET http:///x HTTP/1.1 2026-11-21T20:00:01Z status=200 bytes=5`},
	// An unquoted user agent with spaces, then a request time.
	{false, baseFormat + `$status $http_user_agent $request_time`, baseLine + `200 Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0 0.002`,
		`GET http:///p?q=1 HTTP/1.1 2026-11-21T20:00:00.998Z logged=2026-11-21T20:00:01Z status=200 latency=2ms device=desktop [User-Agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"]`},
	// An unquoted $time_local keeps its one space.
	{false, `$time_local $request_body $status $request_uri`, `21/Nov/2026:20:00:01 +0000 a b 200 /`,
		`GET http:/// HTTP/1.1 2026-11-21T20:00:01Z status=200 body="a b" size=3 truncated=false`},
	// A status that fits nowhere: the first-occurrence cut names it.
	{false, baseFormat + `$request_body $status`, baseLine + `a b x`, `error: t.log:1 (offset 0): $status: not an HTTP status: "b x"`},
	// Apache: an unquoted %r and an unquoted User-Agent with spaces before %D.
	{true, `%h %t %r %>s %b %{User-Agent}i %D`, `192.0.2.1 [21/Nov/2026:20:00:01 +0000] GET /x HTTP/1.1 200 512 Mozilla/5.0 (X11; Linux) 1843`,
		`GET http:///x HTTP/1.1 2026-11-21T20:00:01Z logged=2026-11-21T20:00:01.001843Z status=200 bytes=512 latency=1.843ms client=192.0.2.1 device=desktop [User-Agent: "Mozilla/5.0 (X11; Linux)"]`},
	// Apache: an unquoted %r without a protocol.
	{true, `%h %t %r %>s %b`, `192.0.2.1 [21/Nov/2026:20:00:01 +0000] GET /health 200 -`,
		`GET http:///health HTTP/1.0 2026-11-21T20:00:01Z status=200 client=192.0.2.1`},
	// Apache: an unquoted Referer with spaces before a quoted user agent.
	{true, `%t "%r" %>s %{Referer}i "%{User-Agent}i"`, `[21/Nov/2026:20:00:01 +0000] "GET / HTTP/1.1" 200 https://example.com/a b "curl/8"`,
		`GET http:/// HTTP/1.1 2026-11-21T20:00:01Z status=200 device=bot [Referer: "https://example.com/a b"] [User-Agent: "curl/8"]`},
}

func TestSplitAnchorsBothSides(t *testing.T) {
	for _, tt := range anchorTests {
		var dec Decoder
		var err error
		if tt.apache {
			dec, err = NewApacheDecoder(strings.NewReader(tt.line), "t.log", tt.format)
		} else {
			dec, err = NewNginxDecoder(strings.NewReader(tt.line), "t.log", tt.format)
		}
		if err != nil {
			t.Errorf("format %q: %v", tt.format, err)
			continue
		}
		var h Hit
		got := ""
		if err := dec(&h); err != nil {
			got = "error: " + err.Error()
		} else {
			got = describeHit(&h)
		}
		if got != tt.want {
			t.Errorf("decode(%q, %q) =\n%s; want\n%s", tt.format, tt.line, got, tt.want)
		}
	}
}

// TestSplitIsBounded: a line that many ambiguous values could cut in many
// ways is given up on after maxSplitSteps tries, not searched for ever.
func TestSplitIsBounded(t *testing.T) {
	format := strings.Repeat("$http_a ", 30) + "$msec $request_uri $status"
	line := strings.Repeat("a ", 2000) + "1795291201 / x"
	dec, err := NewNginxDecoder(strings.NewReader(line), "t.log", format)
	if err != nil {
		t.Fatal(err)
	}
	var h Hit
	if err := dec(&h); err == nil {
		t.Fatalf("decode of an unmatchable line = nil error; want one")
	}
}

// upstreamTimes is an $upstream_response_time list as nginx writes it.
var upstreamTimes = regexp.MustCompile(`^[0-9.-]+((, | : )[0-9.-]+)*$`)

// FuzzSplitAnchored renders a line with an unquoted body and upstream lists
// and checks that split gets the body back, whatever it holds.
func FuzzSplitAnchored(f *testing.F) {
	f.Add("a=1 b=2", "0.010, 0.020", 200)
	f.Add("x 404 0.9 y", "0.010 : 0.020", 404)
	f.Add("rt= 200 ", "-", 101)
	f.Add("  ", "0.001", 500)
	f.Fuzz(func(t *testing.T, body, times string, status int) {
		if body == "" || body == "-" || !utf8.ValidString(body) || strings.ContainsAny(body, "\\\"\n\r") ||
			strings.IndexFunc(body, func(r rune) bool { return r < 0x20 || r >= 0x7f }) >= 0 {
			return // nginx escapes these; a raw one is not what it writes
		}
		if status < 100 || status > 599 || !upstreamTimes.MatchString(times) {
			return // not a list nginx writes
		}
		format := baseFormat + `$upstream_response_time $request_body $status $body_bytes_sent`
		line := baseLine + times + " " + body + " " + strconv.Itoa(status) + " 512"
		dec, err := NewNginxDecoder(strings.NewReader(line), "t.log", format)
		if err != nil {
			t.Fatal(err)
		}
		var h Hit
		if err := dec(&h); err != nil {
			return // a times list nginx would not write, such as "1 2"
		}
		if got := string(h.Exchange.Body); got != body {
			t.Fatalf("line %q: body = %q; want %q", line, got, body)
		}
		if h.Exchange.StatusCode() != status {
			t.Fatalf("line %q: status = %d; want %d", line, h.Exchange.StatusCode(), status)
		}
	})
}
