package replay

import (
	"io"
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
			// Whole, then a byte at a time, then in 7-byte pieces: the
			// poller sees responses cut anywhere.
			for _, piece := range []int{len(tt.in) + 1, 1, 7} {
				status, n, keepAlive, rest, err := parseResponse(tt.in, tt.method, piece)
				if (err != nil) != tt.bad {
					t.Fatalf("piece %d: parse(%q) error = %v; want error=%v", piece, tt.in, err, tt.bad)
				}
				if tt.bad {
					continue
				}
				if status != tt.status || keepAlive != tt.keepAlive || n != int64(len(tt.in)-len(tt.rest)) {
					t.Errorf("piece %d: parse = %d, %d bytes, keep-alive %v; want %d, %d, %v", piece, status, n, keepAlive, tt.status, len(tt.in)-len(tt.rest), tt.keepAlive)
				}
				if rest != tt.rest {
					t.Errorf("piece %d: left %q unread; want %q", piece, rest, tt.rest)
				}
			}
		})
	}
}

// parseResponse feeds in to a respParser in pieces of the given size, as a
// connection delivers them, then the end of the connection, and returns the
// first response and what is left after it.
func parseResponse(in, method string, piece int) (status int, n int64, keepAlive bool, rest string, err error) {
	var p respParser
	var buf []byte
	for off := 0; ; {
		end := min(off+piece, len(in))
		buf = append(buf, in[off:end]...)
		off = end
		used, done, err := p.feed(buf, method)
		buf = buf[used:]
		if err != nil {
			return 0, p.n, false, "", err
		}
		if done {
			return p.status, p.n, p.keepAlive, string(buf) + in[off:], nil
		}
		if off == len(in) {
			if p.eof() {
				return p.status, p.n, p.keepAlive, "", nil
			}
			return 0, p.n, false, "", io.ErrUnexpectedEOF
		}
	}
}

func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nbody",
	} {
		f.Add(s, "GET", uint8(3))
	}
	f.Fuzz(func(t *testing.T, in, method string, piece uint8) {
		// However the bytes are cut, the parser finds the same response.
		s1, n1, k1, r1, err1 := parseResponse(in, method, len(in)+1)
		s2, n2, k2, r2, err2 := parseResponse(in, method, int(piece)+1)
		if n1 < 0 || n1 > int64(len(in)) {
			t.Fatalf("consumed %d bytes of %d", n1, len(in))
		}
		if (err1 == nil) != (err2 == nil) || s1 != s2 || k1 != k2 || r1 != r2 || (err1 == nil && n1 != n2) {
			t.Fatalf("whole: %d %d %v %q %v; in pieces of %d: %d %d %v %q %v", s1, n1, k1, r1, err1, int(piece)+1, s2, n2, k2, r2, err2)
		}
		if err1 == nil && (s1 < 100 || s1 > 999) {
			t.Fatalf("status %d without error", s1)
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

// TestPathPlaceholders: a secret the scrubber found in a path segment is
// filled per virtual user like one in a header, escaped as a segment; a
// path without one is untouched.
func TestPathPlaceholders(t *testing.T) {
	ph := "{{secret:0123456789abcdef}}"
	s := substituter{secrets: map[string]string{}}
	tests := []struct {
		name, path string
		check      func(string) bool
	}{
		// A reset token in the path gets the user's stable value.
		{"token segment", "/reset/" + ph + "/confirm", func(p string) bool {
			return strings.HasPrefix(p, "/reset/surge-") && strings.HasSuffix(p, "/confirm") && !strings.Contains(p, "{{")
		}},
		// No placeholder: byte for byte as recorded.
		{"plain", "/promo/50%-off;v=1", func(p string) bool { return p == "/promo/50%-off;v=1" }},
	}
	for _, tt := range tests {
		if got := s.replacePath(tt.path, "u1"); !tt.check(got) {
			t.Errorf("%s: replacePath(%q) = %q", tt.name, tt.path, got)
		}
	}
	// A configured secret value holding '/' and '?' stays one segment.
	s.secrets[ph] = "a/b?c"
	if got, want := s.replacePath("/reset/"+ph, "u1"), "/reset/a%2Fb%3Fc"; got != want {
		t.Errorf("replacePath with a configured secret = %q; want %q", got, want)
	}
}
