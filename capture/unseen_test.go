package capture

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// New inputs of the field cases' kinds of fault, tried on every importer
// (the field cases themselves are in fieldcases_rows_test.go).

// unseenFormats are the line and file formats with a one-record input each
// whose path is /a.
var unseenFormats = []struct {
	name   string
	record string // one record, its path /a, ending in a newline
	header string // text a file of the format starts with (CloudFront)
	dec    func(r io.Reader, name string) (Decoder, error)
}{
	{"combined", `192.0.2.1 - - [21/Nov/2026:20:00:00 +0000] "GET /a HTTP/1.1" 200 1 "-" "curl/8"` + "\n", "",
		func(r io.Reader, name string) (Decoder, error) { return NewCombinedDecoder(r, name), nil }},
	{"nginx", `192.0.2.1 [21/Nov/2026:20:00:00 +0000] "GET /a HTTP/1.1" 200 0.010 a b c` + "\n", "",
		func(r io.Reader, name string) (Decoder, error) {
			return NewNginxDecoder(r, name, `$remote_addr [$time_local] "$request" $status $request_time $request_body`)
		}},
	{"apache", `192.0.2.1 - - [21/Nov/2026:20:00:00 +0000] "GET /a HTTP/1.1" 200 1 "-" "curl/8"` + "\n", "",
		func(r io.Reader, name string) (Decoder, error) { return NewApacheDecoder(r, name, "combined") }},
	{"alb", `http 2026-11-21T20:00:01.186641Z app/lb/50dc6c495c0c9188 192.0.2.39:2817 192.0.2.10:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/a HTTP/1.1" "curl/8.4.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2026-11-21T20:00:01.184000Z "forward" "-" "-" "192.0.2.10:80" "200" "-" "-"` + "\n", "",
		func(r io.Reader, name string) (Decoder, error) { return NewALBDecoder(r, name), nil }},
	{"cloudfront", "2026-11-21\t20:00:01\tIAD89-C3\t335\t192.0.2.159\tGET\td111111abcdef8.cloudfront.net\t/a\t200\t-\tcurl/8\t-\t-\tMiss\tid1\twww.example.com\thttps\t123\t0.338\n",
		"#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n",
		func(r io.Reader, name string) (Decoder, error) { return NewCloudFrontDecoder(r, name), nil }},
	{"envoy", `[2026-11-21T20:00:01.310Z] "GET /a HTTP/1.1" 200 - 0 2451 12 11 "-" "curl/8" "5f1a2b3c-9d8e-4f7a-8b6c-1d2e3f4a5b6c" "api.example.com" "192.0.2.17:8080"` + "\n", "",
		func(r io.Reader, name string) (Decoder, error) { return NewEnvoyDecoder(r, name), nil }},
	{"caddy", `{"level":"info","ts":1795291201.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"192.0.2.1","proto":"HTTP/1.1","method":"GET","host":"h","uri":"/a","headers":{}},"duration":0.01,"size":5,"status":200}` + "\n", "",
		func(r io.Reader, name string) (Decoder, error) { return NewCaddyDecoder(r, name), nil }},
	{"jsonl", `{"time":"2026-11-21T20:00:00Z","method":"GET","host":"h","path":"/a"}` + "\n", "",
		func(r io.Reader, name string) (Decoder, error) { return NewJSONLDecoder(r, name), nil }},
	{"gor", "1 a1 1795291200000000000 0\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n\n🐵🙈🙉\n", "",
		func(r io.Reader, name string) (Decoder, error) { return NewGorDecoder(r, name), nil }},
	{"har", `{"log":{"entries":[{"startedDateTime":"2026-11-21T20:00:00Z","time":1,"request":{"method":"GET","url":"http://h/a","headers":[]},"response":{"status":200}}]}}`, "",
		func(r io.Reader, name string) (Decoder, error) { return NewHARDecoder(r, name), nil }},
}

// decodeAll returns the paths of every hit of data, and the first error
// that is not a *RecordError.
func decodeAll(t *testing.T, newDec func(io.Reader, string) (Decoder, error), data []byte) (paths []string, bad int, err error) {
	t.Helper()
	dec, err := newDec(bytes.NewReader(data), "in.x")
	if err != nil {
		t.Fatal(err)
	}
	for {
		var h Hit
		err := dec(&h)
		var re *RecordError
		switch {
		case errors.Is(err, io.EOF):
			return paths, bad, nil
		case errors.As(err, &re):
			bad++
			if bad > 10 {
				return paths, bad, nil
			}
		case err != nil:
			return paths, bad, err
		case strings.Contains(h.Client+h.Exchange.Scheme+h.Exchange.Method, "\uFEFF"):
			t.Errorf("a byte-order mark in a field: client %q scheme %q method %q", h.Client, h.Exchange.Scheme, h.Exchange.Method)
		default:
			paths = append(paths, h.Exchange.Path)
		}
	}
}

// TestUnseenEncodings: encodings and marks the field cases did not have, on
// every importer: a BOM with Windows line ends, two files concatenated (a
// BOM at the start of a line inside the input), UTF-16 in both byte orders
// with and without a mark, UTF-32.
func TestUnseenEncodings(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	for _, f := range unseenFormats {
		file := f.header + f.record
		tests := []struct {
			comment string
			data    []byte
			paths   int    // hits with path /a
			enc     string // the EncodingError's encoding
		}{
			// A BOM and CRLF line ends (Notepad, PowerShell's Out-File).
			{"bom crlf", []byte(bom + crlf(file)), 1, ""},
			// UTF-16LE with its mark (PowerShell 5's default).
			{"utf-16le", utf16(file, []byte{0xFF, 0xFE}, false), 0, "UTF-16LE"},
			// UTF-16BE with its mark.
			{"utf-16be", utf16(file, []byte{0xFE, 0xFF}, true), 0, "UTF-16BE"},
			// UTF-16BE without a mark: NULs before ASCII characters.
			{"utf-16be without bom", utf16(file, nil, true), 0, "UTF-16BE"},
			// UTF-32LE with its mark.
			{"utf-32le", append([]byte{0xFF, 0xFE, 0, 0}, utf16(utf16str(file), nil, false)...), 0, "UTF-32LE"},
		}
		if f.name != "har" {
			// Two files concatenated (cat a.log b.log), the second with a BOM.
			tests = append(tests, struct {
				comment string
				data    []byte
				paths   int
				enc     string
			}{"concatenated with a bom", []byte(bom + file + bom + file), 2, ""})
		}
		for _, tt := range tests {
			paths, bad, err := decodeAll(t, f.dec, tt.data)
			var ee *EncodingError
			switch {
			case tt.enc == "" && (err != nil || len(paths) != tt.paths || bad != 0 || (len(paths) > 0 && paths[0] != "/a")):
				t.Errorf("%s %s: paths %q, %d bad, error %v; want %d of /a", f.name, tt.comment, paths, bad, err, tt.paths)
			case tt.enc != "" && (!errors.As(err, &ee) || !strings.HasPrefix(ee.Encoding, tt.enc[:6]) || !strings.Contains(err.Error(), "in.x")):
				t.Errorf("%s %s: error %v (%d hits, %d bad); want an EncodingError naming %s and in.x", f.name, tt.comment, err, len(paths), bad, tt.enc)
			}
		}
	}
}

// crlf turns s's bare line feeds into CRLF, as unix2dos and git's autocrlf do.
func crlf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b.WriteByte('\r')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// utf16str widens every byte of s to two (a second UTF-16 pass makes UTF-32).
func utf16str(s string) string { return string(utf16(s, nil, false)) }

// importUnseen imports one input as surge import does.
func importUnseen(t *testing.T, dec Decoder) ([]schema.Exchange, *Report) {
	t.Helper()
	var evs []schema.Exchange
	rep, err := Import(context.Background(), []Input{{Name: "in.x", Decode: dec}},
		Options{Scrub: ScrubConfig{Key: key}}, func(e *schema.Exchange) error {
			evs = append(evs, *e)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return evs, rep
}

// TestUnseenTunnels: long-lived connections and tunnels in the forms each
// source logs them. A 101 upgrade keeps its start and its lifetime in
// connection_ns (ALB: the upgrade's latency too, its processing times are
// the handshake's); a CONNECT is skipped by every importer with the same
// reason.
func TestUnseenTunnels(t *testing.T) {
	hour := int64(time.Hour)
	tests := []struct {
		comment string
		format  string
		in      string
		start   string // want the event's start; "" when it is skipped
		conn    int64  // want connection_ns
		latency bool   // want a latency
	}{
		// Apache %D of an hour on a 101: %t is the start already.
		{"apache 101", `%h %t "%r" %>s %b %D`, `192.0.2.1 [21/Nov/2026:20:00:00 +0000] "GET /ws HTTP/1.1" 101 0 3600000000`, "2026-11-21T20:00:00Z", hour, false},
		// Envoy's DURATION of an hour on a 101.
		{"envoy 101", "envoy", `[2026-11-21T20:00:01.310Z] "GET /ws HTTP/1.1" 101 - 0 2451 3600000 - "-" "curl/8" "5f1a2b3c" "example.com" "192.0.2.17:443"`, "2026-11-21T20:00:01.31Z", hour, false},
		// Caddy's duration of an hour on a 101: ts is the end.
		{"caddy 101", "caddy", `{"level":"info","ts":1795291200,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"192.0.2.1","proto":"HTTP/1.1","method":"GET","host":"h","uri":"/ws","headers":{"Upgrade":["websocket"]}},"duration":3600,"size":5,"status":101}`, "2026-11-21T19:00:00Z", hour, false},
		// An ALB wss entry written when the socket closed, an hour later.
		{"alb wss", "alb", `wss 2026-11-21T20:00:01.184000Z app/lb/50dc6c495c0c9188 192.0.2.39:2817 192.0.2.10:80 0.000 0.002 0.000 101 101 34 366 "GET https://www.example.com:443/ws HTTP/1.1" "curl/8.4.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2026-11-21T19:00:01.184000Z "forward" "-" "-" "192.0.2.10:80" "101" "-" "-"`, "2026-11-21T19:00:01.184Z", hour, true},
		// CONNECT in an nginx format with its tunnel's lifetime.
		{"nginx connect", `$remote_addr [$time_local] "$request" $status $request_time`, `192.0.2.1 [21/Nov/2026:20:00:00 +0000] "CONNECT example.com:443 HTTP/1.1" 200 3600.000`, "", 0, false},
		// CONNECT in Envoy's default format.
		{"envoy connect", "envoy", `[2026-11-21T20:00:01.310Z] "CONNECT example.com:443 HTTP/1.1" 200 - 0 2451 3600000 - "-" "curl/8" "5f1a2b3c" "example.com:443" "192.0.2.17:443"`, "", 0, false},
		// CONNECT in Caddy's JSON (uri is the authority).
		{"caddy connect", "caddy", `{"level":"info","ts":1795291201.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"192.0.2.1","proto":"HTTP/1.1","method":"CONNECT","host":"example.com:443","uri":"example.com:443","headers":{}},"duration":3600,"size":5,"status":200}`, "", 0, false},
		// CONNECT in surge's JSON lines.
		{"jsonl connect", "jsonl", `{"time":"2026-11-21T20:00:00Z","method":"CONNECT","host":"example.com:443","path":"/"}`, "", 0, false},
		// CONNECT in a GoReplay file.
		{"gor connect", "gor", "1 a1 1795291200000000000 0\nCONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\n🐵🙈🙉\n", "", 0, false},
	}
	for _, tt := range tests {
		var dec Decoder
		var err error
		r := strings.NewReader(tt.in + "\n")
		switch tt.format {
		case "envoy":
			dec = NewEnvoyDecoder(r, "in.x")
		case "caddy":
			dec = NewCaddyDecoder(r, "in.x")
		case "alb":
			dec = NewALBDecoder(r, "in.x")
		case "jsonl":
			dec = NewJSONLDecoder(r, "in.x")
		case "gor":
			dec = NewGorDecoder(r, "in.x")
		default:
			if strings.HasPrefix(tt.format, "%") {
				dec, err = NewApacheDecoder(r, "in.x", tt.format)
			} else {
				dec, err = NewNginxDecoder(r, "in.x", tt.format)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		evs, rep := importUnseen(t, dec)
		if tt.start == "" {
			if len(evs) != 0 || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Reason, "CONNECT (a proxy tunnel to") {
				t.Errorf("%s: %d events, problems %v; want it skipped as a tunnel", tt.comment, len(evs), rep.Problems)
			}
			continue
		}
		if len(evs) != 1 {
			t.Errorf("%s: %d events %v; want 1", tt.comment, len(evs), rep.Problems)
			continue
		}
		e := evs[0]
		if !e.Time.Equal(utc(t, tt.start)) || e.ConnectionNS == nil || *e.ConnectionNS != tt.conn || (e.LatencyNS != nil) != tt.latency || e.Protocol != schema.ProtoWebSocket {
			t.Errorf("%s: start %v connection %v latency %v %s; want %s, %v, latency %v, WebSocket", tt.comment, e.Time, ptrTest(e.ConnectionNS), ptrTest(e.LatencyNS), e.Protocol, tt.start, tt.conn, tt.latency)
		}
	}
}

func ptrTest(p *int64) any {
	if p == nil {
		return nil
	}
	return time.Duration(*p)
}

// TestUnseenStructures: a HAR whose pages' entries interleave in time is one
// session per page, each in order; a GoReplay payload with three requests
// glued together gives all three, each body exactly its Content-Length.
func TestUnseenStructures(t *testing.T) {
	entry := func(page, at, path string) string {
		return `{"pageref":"` + page + `","startedDateTime":"2026-11-21T20:00:0` + at + `.000Z","time":5,"request":{"method":"GET","url":"https://h.example/` + path + `","headers":[{"name":"User-Agent","value":"ua-` + page + `"}]},"response":{"status":200}}`
	}
	har := `{"log":{"pages":[{"id":"page_1"},{"id":"page_2"}],"entries":[` +
		entry("page_1", "1", "p1a") + "," + entry("page_2", "2", "p2a") + "," + entry("page_1", "3", "p1b") + "," + entry("page_2", "4", "p2b") + `]}}`
	evs, rep := importUnseen(t, NewHARDecoder(strings.NewReader(har), "in.har"))
	if len(evs) != 4 || rep.Sessions != 2 {
		t.Fatalf("HAR: %d events, %d sessions; want 4 in 2 sessions", len(evs), rep.Sessions)
	}
	bySession := map[string][]string{}
	for _, e := range evs {
		bySession[e.Session] = append(bySession[e.Session], e.Path)
	}
	for _, paths := range bySession {
		if len(paths) != 2 || paths[0][:3] != paths[1][:3] || paths[0] > paths[1] {
			t.Errorf("HAR sessions %v; want one per page, in order", bySession)
			break
		}
	}

	glued := "1 a1 1795291200000000000 0\n" +
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" +
		"GET /b HTTP/1.1\r\nHost: h\r\n\r\n" +
		"POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy" +
		"\n🐵🙈🙉\n" +
		"2 a1 1795291200012000000 0\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\n🐵🙈🙉\n"
	evs, rep = importUnseen(t, NewGorDecoder(strings.NewReader(glued), "in.gor"))
	var got []string
	for _, e := range evs {
		got = append(got, e.Path+":"+string(e.Body))
	}
	if strings.Join(got, " ") != "/a:abc /b: /c:xy" || rep.Skipped != 0 {
		t.Errorf("gor glued: %q, %d skipped; want /a:abc /b: /c:xy", got, rep.Skipped)
	}
	if evs[0].StatusCode() != 200 {
		t.Errorf("gor glued: the first request's status %d; want its response's 200", evs[0].StatusCode())
	}
}

// TestScrubTextLayers: secrets behind escaping or inside a nested URL are
// found, in excerpts (Text) and in query values (query1).
func TestScrubTextLayers(t *testing.T) {
	s := NewScrubber(ScrubConfig{Key: key})
	tests := []struct {
		comment, in string
		query       bool // scrub as a query, not as text
	}{
		// nginx's \x22 quotes around a JSON body at depth 4 in an excerpt.
		{"nginx-escaped json", `$request: not an HTTP version: "POST /x HTTP/9.9" 200 "{\x22a\x22:{\x22b\x22:{\x22c\x22:{\x22password\x22:\x22SECRETd4\x22}}}}"`, false},
		// JSON's \u0022 quotes.
		{"json-escaped quotes", `{\u0022password\u0022:\u0022SECRETu\u0022}`, false},
		// A percent-encoded redirect URL in a Referer.
		{"encoded redirect", `https://x.example/login?next=%2Fcb%3Ftoken%3DSECRETnext%26a%3D1`, false},
		// Encoded twice.
		{"encoded twice", `next=%252Fcb%253Ftoken%253DSECRETdbl`, false},
		// A percent-encoded redirect URL as a query value.
		{"encoded redirect in a query", `a=1&next=%2Fcb%3Ftoken%3DSECRETq&b=2`, true},
		// An unencoded nested URL as a query value (CloudFront decodes).
		{"nested url in a query", `next=/cb?token=SECRETn&a=1`, true},
	}
	for _, tt := range tests {
		got := s.Text(tt.in)
		if tt.query {
			got = s.query1(tt.in)
		}
		if strings.Contains(got, "SECRET") || !strings.Contains(got, "secret") {
			t.Errorf("%s: %q → %q; want the secret replaced by a placeholder", tt.comment, tt.in, got)
		}
	}
	// Text without escapes or secrets is returned as it is.
	for _, in := range []string{"Mozilla/5.0 (X11) 100%25 sure", "/a%20b?c=d%2Fe"} {
		if got := s.Text(in); got != in {
			t.Errorf("Text(%q) = %q; want it unchanged", in, got)
		}
	}
}

// addUnseenSeeds adds to a fuzz target of one input format (a name of
// unseenFormats) its unseen record in the shapes TestUnseenEncodings tries,
// and every field case file whatever its format: inputs a user may point
// any importer at.
func addUnseenSeeds(f *testing.F, format string) {
	for _, u := range unseenFormats {
		if u.name != format {
			continue
		}
		file := u.header + u.record
		f.Add([]byte(file))
		f.Add([]byte("\xEF\xBB\xBF" + crlf(file)))
		f.Add([]byte("\xEF\xBB\xBF" + file + "\xEF\xBB\xBF" + file))
		f.Add(utf16(file, []byte{0xFE, 0xFF}, true))
	}
	files, err := filepath.Glob("testdata/field-cases/*.*")
	if err != nil || len(files) == 0 {
		f.Fatalf("no field cases (%v)", err)
	}
	for _, file := range files {
		if strings.Contains(file, "very-long") || strings.HasSuffix(file, ".md") {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// TestScrubCleanCache: header values found clean are remembered (bounded)
// and not scanned again; a value holding a secret is replaced every time.
func TestScrubCleanCache(t *testing.T) {
	s := NewScrubber(ScrubConfig{Key: key})
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlMDAx"
	for range 3 {
		e := schema.Exchange{Headers: []schema.Header{{Name: "User-Agent", Value: "curl/8"}, {Name: "X-Debug", Value: "ctx " + jwt}}}
		s.Exchange(&e)
		if e.Headers[0].Value != "curl/8" || strings.Contains(e.Headers[1].Value, jwt) {
			t.Fatalf("headers %v; want the agent kept and the JWT replaced", e.Headers)
		}
	}
	if _, ok := s.clean["curl/8"]; !ok || len(s.clean) != 1 {
		t.Errorf("clean set %v; want only the agent", s.clean)
	}
	for i := range cleanLimit + 10 {
		e := schema.Exchange{Headers: []schema.Header{{Name: "User-Agent", Value: "agent/" + strconv.Itoa(i)}}}
		s.Exchange(&e)
	}
	if len(s.clean) > cleanLimit {
		t.Errorf("clean set holds %d values; want at most %d", len(s.clean), cleanLimit)
	}
}
