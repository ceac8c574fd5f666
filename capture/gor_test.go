package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func decodeGor(t testing.TB, data []byte, name string) []decodeResult {
	return drainHits(t, NewGorDecoder(bytes.NewReader(data), name), name, len(data))
}

// gorFile joins payloads as GoReplay writes them; "\n" in an HTTP message
// becomes "\r\n" when crlf is set.
func gorFile(crlf bool, payloads ...string) string {
	var b strings.Builder
	for _, p := range payloads {
		meta, msg, _ := strings.Cut(p, "\n")
		if crlf {
			msg = strings.ReplaceAll(msg, "\n", "\r\n")
		}
		b.WriteString(meta + "\n" + msg + "\n" + gorSeparator + "\n")
	}
	return b.String()
}

func TestGorGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/gor/*.gor", decodeGor)
}

func TestGorTruncated(t *testing.T) {
	testTruncations(t, "testdata/gor/*.gor", decodeGor, func(t *testing.T, data []byte, n int, got []decodeResult) {
		if _, _, fatal := countResults(got); fatal != 0 {
			t.Errorf(".gor cut to %d of %d bytes: %d fatal errors; want 0 (a cut payload is a bad record)", n, len(data), fatal)
		}
	})
}

func TestParseGorMeta(t *testing.T) {
	tests := []struct {
		comment string
		line    string
		want    gorMeta
		field   string // of the RecordError, when one is expected
	}{
		{"a request as GoReplay writes it", "1 8f2c0001 1741940813588000000 -1", gorMeta{"1", "8f2c0001", 1741940813588000000, false}, ""},
		{"a response with its capture span (1.x), not a latency", "2 8f2c0001 1741940813611000000 23415000", gorMeta{"2", "8f2c0001", 1741940813611000000, false}, ""},
		{"no span field", "2 8f2c0001 1741940813611000000", gorMeta{"2", "8f2c0001", 1741940813611000000, true}, ""},
		{"GoReplay 0.x: the third field of a response may be its latency", "2 8f2c0001 458922218", gorMeta{"2", "8f2c0001", 458922218, true}, ""},
		{"a replayed response", "3 8f2c0001 1741940813611000000 5", gorMeta{"3", "8f2c0001", 1741940813611000000, false}, ""},
		{"a CR before the line ending", "1 8f2c0001 1741940813588000000 -1\r", gorMeta{"1", "8f2c0001", 1741940813588000000, false}, ""},
		{"unknown type", "4 8f2c0001 1741940813588000000", gorMeta{}, "meta.type"},
		{"timestamp not a number", "1 8f2c0001 yesterday", gorMeta{}, "meta.timestamp"},
		{"timestamp zero", "1 8f2c0001 0", gorMeta{}, "meta.timestamp"},
		{"span not a number", "2 8f2c0001 1741940813588000000 soon", gorMeta{}, "meta.span"},
		{"too few fields", "1 8f2c0001", gorMeta{}, "meta"},
		{"too many fields", "1 8f2c0001 1 2 3", gorMeta{}, "meta"},
		{"an HTTP line where the meta belongs", "GET / HTTP/1.1", gorMeta{}, "meta.type"},
	}
	for _, tt := range tests {
		got, rerr := parseGorMeta(tt.line)
		switch {
		case tt.field != "":
			if rerr == nil || rerr.Field != tt.field {
				t.Errorf("%s: parseGorMeta(%q) error = %v; want one on field %s", tt.comment, tt.line, rerr, tt.field)
			}
		case rerr != nil || got != tt.want:
			t.Errorf("%s: parseGorMeta(%q) = %+v, %v; want %+v", tt.comment, tt.line, got, rerr, tt.want)
		}
	}
}

func TestParseGorRequest(t *testing.T) {
	tests := []struct {
		comment string
		msg     string // "\n" becomes "\r\n"
		want    string // "METHOD scheme://host/path?query proto body-size truncated client"
		field   string // of the RecordError, when one is expected
	}{
		{"a GET", "GET /a?b=1 HTTP/1.1\nHost: h\n\n", "GET http://h/a?b=1 HTTP/1.1 0 false ", ""},
		{"the body is cut at Content-Length", "POST /p HTTP/1.1\nHost: h\nContent-Length: 3\n\nabcdef", "POST http://h/p HTTP/1.1 3 false ", ""},
		{"Content-Length beyond the recorded bytes marks the body truncated", "POST /p HTTP/1.1\nHost: h\nContent-Length: 10\n\nabc", "POST http://h/p HTTP/1.1 10 true ", ""},
		{"a chunked body is decoded", "POST /p HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n2\nde\n0\n\n", "POST http://h/p HTTP/1.1 5 false ", ""},
		{"no Content-Length: no body", "GET / HTTP/1.1\nHost: h\n\nleftover", "GET http://h/ HTTP/1.1 0 false ", ""},
		{"an absolute target wins over Host", "GET https://a.example/x%20y HTTP/1.1\nHost: b.example\n\n", "GET https://a.example/x%20y HTTP/1.1 0 false ", ""},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\nHost: h\n\n", "OPTIONS http://h* HTTP/1.1 0 false ", ""},
		{"the first X-Forwarded-For address is the client", "GET / HTTP/1.1\nHost: h\nX-Forwarded-For: 203.0.113.7 , 10.0.0.1\n\n", "GET http://h/ HTTP/1.1 0 false 203.0.113.7", ""},
		{"else X-Real-IP", "GET / HTTP/1.1\nHost: h\nX-Real-IP: 198.51.100.1\n\n", "GET http://h/ HTTP/1.1 0 false 198.51.100.1", ""},
		{"a WebSocket upgrade", "GET /ws HTTP/1.1\nHost: h\nUpgrade: WebSocket\nConnection: Upgrade\n\n", "GET http://h/ws WebSocket 0 false ", ""},
		{"LF line endings are accepted", "GET / HTTP/1.0\nHost: h\n\n", "GET http://h/ HTTP/1.0 0 false ", ""},
		{"HTTP/1.0 without Host", "GET / HTTP/1.0\n\n", "", "host"},
		{"HTTP/2 preface", "PRI * HTTP/2.0\n\nSM\n\n", "", "proto"},
		{"a space in the target", "GET /a b HTTP/1.1\nHost: h\n\n", "", "request"},
		{"a CONNECT (a tunnel, as every importer says)", "CONNECT h:443 HTTP/1.1\nHost: h\n\n", "", "method"},
		{"an authority-form target", "GET h:443 HTTP/1.1\nHost: h\n\n", "", "target"},
		{"no blank line after the headers", "GET / HTTP/1.1\nHost: h\n", "", "headers"},
		{"a header line without colon", "GET / HTTP/1.1\nHost: h\nnonsense\n\n", "", "headers[1]"},
		{"two different Content-Lengths", "POST / HTTP/1.1\nHost: h\nContent-Length: 1\nContent-Length: 2\n\nab", "", "body"},
		{"broken chunked coding", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\nzz\nabc\n", "", "body"},
		{"a method that is not a token", "G(T / HTTP/1.1\nHost: h\n\n", "", "method"},
		{"empty message", "", "", "request"},
	}
	for _, tt := range tests {
		var h Hit
		rerr := parseGorRequest([]byte(strings.ReplaceAll(tt.msg, "\n", "\r\n")), 1741940813588000000, &h)
		if tt.field != "" {
			if rerr == nil || rerr.Field != tt.field {
				t.Errorf("%s: parseGorRequest(%q) error = %v; want one on field %s", tt.comment, tt.msg, rerr, tt.field)
			}
			continue
		}
		if rerr != nil {
			t.Errorf("%s: parseGorRequest(%q) error = %v; want none", tt.comment, tt.msg, rerr)
			continue
		}
		e := &h.Exchange
		got := fmt.Sprintf("%s %s://%s%s", e.Method, e.Scheme, e.Host, e.Path)
		if e.Query != "" {
			got += "?" + e.Query
		}
		got += fmt.Sprintf(" %s %d %v %s", e.Protocol, e.BodySize, e.BodyTruncated, h.Client)
		if got != tt.want {
			t.Errorf("%s: parseGorRequest(%q) = %q; want %q", tt.comment, tt.msg, got, tt.want)
		}
	}
}

func TestGorPairing(t *testing.T) {
	tests := []struct {
		comment  string
		payloads []string
		want     []string // per hit: "path status response-bytes latency-ns"
	}{
		{
			"responses out of order: requests still come out in file order",
			[]string{
				"1 a 1000000000 -1\nGET /a HTTP/1.1\nHost: h\n\n",
				"1 b 1000000100 -1\nGET /b HTTP/1.1\nHost: h\n\n",
				"2 b 1000000300 250\nHTTP/1.1 404 Not Found\nContent-Length: 9\n\nnot found",
				"2 a 1000000400 400\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok",
			},
			[]string{"/a 200 2 400", "/b 404 9 200"}, // the 4th field (a span) is not the latency
		},
		{
			"GoReplay 0.x: a three-field response meta carries the latency",
			[]string{
				"1 a 1469496083197538395\nGET /a HTTP/1.1\nHost: h\n\n",
				"2 a 458922218\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok",
			},
			[]string{"/a 200 2 458922218"},
		},
		{
			"a response before its request (two clocks): latency unknown, never negative",
			[]string{
				"1 a 1000000900 0\nGET /a HTTP/1.1\nHost: h\n\n",
				"2 a 1000000700 0\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok",
			},
			[]string{"/a 200 2 -"},
		},
		{
			"a request glued after another in one payload is the next request",
			[]string{
				"1 a 1000000000 0\nPOST /a HTTP/1.1\nHost: h\nContent-Length: 2\n\nokGET /b HTTP/1.1\nHost: h\n\n",
				"2 a 1000000700 0\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok",
			},
			[]string{"/a 200 2 700", "/b - - -"},
		},
		{
			"a chunked request body, then a glued request",
			[]string{
				"1 a 1000000000 0\nPOST /a HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n2\nok\n0\n\nGET /b HTTP/1.1\nHost: h\n\n",
			},
			[]string{"/a - - -", "/b - - -"},
		},
		{
			"no meta latency: response minus request timestamp; no length: body length",
			[]string{
				"1 a 1000000000 -1\nGET /a HTTP/1.1\nHost: h\n\n",
				"2 a 1000000700\nHTTP/1.1 200 OK\nConnection: close\n\nhello",
			},
			[]string{"/a 200 5 700"},
		},
		{
			"a chunked response counts its decoded bytes",
			[]string{
				"1 a 1000000000 -1\nGET /a HTTP/1.1\nHost: h\n\n",
				"2 a 1000000700 10\nHTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n",
			},
			[]string{"/a 200 3 700"},
		},
		{
			"replayed responses, orphan responses and a second response are ignored",
			[]string{
				"2 z 1000000000 5\nHTTP/1.1 200 OK\n\n",
				"1 a 1000000000 -1\nGET /a HTTP/1.1\nHost: h\n\n",
				"3 a 1000000100 5\nHTTP/1.1 500 Oops\n\n",
				"2 a 1000000200 7\nHTTP/1.1 201 Created\nContent-Length: 0\n\n",
				"2 a 1000000300 9\nHTTP/1.1 202 Accepted\nContent-Length: 0\n\n",
			},
			[]string{"/a 201 0 200"},
		},
		{
			"a request without response comes out at the end, without response facts",
			[]string{
				"1 a 1000000000 -1\nGET /a HTTP/1.1\nHost: h\n\n",
				"1 b 1000000100 -1\nGET /b HTTP/1.1\nHost: h\n\n",
				"2 b 1000000300 1\nHTTP/1.1 204 No Content\n\n",
			},
			[]string{"/a - - -", "/b 204 0 200"},
		},
	}
	for _, tt := range tests {
		data := []byte(gorFile(true, tt.payloads...))
		var got []string
		for _, r := range decodeGor(t, data, "pair.gor") {
			if r.Exchange == nil {
				t.Errorf("%s: %s%s; want no errors", tt.comment, r.Error, r.Fatal)
				continue
			}
			got = append(got, fmt.Sprintf("%s %s %s %s", r.Exchange.Path, ptrString(r.Exchange.Status), ptrString(r.Exchange.ResponseBytes), ptrString(r.Exchange.LatencyNS)))
		}
		if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
			t.Errorf("%s: decode = %q; want %q", tt.comment, got, tt.want)
		}
	}
}

// ptrString prints *p, or "-" for nil.
func ptrString[T any](p *T) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// TestGorPendingBound checks that requests without responses do not pile up:
// the oldest comes out once more than gorMaxPending wait, long before the
// end of the input (which here is an error).
func TestGorPendingBound(t *testing.T) {
	var b strings.Builder
	for i := range gorMaxPending + 100 {
		fmt.Fprintf(&b, "1 id%d %d -1\nGET /%d HTTP/1.1\r\nHost: h\r\n\r\n\n%s\n", i, 1000000000+i, i, gorSeparator)
	}
	tooFar := errors.New("read past the pending bound")
	dec := NewGorDecoder(io.MultiReader(strings.NewReader(b.String()), errReader{tooFar}), "many.gor")
	var h Hit
	if err := dec(&h); err != nil || h.Exchange.Path != "/0" || h.Exchange.Status != nil {
		t.Fatalf("first dec = %v, path %q, status %v; want /0 without status before the end", err, h.Exchange.Path, h.Exchange.Status)
	}
	if err := dec(&h); err != nil || h.Exchange.Path != "/1" {
		t.Errorf("second dec = %v, path %q; want /1", err, h.Exchange.Path)
	}
}

// errReader fails every read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestGorPayloadTooLarge(t *testing.T) {
	huge := "1 big 1000000000 -1\nPOST /big HTTP/1.1\nHost: h\nContent-Length: 9437184\n\n" + strings.Repeat(strings.Repeat("a", 1023)+"\n", 9<<10)
	data := gorFile(false, huge, "1 next 1000000001 -1\nGET /next HTTP/1.1\nHost: h\n\n")
	got := decodeGor(t, []byte(data), "huge.gor")
	if len(got) != 2 || !strings.Contains(got[0].Error, "huge.gor:1 (offset 0): payload: larger than 8 MiB") || got[1].Exchange == nil || got[1].Exchange.Path != "/next" {
		t.Fatalf("decode(a 9 MiB payload, a request) = %+v; want a payload RecordError then /next", got)
	}
	if want := fmt.Sprintf("huge.gor:%d", 9<<10+8); !strings.HasPrefix(got[1].Pos, want+" ") {
		t.Errorf("position after the skipped payload = %s; want line %s", got[1].Pos, want)
	}
}

func TestGorSeparatorLine(t *testing.T) {
	tests := []struct {
		comment, line string
		want          bool
	}{
		{"the separator line", gorSeparator + "\n", true},
		{"with CRLF", gorSeparator + "\r\n", true},
		{"at the end of the file", gorSeparator, true},
		{"inside a line", "x" + gorSeparator + "\n", false},
		{"followed by text", gorSeparator + " \n", false},
		{"empty line", "\n", false},
	}
	for _, tt := range tests {
		if got := isGorSeparator([]byte(tt.line)); got != tt.want {
			t.Errorf("%s: isGorSeparator(%q) = %v; want %v", tt.comment, tt.line, got, tt.want)
		}
	}
}

func FuzzGorDecode(f *testing.F) {
	addSeeds(f, "testdata/gor/*.gor")
	addUnseenSeeds(f, "gor") // the field cases too
	f.Add([]byte(gorFile(true, "1 a 1 -1\nGET / HTTP/1.1\nHost: h\n\n", "2 a 2 1\nHTTP/1.1 200 OK\n\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range decodeGor(t, data, "fuzz.gor") {
			if r.Exchange != nil && r.Exchange.Source != "gor" {
				t.Errorf("Source = %q; want gor", r.Exchange.Source)
			}
		}
	})
}
