package capture

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/surge-replay/surge/schema"
)

// TestEncodings feeds every importer the same record with a UTF-8
// byte-order mark (skipped), in UTF-16 (refused, naming the encoding and the
// file) and after copytruncate's NULs (skipped).
func TestEncodings(t *testing.T) {
	inputs := map[string]string{
		"combined": `192.0.2.1 - - [21/Nov/2026:20:00:00 +0000] "GET /a HTTP/1.1" 200 1 "-" "curl/8"` + "\n",
		"gor":      "1 a 1795291200000000000 0\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n\n🐵🙈🙉\n",
		"har":      `{"log":{"entries":[{"startedDateTime":"2026-11-21T20:00:00Z","time":1,"request":{"method":"GET","url":"http://h/a","headers":[]},"response":{"status":200}}]}}`,
		"jsonl":    `{"time":"2026-11-21T20:00:00Z","method":"GET","host":"h","path":"/a"}` + "\n",
	}
	decoders := map[string]func(io.Reader, string) Decoder{
		"combined": NewCombinedDecoder, "gor": NewGorDecoder, "har": NewHARDecoder, "jsonl": NewJSONLDecoder,
	}
	for format, in := range inputs {
		tests := []struct {
			comment string
			data    []byte
			enc     string // the EncodingError's encoding, or "" for one hit /a
		}{
			// A UTF-8 byte-order mark, as Windows tools write.
			{"utf-8 bom", append([]byte("\xEF\xBB\xBF"), in...), ""},
			// UTF-16 little endian with its mark.
			{"utf-16le", utf16(in, []byte{0xFF, 0xFE}, false), "UTF-16LE"},
			// UTF-16 big endian with its mark.
			{"utf-16be", utf16(in, []byte{0xFE, 0xFF}, true), "UTF-16BE"},
			// UTF-16 without a mark: NULs between ASCII characters.
			{"utf-16le without bom", utf16(in, nil, false), "UTF-16LE"},
		}
		if format != "har" {
			// copytruncate's NULs before the first line.
			tests = append(tests, struct {
				comment string
				data    []byte
				enc     string
			}{"nul prefix", append(bytes.Repeat([]byte{0}, 300), in...), ""})
		}
		for _, tt := range tests {
			var h Hit
			err := decoders[format](bytes.NewReader(tt.data), "in.x")(&h)
			var ee *EncodingError
			switch {
			case tt.enc == "" && (err != nil || h.Exchange.Path != "/a"):
				t.Errorf("%s %s: decode = %q, %v; want /a", format, tt.comment, h.Exchange.Path, err)
			case tt.enc != "" && (!errors.As(err, &ee) || ee.Encoding != tt.enc || !strings.Contains(err.Error(), "in.x") || !strings.Contains(err.Error(), tt.enc)):
				t.Errorf("%s %s: decode error %v; want an EncodingError naming %s and in.x", format, tt.comment, err, tt.enc)
			}
		}
	}
	// Views CSV: the header row after a mark; a UTF-16 file refused.
	if _, err := NewViewsCSVDecoder(bytes.NewReader(utf16("user,content,type,time\n", []byte{0xFF, 0xFE}, false)), "v.csv"); err == nil || !strings.Contains(err.Error(), "UTF-16LE") {
		t.Errorf("views CSV in UTF-16: error %v; want one naming UTF-16LE", err)
	}
	var v schema.ViewingEvent
	var pos Position
	dec := NewViewsJSONLDecoder(strings.NewReader("\xEF\xBB\xBF"+`{"time":"2026-11-21T20:00:00Z","user":"u","content":"c","type":"start"}`+"\n"), "v.jsonl")
	if err := dec(&v, &pos); err != nil || v.Content != "c" || pos.Offset != 3 {
		t.Errorf("views JSONL after a BOM: %v at %v; want content c at offset 3", err, pos)
	}
}

// utf16 encodes ASCII s as UTF-16 after mark.
func utf16(s string, mark []byte, bigEndian bool) []byte {
	b := append([]byte{}, mark...)
	for i := 0; i < len(s); i++ {
		if bigEndian {
			b = append(b, 0, s[i])
		} else {
			b = append(b, s[i], 0)
		}
	}
	return b
}
