package replay

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		in        string
		status    int
		keepAlive bool
		bad       bool
		rest      string // what must be left unread (the next response)
	}{
		// Content-Length body, keep-alive; the next response stays unread.
		{"length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1", 200, true, false, "HTTP/1.1"},
		// Chunked body with a trailer.
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT", 200, true, false, "NEXT"},
		// Connection: close ends keep-alive.
		{"close", "GET", "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 503, false, false, ""},
		// No length: the body runs to the end of the connection.
		{"to eof", "GET", "HTTP/1.1 200 OK\r\n\r\nall of it", 200, false, false, ""},
		// HEAD, 204 and 304 have no body whatever the headers say.
		{"head", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nNEXT", 200, true, false, "NEXT"},
		{"304", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\nNEXT", 304, true, false, "NEXT"},
		// A 100 Continue before the final response is skipped.
		{"continue", "POST", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 201, true, false, ""},
		// HTTP/1.0 does not keep the connection.
		{"http10", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, false, false, ""},
		// Garbage is a protocol error.
		{"garbage", "GET", "SSH-2.0-OpenSSH\r\n", 0, false, true, ""},
		{"bad length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", 0, false, true, ""},
		{"bad chunk", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, false, true, ""},
		// A body cut short.
		{"short", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 200, true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.in))
			status, n, keepAlive, err := readResponse(br, tt.method)
			if (err != nil) != tt.bad {
				t.Fatalf("readResponse(%q) error = %v; want error=%v", tt.in, err, tt.bad)
			}
			if tt.bad {
				return
			}
			if status != tt.status || keepAlive != tt.keepAlive || n != int64(len(tt.in)-len(tt.rest)) {
				t.Errorf("readResponse = %d, %d bytes, keep-alive %v; want %d, %d, %v", status, n, keepAlive, tt.status, len(tt.in)-len(tt.rest), tt.keepAlive)
			}
			rest, _ := br.ReadString(0)
			if rest != tt.rest {
				t.Errorf("left %q unread; want %q", rest, tt.rest)
			}
		})
	}
}

func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nbody",
	} {
		f.Add(s, "GET")
	}
	f.Fuzz(func(t *testing.T, in, method string) {
		br := bufio.NewReaderSize(strings.NewReader(in), 64)
		status, n, _, err := readResponse(br, method)
		if n < 0 || n > int64(len(in)) {
			t.Fatalf("read %d bytes of %d", n, len(in))
		}
		if err == nil && (status < 100 || status > 999) {
			t.Fatalf("status %d without error", status)
		}
	})
}

func TestAccountsAndPlaceholders(t *testing.T) {
	s := substituter{accounts: []Account{{Name: "a", Token: "tok-a"}, {Name: "b", Token: "tok-b"}}}
	ph := "{{secret:0123456789abcdef}}"
	tests := []struct {
		name, v, user, header string
		check                 func(string) bool
	}{
		// A credential placeholder gets the user's account token.
		{"bearer", "Bearer " + ph, "u1", "Authorization", func(v string) bool { return v == "Bearer tok-a" || v == "Bearer tok-b" }},
		// Other placeholders get a stable per-user value.
		{"cookie", "sid=" + ph + "; theme=dark", "u1", "Cookie", func(v string) bool {
			return strings.HasPrefix(v, "sid=surge-") && strings.HasSuffix(v, "; theme=dark")
		}},
		// No placeholder: unchanged.
		{"plain", "text/html", "u1", "Accept", func(v string) bool { return v == "text/html" }},
	}
	for _, tt := range tests {
		if got := s.replace(tt.v, tt.user, tt.header); !tt.check(got) {
			t.Errorf("%s: replace(%q) = %q", tt.name, tt.v, got)
		}
	}
	if s.replace(ph, "u1", "") == s.replace(ph, "u2", "") {
		t.Error("two virtual users got the same cookie value")
	}
	if s.replace(ph, "u1", "") != s.replace(ph, "u1", "") {
		t.Error("a virtual user's value is not stable")
	}
}
